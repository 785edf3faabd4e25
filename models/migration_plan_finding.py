from odoo import api, fields, models


class MigrationPlanFinding(models.Model):
    _name = "migration.plan.finding"
    _description = "Data Migration Plan Finding"
    _order = "plan_id, severity_rank, model, field, id"

    plan_id = fields.Many2one("migration.plan", required=True, ondelete="cascade", index=True)
    origin = fields.Selection(
        selection=[("validation", "Validation"), ("generator", "Generator")],
        required=True,
        default="validation",
    )
    severity = fields.Selection(
        selection=[("error", "Error"), ("warning", "Warning"), ("info", "Info")], required=True
    )
    severity_rank = fields.Integer(compute="_compute_severity_rank", store=True)
    model = fields.Char()
    field = fields.Char()
    message = fields.Text(required=True)

    @api.depends("severity")
    def _compute_severity_rank(self):
        ranks = {"error": 0, "warning": 1, "info": 2}
        for finding in self:
            finding.severity_rank = ranks.get(finding.severity, 3)
