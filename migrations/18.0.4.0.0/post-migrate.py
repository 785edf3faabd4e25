"""18.0.4.0.0, after the module is upgraded: runs account for every record.

- Each model line gets one id range, from 0 with no end, holding the checkpoint the line
  kept (checkpoints are per model and range now).
- Lines that a failed or cancelled run left "running" or "pending" are "stopped".
- The incremental start point moves from the run to its model lines: a line of a clean run
  starts the next incremental run of its model where the run did (its start, on the
  target's clock: the best these runs knew); each line keeps the start point it ran with.
(The runs' new columns are filled by the pre script.)
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    if column_exists(cr, "migration_run_model", "checkpoint"):
        cr.execute(
            """
            INSERT INTO migration_run_range
                   (run_id, source_model, first_id, last_id, checkpoint, state,
                    create_uid, write_uid, create_date, write_date)
            SELECT line.run_id, line.source_model, 0, 0, COALESCE(line.checkpoint, 0),
                   CASE line.state WHEN 'done' THEN 'done' WHEN 'running' THEN 'running'
                        ELSE 'pending' END,
                   line.create_uid, line.write_uid, line.create_date, line.write_date
              FROM migration_run_model line
             WHERE NOT EXISTS (SELECT 1 FROM migration_run_range r
                                WHERE r.run_id = line.run_id
                                  AND r.source_model = line.source_model)
            """
        )
        _logger.info("remote_data_migration: %s model lines given their id range", cr.rowcount)
    cr.execute(
        """
        UPDATE migration_run_model line SET state = 'stopped'
          FROM migration_run run
         WHERE run.id = line.run_id AND run.state IN ('failed', 'cancelled')
           AND line.state IN ('running', 'pending')
        """
    )
    _logger.info("remote_data_migration: %s lines of ended runs marked stopped", cr.rowcount)
    if column_exists(cr, "migration_run", "since"):
        cr.execute(
            "UPDATE migration_run_model line SET since = run.since FROM migration_run run"
            " WHERE run.id = line.run_id AND run.since IS NOT NULL AND line.since IS NULL"
        )
    cr.execute(
        """
        UPDATE migration_run_model line SET next_since = run.started_at
          FROM migration_run run
         WHERE run.id = line.run_id AND run.clean AND line.state = 'done'
           AND line.next_since IS NULL
        """
    )
    _logger.info("remote_data_migration: %s lines keep their incremental start", cr.rowcount)
