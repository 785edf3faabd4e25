"""18.0.2.0.0, after the module is upgraded: each kept secret becomes a credential record."""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

LEGACY_COLUMN = "rdm_legacy_secret"


def migrate(cr, version):
    if not version or not column_exists(cr, "migration_source", LEGACY_COLUMN):
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    cr.execute(
        f"SELECT id, {LEGACY_COLUMN} FROM migration_source"
        f" WHERE {LEGACY_COLUMN} IS NOT NULL AND {LEGACY_COLUMN} != ''"
    )
    kept = dict(cr.fetchall())
    already = set(
        env["migration.credential"]
        .search([("source_id", "in", list(kept))])
        .mapped("source_id")
        .ids
    )
    env["migration.credential"].create(
        [
            {"source_id": source_id, "secret": secret}
            for source_id, secret in kept.items()
            if source_id not in already
        ]
    )
    _logger.info(
        "remote_data_migration: moved %s source secrets to migration.credential",
        len(kept) - len(already),
    )
