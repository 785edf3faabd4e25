"""18.0.4.0.0, once every module is upgraded: the columns the post script moved are dropped.

``migration_run.since`` (now per model line) and ``migration_run_model.checkpoint`` (now per
id range). Each is dropped only when every value it held is where it went.
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    if column_exists(cr, "migration_run_model", "checkpoint"):
        cr.execute(
            "SELECT count(*) FROM migration_run_model line WHERE COALESCE(line.checkpoint, 0) <> 0"
            " AND NOT EXISTS (SELECT 1 FROM migration_run_range r WHERE r.run_id = line.run_id"
            " AND r.source_model = line.source_model AND r.checkpoint = line.checkpoint)"
        )
        left = cr.fetchone()[0]
        if left:
            _logger.warning(
                "remote_data_migration: %s checkpoints were not moved to their ranges:"
                " migration_run_model.checkpoint is kept",
                left,
            )
        else:
            cr.execute("ALTER TABLE migration_run_model DROP COLUMN checkpoint")
            _logger.info("remote_data_migration: migration_run_model.checkpoint dropped")
    if column_exists(cr, "migration_run", "since"):
        cr.execute(
            "SELECT count(*) FROM migration_run run WHERE run.since IS NOT NULL AND EXISTS"
            " (SELECT 1 FROM migration_run_model line WHERE line.run_id = run.id"
            " AND line.since IS DISTINCT FROM run.since)"
        )
        if cr.fetchone()[0]:
            _logger.warning(
                "remote_data_migration: migration_run.since is kept: not every line has it"
            )
        else:
            cr.execute("ALTER TABLE migration_run DROP COLUMN since")
            _logger.info("remote_data_migration: migration_run.since dropped")
