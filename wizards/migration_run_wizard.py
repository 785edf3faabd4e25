from odoo import api, fields, models

from .form_action import open_form


class MigrationRunWizard(models.TransientModel):
    _name = "migration.run.wizard"
    _description = "Run a Data Migration Plan"

    plan_id = fields.Many2one("migration.plan", required=True, ondelete="cascade")
    dry_run = fields.Boolean(help="Do everything, report the counts, then roll back")
    model_rule_ids = fields.Many2many(
        "migration.model.rule",
        string="Only These Models",
        domain="[('plan_id', '=', plan_id)]",
        help="Empty: every model of the plan",
    )
    incremental = fields.Boolean(help="Only the source records written since the last clean run")
    resume = fields.Boolean(help="Continue the last failed or cancelled run from its checkpoints")
    background = fields.Boolean(
        string="In the Background",
        default=True,
        help="A scheduled action does the work now, committing batch by batch, while the "
        "run's page follows it. Off: the run happens in this request (small plans, dry runs).",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        plan_id = values.get("plan_id") or (
            self.env.context.get("active_model") == "migration.plan"
            and self.env.context.get("active_id")
        )
        if plan_id:
            values["plan_id"] = plan_id
        return values

    def action_run(self):
        self.ensure_one()
        plan = self.plan_id
        plan._check_runnable()
        models = self.model_rule_ids.mapped("source_model") or None
        if self.resume:
            run = plan.run(resume=True)
        elif self.background:
            run = plan._queue_run(dry_run=self.dry_run, models=models, incremental=self.incremental)
        else:
            run = plan.run(dry_run=self.dry_run, models=models, incremental=self.incremental)
        return open_form(run)
