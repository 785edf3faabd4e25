from odoo import fields, models


class MigrationPlan(models.Model):
    _inherit = "migration.plan"

    job_capacity = fields.Integer(
        string="Jobs at Once",
        default=2,
        help="How many jobs of this plan's background runs the workers carry out at once "
        "(the capacity of the job channel root.data_migration while they run)",
    )
    batches_per_job = fields.Integer(
        default=4,
        help="A job migrates this many batches of one model: the source ids are cut in ranges "
        "of that size, migrated in parallel",
    )

    _sql_constraints = [
        ("job_capacity_positive", "CHECK(job_capacity > 0)", "Jobs at once must be positive."),
        (
            "batches_per_job_positive",
            "CHECK(batches_per_job > 0)",
            "Batches per job must be positive.",
        ),
    ]

    def _queue_run(self, dry_run=False, models=None, incremental=False):
        """A background run is a graph of jobs (a dry run stays one call: it rolls back)."""
        if dry_run:
            return super()._queue_run(dry_run=dry_run, models=models, incremental=incremental)
        self.ensure_one()
        run = self._new_run(models=models, incremental=incremental)
        run.write({"queued": True, "background": True})
        run._enqueue_start()
        return run
