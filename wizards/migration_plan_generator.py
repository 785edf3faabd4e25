import re

from odoo import fields, models

from .form_action import open_form


class MigrationPlanGenerator(models.TransientModel):
    _name = "migration.plan.generator"
    _description = "Generate a Plan from Both Schemas"

    source_id = fields.Many2one("migration.source", required=True)
    plan_name = fields.Char()
    model_names = fields.Text(
        string="Source Models",
        help="Technical names, separated by commas, spaces or new lines. Empty: every source "
        "model with records, minus technical ones.",
    )

    def action_generate(self):
        self.ensure_one()
        names = [name for name in re.split(r"[\s,]+", self.model_names or "") if name]
        plan = self.env["migration.plan"].generate(
            self.source_id, names or None, name=self.plan_name or None
        )
        return open_form(plan)
