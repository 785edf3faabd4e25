"""18.0.4.0.0, before the module loads: what ended runs already know, in SQL.

- ``balanced``: whether the counts of every model add up. For these runs read = created +
  updated + skipped + failed held (they counted unchanged records as skipped, and rows the
  source could not send as read and failed).
- ``hooks_done``: a done run has run the hooks of its plan, so that nothing runs them again.

Made here, in two UPDATEs, before the ORM adds the columns with empty values.
"""

import logging

from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version or column_exists(cr, "migration_run", "balanced"):
        return
    create_column(cr, "migration_run", "balanced", "bool")
    create_column(cr, "migration_run", "hooks_done", "varchar")
    cr.execute(
        """
        UPDATE migration_run run
           SET balanced = NOT EXISTS (
                   SELECT 1 FROM migration_run_model line
                    WHERE line.run_id = run.id
                      AND COALESCE(line.read_count, 0) <> COALESCE(line.created_count, 0)
                          + COALESCE(line.updated_count, 0) + COALESCE(line.skipped_count, 0)
                          + COALESCE(line.failed_count, 0))
         WHERE run.state IN ('done', 'failed', 'cancelled')
        """
    )
    _logger.info("remote_data_migration: %s ended runs checked for their counts", cr.rowcount)
    cr.execute(
        """
        UPDATE migration_run run
           SET hooks_done = NULLIF(concat_ws(',',
                   CASE WHEN COALESCE(plan.pre_hook, '') <> '' THEN 'pre' END,
                   CASE WHEN COALESCE(plan.post_hook, '') <> '' THEN 'post' END,
                   CASE WHEN COALESCE(plan.end_hook, '') <> '' THEN 'end' END), '')
          FROM migration_plan plan
         WHERE plan.id = run.plan_id AND run.state = 'done'
        """
    )
    _logger.info("remote_data_migration: %s done runs keep the hooks they ran", cr.rowcount)
