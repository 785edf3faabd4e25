"""18.0.4.1.0, after the module is upgraded: counters move from the model lines to ranges.

A range now keeps what was counted in it (each job its own row), and a line is the sum of
its ranges. What a line counted so far goes to its range from 0 (every line has one since
18.0.4.0.0; made here if not), so that a run resumed, retried or summed again after the
upgrade keeps its counts.
"""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def tally_columns(cr):
    """The counters and seconds a range and a line both keep."""
    tally = api.Environment(cr, SUPERUSER_ID, {})["migration.run.tally"]
    return [name for name in tally._fields if name.endswith(("_count", "seconds"))]


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        INSERT INTO migration_run_range
               (run_id, source_model, first_id, last_id, checkpoint, state,
                create_uid, write_uid, create_date, write_date)
        SELECT line.run_id, line.source_model, 0, 0, 0,
               CASE line.state WHEN 'done' THEN 'done' ELSE 'pending' END,
               line.create_uid, line.write_uid, line.create_date, line.write_date
          FROM migration_run_model line
         WHERE NOT EXISTS (SELECT 1 FROM migration_run_range r
                            WHERE r.run_id = line.run_id
                              AND r.source_model = line.source_model AND r.first_id = 0)
        """
    )
    if cr.rowcount:
        _logger.info("remote_data_migration: %s model lines given a range from 0", cr.rowcount)
    columns = tally_columns(cr)
    # each line's totals on its range from 0; the other ranges' columns are new: 0
    cr.execute(
        "UPDATE migration_run_range r SET {} FROM migration_run_model line"  # noqa: S608
        " WHERE r.run_id = line.run_id AND r.source_model = line.source_model"
        " AND r.first_id = 0".format(
            ", ".join(f"{column} = COALESCE(line.{column}, 0)" for column in columns)
        )
    )
    _logger.info("remote_data_migration: the counters of %s model lines moved", cr.rowcount)
