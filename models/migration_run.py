import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine.journal import COUNTERS
from .migration_run_model import _duration

_logger = logging.getLogger(__name__)

# The share of a scheduled action's time limit a background run uses before it pauses and
# asks for the next call: it commits its last batch well before the worker is killed.
CRON_SLICE_SHARE = 0.5
CRON_SLICE_PARAMETER = "remote_data_migration.cron_slice_seconds"


class MigrationRun(models.Model):
    _name = "migration.run"
    _description = "Data Migration Run"
    _inherit = ["mail.thread"]
    _order = "id desc"

    plan_id = fields.Many2one("migration.plan", required=True, ondelete="cascade", index=True)
    source_id = fields.Many2one("migration.source", required=True, ondelete="restrict")
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
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
    incremental = fields.Boolean(readonly=True)
    model_names = fields.Char(
        string="Model Subset", readonly=True, help="The subset of models run; empty: all"
    )
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", compute="_compute_duration", digits=(16, 1))
    clean = fields.Boolean(
        readonly=True,
        help="Done, every record accounted for, none failed: the next incremental run of each "
        "model starts from this run's source clock",
    )
    balanced = fields.Boolean(
        readonly=True,
        string="Counts Add Up",
        help="Checked at the end of the run: for every model, read = created + updated + "
        "unchanged + skipped + failed",
    )
    error = fields.Text(readonly=True, help="Why the run stopped")
    wildcard_left_out = fields.Text(
        readonly=True,
        help="What the plan's wildcards leave out, and why: decided when the run starts, kept "
        "for its resumes and jobs (JSON)",
    )
    hooks_done = fields.Char(
        readonly=True, help="The hooks this run has run: a resume does not run them again"
    )
    model_ids = fields.One2many("migration.run.model", "run_id", string="Model Counters")
    range_ids = fields.One2many("migration.run.range", "run_id", string="Ranges")
    log_ids = fields.One2many("migration.run.log", "run_id")
    failed_count = fields.Integer(compute="_compute_totals")
    created_count = fields.Integer(compute="_compute_totals")
    progress = fields.Float(
        compute="_compute_totals", help="Source records read, in percent of those to read"
    )
    interrupted = fields.Boolean(
        compute="_compute_interrupted",
        help="Shown as running, but no process runs it any more (killed, restarted): resume it",
    )
    queued = fields.Boolean(
        readonly=True, help="Waiting for the scheduled action that runs it in the background"
    )
    background = fields.Boolean(
        readonly=True,
        help="Run by the scheduled action: a call that ends before the run does (its time "
        "slice used, or its worker killed) is followed by another that resumes it",
    )

    source_failure = fields.Selection(
        selection=[
            ("unreachable", "Unreachable"),
            ("login", "Login refused"),
            ("access", "Access refused"),
            ("server", "Source error"),
        ],
        readonly=True,
        help="How the source stopped the run, when it did",
    )
    rate = fields.Float(string="Records/s", compute="_compute_rate", digits=(16, 1))
    time_left = fields.Char(compute="_compute_rate", help="At the rate so far")

    @api.depends("plan_id.name", "state", "dry_run")
    def _compute_display_name(self):
        states = dict(self._fields["state"].selection)
        for run in self:
            dry = self.env._(" (dry run)") if run.dry_run else ""
            run.display_name = (
                f"{run.plan_id.name} #{run.id}{dry}, {states.get(run.state, '').lower()}"
            )

    def unlink(self):
        self.env["migration.id.map"]._forget_runs(self.ids)
        return super().unlink()

    @api.depends("model_ids.read_count", "model_ids.seconds", "model_ids.source_count")
    def _compute_rate(self):
        for run in self:
            seconds = sum(run.model_ids.mapped("seconds"))
            read = sum(run.model_ids.mapped("read_count"))
            run.rate = read / seconds if seconds else 0.0
            left = max(0, sum(run.model_ids.mapped("source_count")) - read)
            run.time_left = _duration(left / run.rate) if run.rate and left else False

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for run in self:
            end = run.ended_at or (run.state == "running" and fields.Datetime.now())
            run.duration = (end - run.started_at).total_seconds() if run.started_at and end else 0.0

    @api.depends("state")
    def _compute_interrupted(self):
        for run in self:
            run.interrupted = (
                run.state == "running" and not run.queued and run.plan_id._run_lock_free()
            )

    @api.depends(
        "model_ids.failed_count",
        "model_ids.unreadable_count",
        "model_ids.created_count",
        "model_ids.read_count",
    )
    def _compute_totals(self):
        for run in self:
            lines = run.model_ids
            run.failed_count = sum(lines.mapped("failed_count")) + sum(
                lines.mapped("unreadable_count")
            )
            run.created_count = sum(lines.mapped("created_count"))
            to_read = sum(lines.mapped("source_count"))
            if to_read:
                run.progress = min(100.0, 100.0 * sum(lines.mapped("read_count")) / to_read)
            else:  # nothing to read: all of it is read once the run is done
                run.progress = 100.0 if run.state == "done" else 0.0

    # -- shell API --------------------------------------------------------------------------------

    def summary(self):
        """``{source model: {"read", "created", "updated", "unchanged", "skipped", "failed",
        "unreadable"}}``."""
        self.ensure_one()
        return {
            line.source_model: {name: line[f"{name}_count"] for name in COUNTERS}
            for line in self.model_ids.sorted("sequence")
        }

    def retry_failed(self):
        """Run again the records this run logged as failed (first or second pass, or
        unreadable), and only them."""
        self.ensure_one()
        failures = self.log_ids.filtered(
            lambda log: log.level == "error" and log.source_res_id and not log.retried
        )
        if not failures:
            raise UserError(self.env._("Run %s has no failed record to retry.", self.id))
        retry_ids = {}
        for log in failures:
            counter = "unreadable" if log.statement == "read" else "failed"
            retry_ids.setdefault(log.source_model, {})[log.source_res_id] = counter
        self._execute(retry_ids=retry_ids)
        return self

    def action_retry_failed(self):
        self.retry_failed()
        return True

    def action_resume(self):
        self.ensure_one()
        if self.state not in ("failed", "cancelled") and not self.interrupted:
            raise UserError(self.env._("Only a failed or cancelled run can be resumed."))
        self._execute(resume=True)
        return True

    def action_view_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log of run %s", self.id),
            "res_model": "migration.run.log",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
            # a run with errors opens on them; a clean one on everything it said
            "context": {"search_default_errors": 1}
            if self.log_ids.filtered(lambda line: line.level == "error")
            else {},
        }

    def action_cancel(self):
        for run in self.filtered(lambda r: r.state in ("draft", "running")):
            run.write({"state": "cancelled", "queued": False})
        return True

    # -- the scheduled action ---------------------------------------------------------------------

    @api.model
    def _cron_run_queued(self):
        """The scheduled action behind "in the background": the queued runs, oldest first,
        and the background runs a previous call left before their end (its time slice used,
        or its worker killed), from their checkpoints."""
        runs = self.search(
            [
                "|",
                "&",
                ("queued", "=", True),
                ("state", "in", ("draft", "running")),
                "&",
                ("background", "=", True),
                ("state", "=", "running"),
            ],
            order="id",
        )
        cron = self.env["ir.cron"]
        slice_seconds = self._cron_slice_seconds()

        def notify(run):  # the scheduled action's progress, batch by batch
            done = sum(run.model_ids.mapped("read_count"))
            cron._notify_progress(
                done=done, remaining=max(0, sum(run.model_ids.mapped("source_count")) - done)
            )

        for run in runs:
            if run.state == "running" and not (run.queued or run.plan_id._run_lock_free()):
                continue  # another worker has it
            try:
                run._execute(
                    resume=run.state == "running", progress=notify, slice_seconds=slice_seconds
                )
            except UserError as exc:  # already running: it waits for the next trigger
                _logger.info("queued run %s waits: %s", run.id, exc)
                continue
            if run.state == "running":  # paused at the end of its slice
                # this call is over; the next one, triggered now, resumes the run
                cron._notify_progress(done=sum(run.model_ids.mapped("read_count")), remaining=0)
                self.env.ref("remote_data_migration.ir_cron_migration_run_queued")._trigger()
                return

    @api.model
    def _cron_slice_seconds(self):
        """How long one call of the scheduled action may run a migration: a share of the
        worker's time limits (prefork), or the system parameter if set; None: no limit."""
        parameter = self.env["ir.config_parameter"].sudo().get_param(CRON_SLICE_PARAMETER)
        if parameter:
            return float(parameter)
        if not config["workers"]:
            return None
        real = config["limit_time_real_cron"]
        real = real if real and real > 0 else config["limit_time_real"]
        limits = [limit for limit in (real, config["limit_time_cpu"]) if limit and limit > 0]
        return CRON_SLICE_SHARE * min(limits) if limits else None
