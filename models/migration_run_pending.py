from odoo import fields, models

from .migration_id_map import BigInteger


class MigrationRunPending(models.Model):
    """A record the second pass of a run still has to complete (deferred fields, a parent
    that came later), with how the first pass counted it. Written and read in bulk by the
    engine (``engine/pending.py``); a run leaves none behind when it ends well."""

    _name = "migration.run.pending"
    _description = "Data Migration Run: Waiting for the Second Pass"
    _log_access = False
    _rec_name = "source_model"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade")
    source_model = fields.Char(required=True)
    source_res_id = BigInteger(string="Source ID", required=True)
    outcome = fields.Char(required=True, help="How the first pass counted the record")

    _sql_constraints = [
        (
            "pending_unique",
            "UNIQUE(run_id, source_model, source_res_id)",
            "A record waits once for the second pass of a run.",
        ),
    ]
