from odoo import fields, models

from .migration_id_map import BigInteger


class MigrationRunLog(models.Model):
    """A line of a run's log: a milestone, or a record that could not be migrated."""

    _name = "migration.run.log"
    _description = "Data Migration Run Log"
    _order = "run_id, id"
    _rec_name = "message"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade", index=True)
    level = fields.Selection(
        selection=[("info", "Info"), ("warning", "Warning"), ("error", "Error")],
        required=True,
        default="info",
    )
    source_model = fields.Char()
    source_res_id = BigInteger(string="Source ID")
    target_model = fields.Char()
    statement = fields.Char(help="The statement or step that failed")
    message = fields.Text(required=True)
    values = fields.Text(help="The values the target refused")
    retried = fields.Boolean(help="Retried since: see the retry's own log lines")
