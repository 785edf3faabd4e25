"""18.0.2.0.0, once every module is upgraded: the plain-text copy of the secrets goes.

Done last so that the post scripts of modules extending this one could still read it.
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

LEGACY_COLUMN = "rdm_legacy_secret"


def migrate(cr, version):
    if not version or not column_exists(cr, "migration_source", LEGACY_COLUMN):
        return
    cr.execute(
        f"SELECT count(*) FROM migration_source s WHERE {LEGACY_COLUMN} IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM migration_credential c WHERE c.source_id = s.id)"
    )
    unmoved = cr.fetchone()[0]
    if unmoved:
        _logger.warning(
            "remote_data_migration: %s secrets were not moved; migration_source.%s is kept",
            unmoved,
            LEGACY_COLUMN,
        )
        return
    cr.execute(f"ALTER TABLE migration_source DROP COLUMN {LEGACY_COLUMN}")
    _logger.info("remote_data_migration: dropped migration_source.%s", LEGACY_COLUMN)
