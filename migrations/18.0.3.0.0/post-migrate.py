"""18.0.3.0.0, after the module is upgraded: sources logging in with an API key say so.

Odoo's API keys are 40 hexadecimal digits: such a secret is marked as an API key, so that
its form asks for the key's expiration date and runs warn before it passes.
"""

import logging
import re

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

API_KEY = re.compile(r"^[0-9a-f]{40}$")


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    credentials = env["migration.credential"].search([])
    sources = credentials.filtered(lambda c: API_KEY.match(c.secret or "")).source_id
    sources.filtered(lambda s: s.secret_kind != "api_key").secret_kind = "api_key"
    _logger.info("remote_data_migration: %s sources log in with an API key", len(sources))
