"""18.0.4.1.0, once every module is upgraded: every model line is the sum of its ranges, as
runs now make it; said in the log when one is not (its counts would change at its next
resume or retry)."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    tally = api.Environment(cr, SUPERUSER_ID, {})["migration.run.tally"]
    columns = [name for name in tally._fields if name.endswith(("_count", "seconds"))]
    cr.execute(
        "SELECT count(*) FROM migration_run_model line LEFT JOIN"  # noqa: S608
        " (SELECT run_id, source_model, {} FROM migration_run_range"
        " GROUP BY run_id, source_model) sums"
        " ON sums.run_id = line.run_id AND sums.source_model = line.source_model"
        " WHERE ({}) IS DISTINCT FROM ({})".format(
            ", ".join(f"SUM(COALESCE({column}, 0)) AS {column}" for column in columns),
            ", ".join(f"COALESCE(line.{column}, 0)" for column in columns),
            ", ".join(f"COALESCE(sums.{column}, 0)" for column in columns),
        )
    )
    differing = cr.fetchone()[0]
    if differing:
        _logger.warning(
            "remote_data_migration: %s model lines are not the sum of their ranges", differing
        )
