import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine.mapping import system_only_uses
from ..engine.runner import COUNTERS, Journal, RunCancelled, Runner
from ..engine.transport import RemoteError
from ..engine.validation import validate_plan

_logger = logging.getLogger(__name__)


class _DryRunDone(Exception):
    """Raised at the end of a dry run to roll everything back."""


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
    since = fields.Datetime(readonly=True, help="Incremental: source records written since then")
    model_names = fields.Char(
        string="Model Subset", readonly=True, help="The subset of models run; empty: all"
    )
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", compute="_compute_duration", digits=(16, 1))
    clean = fields.Boolean(
        readonly=True, help="Done with no record failed: the next incremental run starts here"
    )
    error = fields.Text(readonly=True, help="Why the run stopped")
    model_ids = fields.One2many("migration.run.model", "run_id", string="Model Counters")
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

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for run in self:
            end = run.ended_at or (run.state == "running" and fields.Datetime.now())
            run.duration = (end - run.started_at).total_seconds() if run.started_at and end else 0.0

    @api.depends("state")
    def _compute_interrupted(self):
        for run in self:
            run.interrupted = run.state == "running" and run.plan_id._run_lock_free()

    @api.depends("model_ids.failed_count", "model_ids.created_count", "model_ids.read_count")
    def _compute_totals(self):
        for run in self:
            lines = run.model_ids
            run.failed_count = sum(lines.mapped("failed_count"))
            run.created_count = sum(lines.mapped("created_count"))
            to_read = sum(lines.mapped("source_count"))
            run.progress = (
                min(100.0, 100.0 * sum(lines.mapped("read_count")) / to_read) if to_read else 0.0
            )

    # -- shell API --------------------------------------------------------------------------------

    def summary(self):
        """``{source model: {"read", "created", "updated", "skipped", "failed"}}``."""
        self.ensure_one()
        return {
            line.source_model: {name: line[f"{name}_count"] for name in COUNTERS}
            for line in self.model_ids.sorted("sequence")
        }

    def retry_failed(self):
        """Run again the records this run logged as failed, and only them."""
        self.ensure_one()
        failures = self.log_ids.filtered(
            lambda log: log.level == "error" and log.source_res_id and not log.retried
        )
        if not failures:
            raise UserError(self.env._("Run %s has no failed record to retry.", self.id))
        only_ids = {}
        for log in failures:
            only_ids.setdefault(log.source_model, set()).add(log.source_res_id)
        journal = Journal()
        self._execute(only_ids=only_ids, journal=journal, retry=True)
        failures.retried = True
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

    @api.model
    def _cron_run_queued(self):
        """The scheduled action behind "in the background": run the queued runs, oldest first."""
        queued = self.search([("queued", "=", True), ("state", "=", "draft")], order="id")
        cron = self.env["ir.cron"]

        def notify(run):  # the scheduled action's progress, batch by batch
            done = sum(run.model_ids.mapped("read_count"))
            cron._notify_progress(
                done=done, remaining=max(0, sum(run.model_ids.mapped("source_count")) - done)
            )

        for run in queued:
            try:
                run._execute(progress=notify)
            except UserError as exc:  # already running: it waits for the next trigger
                _logger.info("queued run %s waits: %s", run.id, exc)

    def action_view_log(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log of run %s", self.id),
            "res_model": "migration.run.log",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
            "context": {"search_default_errors": 1},
        }

    def action_cancel(self):
        for run in self.filtered(lambda r: r.state in ("draft", "running")):
            run.state = "cancelled"
        return True

    # -- execution --------------------------------------------------------------------------------

    def _checkpoints(self):
        return {
            line.source_model: (line.checkpoint, line.state == "done") for line in self.model_ids
        }

    def _is_cancelled(self):
        self.flush_recordset(["state"])  # what this run wrote itself, before reading another's
        self.env.cr.execute("SELECT state FROM migration_run WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "cancelled"

    def _can_commit(self):
        return not (self.dry_run or self.env.registry.in_test_mode() or config["test_enable"])

    def _execute(self, resume=False, only_ids=None, journal=None, retry=False, progress=None):
        """Run (or resume, or retry) this run. ``progress(run)`` is called at each checkpoint."""
        self.ensure_one()
        self.plan_id._lock_for_run()
        try:
            return self._execute_locked(resume, only_ids, journal, retry, progress)
        finally:
            self.plan_id._unlock_for_run()

    def _execute_locked(self, resume, only_ids, journal, retry, progress):
        plan = self.plan_id
        spec = plan._to_spec()
        journal = journal or Journal()
        if not retry:
            self.write(
                {"state": "running", "error": False, "ended_at": False, "queued": False}
                | ({} if resume else {"started_at": fields.Datetime.now()})
            )
        try:
            source_schema, target_schema, xmlid_models = plan._schemas(spec)
        except UserError as exc:
            return self._finish(journal, "failed", str(exc), retry)
        installed = (
            self.env["ir.module.module"]
            .sudo()
            .search_fetch([("state", "=", "installed")], ["name"])
        )
        modules = installed.mapped("name")
        problems = validate_plan(
            spec,
            source_schema,
            target_schema,
            xmlid_models,
            modules,
            sql_refusals=plan._sql_refusals(spec),
        )
        errors = [problem for problem in problems if problem.severity == "error"]
        if errors:
            for problem in errors:
                journal.log(
                    "error", problem.message, model=problem.model, statement=problem.field or None
                )
            return self._finish(
                journal, "failed", self.env._("The plan is not valid: see the log."), retry
            )
        refusal = self._system_bodies_refusal(spec, journal)
        if refusal:
            return self._finish(journal, "failed", refusal, retry)
        try:
            transport = self.source_id._transport()  # one client, one login, for the whole run
        except UserError as exc:
            return self._finish(journal, "failed", str(exc), retry)
        key_warning = self.source_id._api_key_warning()
        if key_warning:
            journal.log("warning", key_warning)
        if not retry:
            self._prepare_lines(spec, transport)
        can_commit = self._can_commit()
        # what the run creates belongs to the plan's company, as if made from it
        env = self.with_company(plan.company_id).env if plan.company_id else self.env
        runner = Runner(
            env,
            transport,
            spec,
            source_schema,
            source_key=self.source_id.id,
            run_key=self.id,
            journal=journal,
            save=(lambda journal: self._save_journal(journal, progress=progress))
            if can_commit
            else None,
            modules=modules,
            models=(self.model_names or "").split(",") if self.model_names else None,
            since=self.since and fields.Datetime.to_string(self.since),
            checkpoints=self._checkpoints() if resume else None,
            only_ids=only_ids,
            can_commit=can_commit,
            is_cancelled=self._is_cancelled,
            duplicates=plan.duplicates,
        )
        if can_commit:
            # the run shows as running to everyone while it works
            self.env.cr.commit()  # pylint: disable=invalid-commit
        state, error = "done", False
        try:
            if self.dry_run:
                with self.env.cr.savepoint():
                    runner.run()
                    raise _DryRunDone()
            runner.run()
        except _DryRunDone:
            _logger.info("dry run %s rolled back", self.id)
        except RunCancelled:
            state = "cancelled"
        except RemoteError as exc:
            state, error = "failed", self.env._("The source stopped answering: %s", exc)
        except Exception as exc:  # noqa: BLE001 - whatever stops a run is reported on it
            _logger.exception("run %s failed", self.id)
            state, error = "failed", f"{type(exc).__name__}: {exc}"
        if state != "done" and can_commit:
            self.env.cr.rollback()  # the batch under way; every committed batch stays
        return self._finish(journal, state, error, retry)

    def _system_bodies_refusal(self, spec, journal):
        """Bodies reaching past access rights (``sql()``, ``sudo()``...) run only for Settings
        administrators: the user running the plan, or who queued it for the scheduled action."""
        user = self.create_uid if self.env.su else self.env.user
        if user._is_system():
            return False
        uses = system_only_uses(spec)
        for where, name in uses:
            journal.log(
                "error",
                self.env._(
                    "%(where)s uses %(name)s: for Settings administrators only",
                    where=where,
                    name=name,
                ),
                statement=where,
            )
        if not uses:
            return False
        return self.env._(
            "%(user)s may not run this plan: %(where)s uses %(name)s, which only Settings "
            "administrators may run.",
            user=user.name,
            where=uses[0][0],
            name=uses[0][1],
        )

    def _finish(self, journal, state, error, retry):
        if error:
            journal.log("error", error)
        self._save_journal(journal, retry=retry)
        if retry:  # a retry changes the counters, not how the run ended
            state = self.state
        else:
            self.write({"state": state, "error": error or False, "ended_at": fields.Datetime.now()})
        failed = sum(self.model_ids.mapped("failed_count"))
        self.clean = state == "done" and not failed and not self.dry_run
        self._post_summary()
        if self._can_commit():
            # the outcome of the run, whatever it is
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return self

    def _post_summary(self):
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (model, *(counts[name] for name in COUNTERS))
            for model, counts in self.summary().items()
        )
        header = Markup("").join(Markup("<th>%s</th>") % name for name in ("model", *COUNTERS))
        title = self.env._(
            "Run %(state)s%(dry)s",
            state=self.state,
            dry=self.env._(" (dry run)") if self.dry_run else "",
        )
        self.message_post(
            body=Markup("<p>%s</p><table class='table table-sm'><tr>%s</tr>%s</table>")
            % (title, header, rows)
            + (Markup("<p>%s</p>") % self.error if self.error else Markup(""))
        )

    def _prepare_lines(self, spec, transport):
        lines = {line.source_model: line for line in self.model_ids}
        for position, rule in enumerate(r for r in spec.models if not r.is_reference_only):
            if rule.source_model in lines:
                continue
            self.env["migration.run.model"].create(
                {
                    "run_id": self.id,
                    "sequence": position,
                    "source_model": rule.source_model,
                    "target_model": rule.target_model,
                    "source_count": _source_count(transport, rule, spec.options["active_test"]),
                }
            )

    def _save_journal(self, journal, retry=False, progress=None):
        """Add what the journal holds to the run's lines and log, then empty it."""
        lines = {line.source_model: line for line in self.model_ids}
        for model, counter in journal.counters.items():
            line = lines.get(model)
            if not line:
                continue
            values = {}
            for name in COUNTERS:
                if retry and name == "read":
                    continue
                values[f"{name}_count"] = line[f"{name}_count"] + counter.get(name, 0)
            if retry:
                retried = counter.get("read", 0)
                values["failed_count"] = line.failed_count - retried + counter.get("failed", 0)
            line.write(values)
        for model, (checkpoint, done) in journal.checkpoints.items():
            if model in lines and not retry:
                lines[model].write(
                    {"checkpoint": checkpoint, "state": "done" if done else "running"}
                )
        for model, seconds in journal.seconds.items():
            if model in lines:
                lines[model].seconds += seconds
        if journal.logs:
            self.env["migration.run.log"].create(
                [dict(log, run_id=self.id) for log in journal.logs]
            )
        journal.clear()
        if progress:
            progress(self)


def _source_count(transport, rule, active_test):
    try:
        return transport.search_count(
            rule.source_model, rule.domain or [], context={"active_test": active_test}
        )
    except RemoteError:
        return 0
