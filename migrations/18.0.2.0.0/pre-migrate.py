"""18.0.2.0.0, before the module loads: keep the sources' secrets out of the ORM's way.

The secret leaves ``migration_source`` for its own model (``migration.credential``). Its
column is renamed, not dropped, so that the post script can move every value; a fresh
install or a second run finds no such column and does nothing.
"""

import logging

from odoo.tools.sql import column_exists, rename_column

_logger = logging.getLogger(__name__)

LEGACY_COLUMN = "rdm_legacy_secret"


def migrate(cr, version):
    if not version or not column_exists(cr, "migration_source", "secret"):
        return
    if column_exists(cr, "migration_source", LEGACY_COLUMN):
        _logger.warning(
            "migration_source.%s already exists: secrets left where they are", LEGACY_COLUMN
        )
        return
    rename_column(cr, "migration_source", "secret", LEGACY_COLUMN)
    cr.execute(f"SELECT count(*) FROM migration_source WHERE {LEGACY_COLUMN} IS NOT NULL")
    _logger.info(
        "remote_data_migration: kept %s source secrets in migration_source.%s for the post script",
        cr.fetchone()[0],
        LEGACY_COLUMN,
    )
