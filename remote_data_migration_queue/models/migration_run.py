from odoo import api, fields, models
from odoo.exceptions import UserError

ACTIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")


class MigrationRun(models.Model):
    _inherit = "migration.run"

    job_ids = fields.One2many("queue.job", compute="_compute_job_ids", string="Jobs")
    job_count = fields.Integer(compute="_compute_job_ids", string="Jobs Done")
    failed_job_count = fields.Integer(compute="_compute_job_ids", string="Failed Jobs")

    def _jobs(self):
        """The jobs of this run, whatever their state."""
        self.ensure_one()
        return (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("model_name", "=", "migration.run"),
                    ("func_string", "=like", f"migration.run({self.id},).%"),
                ],
                order="id",
            )
        )

    def _compute_job_ids(self):
        for run in self:
            jobs = run._jobs() if run.id else self.env["queue.job"]
            run.job_ids = jobs
            run.job_count = len(jobs.filtered(lambda j: j.state == "done"))
            run.failed_job_count = len(jobs.filtered(lambda j: j.state == "failed"))

    def _has_active_jobs(self):
        return bool(self._jobs().filtered(lambda job: job.state in ACTIVE_JOB_STATES))

    @api.depends("state")
    def _compute_interrupted(self):
        result = super()._compute_interrupted()
        for run in self.filtered(lambda r: r.state == "running" and r._jobs()):
            # a run of jobs is interrupted when none is left to carry it on
            run.interrupted = not run._has_active_jobs()
        return result

    def action_cancel(self):
        for run in self:
            run._jobs().filtered(lambda job: job.state in ACTIVE_JOB_STATES[:3]).button_cancelled()
        return super().action_cancel()

    def action_resume(self):
        self.ensure_one()
        if not self._jobs():
            return super().action_resume()
        if self._has_active_jobs():
            raise UserError(self.env._("Run %s still has jobs under way.", self.id))
        self.write({"state": "running", "error": False, "ended_at": False})
        self._enqueue_parts()
        return True
