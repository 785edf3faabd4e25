from odoo import fields, models


class MigrationRun(models.Model):
    _name = "migration.run"
    _description = "Data Migration Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    plan_id = fields.Many2one("migration.plan", required=True, ondelete="cascade", index=True)
    source_id = fields.Many2one(related="plan_id.source_id")
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="draft",
        tracking=True,
    )
    dry_run = fields.Boolean(readonly=True)
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
