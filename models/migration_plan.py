from odoo import fields, models


class MigrationPlan(models.Model):
    _name = "migration.plan"
    _description = "Data Migration Plan"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    source_id = fields.Many2one(
        "migration.source", required=True, ondelete="restrict", tracking=True
    )
    run_ids = fields.One2many("migration.run", "plan_id", string="Runs")
    active = fields.Boolean(default=True)
