"""18.0.3.0.0, before the module loads: plans and runs get their company.

The columns are made and filled here, in two UPDATEs, so that the ORM does not compute the
runs' related company one record at a time. A plan belongs to the company of who made it
(the first company when that user is gone); a run to its plan's.
"""

import logging

from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version or column_exists(cr, "migration_plan", "company_id"):
        return
    create_column(cr, "migration_plan", "company_id", "int4")
    cr.execute(
        """
        UPDATE migration_plan p
           SET company_id = COALESCE(
                   (SELECT u.company_id FROM res_users u WHERE u.id = p.create_uid),
                   (SELECT min(id) FROM res_company))
        """
    )
    plans = cr.rowcount
    if not column_exists(cr, "migration_run", "company_id"):
        create_column(cr, "migration_run", "company_id", "int4")
    cr.execute(
        "UPDATE migration_run r SET company_id = p.company_id"
        " FROM migration_plan p WHERE p.id = r.plan_id"
    )
    _logger.info(
        "remote_data_migration: %s plans and %s runs given their company", plans, cr.rowcount
    )
