"""How a run record drives the engine: checks before it starts, the engine's context, the
journal saved at each batch, and the end of the run (counts checked, lines ended)."""

import json
import logging
import time

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..engine.bodies import system_only_uses
from ..engine.journal import COUNTERS, OUTCOMES, PHASES, Journal
from ..engine.model_pass import ModelPass
from ..engine.run_context import (
    BATCH_TRIES,
    RunCancelled,
    RunContext,
    RunPaused,
    RunStopped,
)
from ..engine.runner import Runner
from ..engine.transport import RemoteError
from ..engine.validation import run_order
from ..engine.writer import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

# seconds between two progress notices of a run to the browser (its end is always told)
PROGRESS_EVERY = 1.0


class _DryRunDone(Exception):
    """Raised at the end of a dry run to roll everything back."""


class _NotStarted(Exception):
    """The run cannot start: the message says why; ``failure``: the source's, if it is."""

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.failure = getattr(cause, "failure", False)


class MigrationRun(models.Model):
    _inherit = "migration.run"

    def _execute(self, resume=False, retry_ids=None, progress=None, slice_seconds=None):
        """Run this run, or resume it from its checkpoints, or retry ``retry_ids``
        (``{model: {source id: the counter it failed in}}``). ``progress(run)`` is called
        at each checkpoint; ``slice_seconds``: pause (state running, queued) after that long.
        """
        self.ensure_one()
        self.plan_id._lock_for_run()
        try:
            return self._execute_locked(resume, retry_ids, progress, slice_seconds)
        finally:
            self.plan_id._unlock_for_run()

    def _execute_locked(self, resume, retry_ids, progress, slice_seconds):
        retry = retry_ids is not None
        journal = Journal(retrying={model: dict(ids) for model, ids in (retry_ids or {}).items()})
        if not retry:
            self.write(
                {"state": "running", "error": False, "ended_at": False, "queued": False}
                | ({} if resume else {"started_at": fields.Datetime.now()})
            )
        try:
            runner = self._runner(journal, progress, prepare=not retry and not self.model_ids)
        except _NotStarted as exc:
            if exc.failure:
                self.source_failure = exc.failure
            return self._finish(journal, "failed", str(exc), retry)
        if slice_seconds:
            runner.ctx.deadline = time.monotonic() + slice_seconds
        if retry:
            runner.only_ids = {model: set(ids) for model, ids in retry_ids.items()}
        if resume:
            runner.states = self._line_states()
        if runner.ctx.can_commit:
            # the run shows as running to everyone while it works
            self.env.cr.commit()  # pylint: disable=invalid-commit
        state, error = self._drive(runner)
        if state == "paused":
            self._save_journal(journal)
            self.queued = True
            return self
        return self._finish(journal, state, error, retry)

    def _runner(self, journal, progress=None, prepare=False, check=True, shared=False):
        """The engine for this run as it stands, for the whole run or for a part of it (a
        job, ``check`` False: the run was checked when it started); ``prepare``: make the
        run's model lines first; ``shared``: jobs work on the run side by side (see
        ``_save_journal``). Raises ``_NotStarted``."""
        spec = self.plan_id._to_spec()
        transport, source_schema, modules = self._ready_to_start(spec, journal, check)
        self._order_rules(spec, source_schema, modules)
        if prepare:
            self._prepare_lines(spec, transport)
        ctx = self._engine_context(
            spec, transport, source_schema, modules, journal, progress, shared
        )
        lines = self.model_ids
        return Runner(
            ctx,
            models=lines.mapped("source_model"),
            since={
                line.source_model: fields.Datetime.to_string(line.since)
                for line in lines
                if line.since
            },
            hooks_done=(self.hooks_done or "").split(","),
        )

    def _order_rules(self, spec, source_schema, modules):
        """Give the rules of ``spec`` the order the run writes them in: the validated order
        (each model after those its statements point to), or, for a started run, the order
        its lines were made in."""
        lines = {line.source_model: line.sequence for line in self.model_ids}
        if lines:
            position = lines
        else:
            target_models = {r.target_model for r in spec.models} | {
                f.target_model for r in spec.models for f in r.fields
            }
            relations = {
                d["relation"] for fields_ in source_schema.values() for d in fields_.values()
                if d.get("relation")
            }  # fmt: skip
            target_schema = self.plan_id._target_schema(target_models | relations)
            order = run_order(spec, source_schema, target_schema, modules, self._left_out())
            position = {model: index for index, model in enumerate(order)}
        for rule in spec.models:
            rule.sequence = position.get(rule.source_model, len(position))

    # -- parts of a run, as jobs do them ----------------------------------------------------------

    def _migrate_range(self, model, first_id=0, last_id=None):
        """The records of ``model`` with ``first_id < id <= last_id``, with an engine of
        their own (a job's unit of work); the run's lines must exist (``_begin``)."""
        self.ensure_one()
        ranges = self.range_ids.filtered(
            lambda r: (r.source_model, r.first_id) == (model, first_id)
        )
        if not ranges:
            self.env["migration.run.range"].create(
                {
                    "run_id": self.id,
                    "source_model": model,
                    "first_id": first_id,
                    "last_id": last_id or 0,
                }
            )
        journal = Journal()
        runner = self._runner(journal, check=False, shared=True)
        try:
            ModelPass(runner.ctx).migrate_range(model, first_id, last_id, runner.policy(model))
        finally:
            if runner.ctx.can_commit:
                self._refresh_lines([model], wait=True)

    def _second_pass(self, model):
        self.ensure_one()
        runner = self._runner(Journal(), check=False)
        ModelPass(runner.ctx).second_pass(model, runner.policy(model))

    def _run_hook(self, name):
        """The plan's ``name`` hook, once per run, as the part of a run it is."""
        self.ensure_one()
        self._runner(Journal(), check=False).hook(name)

    def _begin(self):
        """A run made of parts: running, with its lines, and no range yet."""
        self.ensure_one()
        self.write({"state": "running", "started_at": fields.Datetime.now(), "queued": False})
        self._runner(Journal(), prepare=True)
        self.range_ids.unlink()

    def _end(self):
        """The end of a run made of parts: its lines and counts checked, its state."""
        self.ensure_one()
        return self._finish(Journal(), "done", False, retry=False)

    def _ready_to_start(self, spec, journal, check=True):
        """``(transport, source schema, installed modules)``, or ``_NotStarted``: the source
        cannot be reached, the plan is not valid or uses what its runner may not. What the
        wildcards leave out is decided at the first start and kept for resumes and jobs;
        ``check``: validate (a job of a started run does not)."""
        plan = self.plan_id
        try:
            transport = self.source_id._transport()  # one client, one login, for the whole run
            if check:
                facts = plan._facts(spec, transport)
                source_schema = facts.source_schema
            else:
                source_schema = plan._schemas(spec)[0]
        except UserError as exc:
            raise _NotStarted(str(exc), exc.__cause__) from None
        modules = plan._installed_modules()
        if check:
            if self.wildcard_left_out:
                facts = facts._replace(left_out=self._left_out())
            else:
                self.wildcard_left_out = json.dumps(
                    sorted([*key, why] for key, why in facts.left_out.items())
                )
            try:
                problems = plan._problems(spec, facts)
            except UserError as exc:
                raise _NotStarted(str(exc), exc.__cause__) from None
            errors = [problem for problem in problems if problem.severity == "error"]
            for problem in errors:
                journal.log(
                    "error", problem.message, model=problem.model, statement=problem.field or None
                )
            if errors:
                raise _NotStarted(
                    self.env._(
                        "The plan is not valid, %(count)s error(s); the first: %(first)s",
                        count=len(errors),
                        first=f"{errors[0].key}: {errors[0].message}",
                    )
                )
        refusal = self._system_bodies_refusal(spec, journal)
        if refusal:
            raise _NotStarted(refusal)
        key_warning = self.source_id._api_key_warning()
        if key_warning:
            journal.log("warning", key_warning)
        return transport, source_schema, modules

    def _left_out(self):
        """``{(model, field): reason}`` the run's wildcards leave out (decided at its start)."""
        return {
            (model, name): why for model, name, why in json.loads(self.wildcard_left_out or "[]")
        }

    def _engine_context(
        self, spec, transport, source_schema, modules, journal, progress=None, shared=False
    ):
        """What the engine's passes share for this run (a job builds its own)."""
        plan = self.plan_id
        can_commit = self._can_commit()
        # what the run creates belongs to the plan's company, as if made from it
        env = self.with_company(plan.company_id).env if plan.company_id else self.env
        return RunContext(
            env,
            transport,
            spec,
            source_schema,
            journal,
            source_key=self.source_id.id,
            run_key=self.id,
            save=self._journal_saver(progress, shared and can_commit),
            modules=modules,
            checkpoints={
                (r.source_model, r.first_id): (r.checkpoint, r.state == "done")
                for r in self.range_ids
            },
            can_commit=can_commit,
            is_cancelled=self._is_cancelled,
            left_out=self._left_out(),
        )

    def _journal_saver(self, progress, shared=False):
        """What a checkpoint does with the journal: saved, or, in a dry run (it keeps its
        journal to the end and rolls back), only shown to ``progress``."""
        if not self.dry_run:
            notified = [0.0]

            def save(journal):
                # a page reload per second at most: each notice is a connection's round trip
                now = time.monotonic()
                notify = now - notified[0] >= PROGRESS_EVERY
                if notify:
                    notified[0] = now
                self._save_journal(journal, progress=progress, shared=shared, notify=notify)

            return save
        if progress:
            return lambda journal: progress(self, journal)
        return None

    def _drive(self, runner):
        """Run ``runner``; ``(state, error)`` of the run: done, failed, cancelled or paused."""
        can_commit = runner.ctx.can_commit
        state, error, failure = "done", False, False
        try:
            if self.dry_run:
                with self.env.cr.savepoint():
                    runner.run()
                    raise _DryRunDone()
            runner.run()
        except _DryRunDone:
            _logger.info("dry run %s rolled back", self.id)
        except RunPaused:
            return "paused", False
        except RunCancelled:
            state = "cancelled"
        except RunStopped as exc:
            state, error = "failed", str(exc)
        except RemoteError as exc:
            state, failure = "failed", exc.failure
            if exc.failure == "unreachable":
                error = self.env._("The source stopped answering: %s", exc)
            else:
                error = self.plan_id.source_id._remote_failure_message(exc)
        except Exception as exc:  # noqa: BLE001 - whatever stops a run is reported on it
            _logger.exception("run %s failed", self.id)
            state, error = "failed", f"{type(exc).__name__}: {exc}"
        if state != "done" and can_commit:
            self.env.cr.rollback()  # the batch under way; every committed batch stays
        if failure:
            self.source_failure = failure
        return state, error

    def _line_states(self):
        """``{model: state}`` for a resume: a line whose ranges are all done has done its
        first pass, whatever it shows."""
        states = {}
        for line in self.model_ids:
            ranges = self.range_ids.filtered(lambda r, m=line.source_model: r.source_model == m)
            if line.state != "done" and ranges and all(r.state == "done" for r in ranges):
                states[line.source_model] = "second_pass"
            else:
                states[line.source_model] = line.state
        return states

    def _is_cancelled(self):
        self.flush_recordset(["state"])  # what this run wrote itself, before reading another's
        self.env.cr.execute("SELECT state FROM migration_run WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "cancelled"

    def _can_commit(self):
        return not (self.dry_run or self.env.registry.in_test_mode() or config["test_enable"])

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

    # -- lines, journal, end ----------------------------------------------------------------------

    def _prepare_lines(self, spec, transport):
        """A line and one range (every id) per model of the run, with its start point."""
        subset = set(self.model_names.split(",")) if self.model_names else None
        starts = self.plan_id._incremental_starts() if self.incremental else {}
        rules = sorted(
            (r for r in spec.models if not r.is_reference_only), key=lambda r: r.sequence
        )
        made = set(self.model_ids.mapped("source_model"))  # a job started again
        for position, rule in enumerate(rules):
            model = rule.source_model
            if (subset is not None and model not in subset) or model in made:
                continue
            since = starts.get(model)
            self.env["migration.run.model"].create(
                {
                    "run_id": self.id,
                    "sequence": position,
                    "source_model": model,
                    "target_model": rule.target_model,
                    "since": since,
                    "source_count": _source_count(transport, rule, spec.options, since),
                }
            )
            self.env["migration.run.range"].create({"run_id": self.id, "source_model": model})

    def _save_journal(self, journal, progress=None, shared=False, notify=True):
        """Add what the journal holds to the run's ranges, lines and log, then empty it.

        Counters and seconds are SQL increments to the range they were counted in, and a
        line is the sum of its ranges. ``shared``: a job working side by side with others
        (``_migrate_range``). It writes its own range's row and never waits for a line's:
        the lines' sums are refreshed apart, as the jobs go, and exactly by the jobs after.
        (Under Odoo's repeatable read, two jobs writing one row: the later one is refused.)
        """
        cr = self.env.cr
        amounts = _amounts_by_range(journal)
        for (model, first_id), added in amounts.items():
            self._add_to_range(model, first_id, added, journal.checkpoints.get((model, first_id)))
        for model, state in journal.states.items():
            query = SQL(
                "UPDATE migration_run_model SET state = %s"
                " WHERE run_id = %s AND source_model = %s AND state <> %s",
                state, self.id, model, state,
            )  # fmt: skip
            if shared:  # "running": what another job may have just said too
                _unless_refused(cr, query)
            else:
                cr.execute(query)
        for model, clock in journal.source_clock.items():
            if clock:  # the earliest pass of the model wins: a resume never moves it later
                cr.execute(
                    "UPDATE migration_run_model SET next_since = %s WHERE run_id = %s"
                    " AND source_model = %s AND (next_since IS NULL OR next_since > %s)",
                    [clock, self.id, model, clock],
                )
        models_counted = sorted({model for model, _first_id in amounts})
        if shared:
            self._refresh_lines(models_counted)
        elif models_counted:
            self._fold_ranges(models_counted)
        for model, source_ids in journal.retried.items():
            cr.execute(
                "UPDATE migration_run_log SET retried = TRUE WHERE run_id = %s AND level = 'error'"
                " AND source_model = %s AND source_res_id = ANY(%s::bigint[])",
                [self.id, model, sorted(source_ids)],
            )
        if journal.hooks:
            done = [name for name in (self.hooks_done or "").split(",") if name]
            self.hooks_done = ",".join(done + [h for h in journal.hooks if h not in done])
        if journal.logs:
            self.env["migration.run.log"].create(
                [dict(log, run_id=self.id) for log in journal.logs]
            )
        for model in ("migration.run.model", "migration.run.range", "migration.run.log"):
            self.env[model].invalidate_model()
        journal.clear()
        if notify:
            self._notify_progress()
        if progress:
            progress(self)

    def _add_to_range(self, model, first_id, added, checkpoint):
        """Add ``added`` (``{column: amount}``) to the range of ``model`` from ``first_id``,
        with its ``checkpoint`` (``(last id, done)``, or None)."""
        assignments = [
            SQL("%s = COALESCE(%s, 0) + %s", SQL.identifier(column), SQL.identifier(column), value)
            for column, value in added.items()
            if value
        ]
        if checkpoint:
            last_id, done = checkpoint
            assignments += [
                SQL("checkpoint = GREATEST(COALESCE(checkpoint, 0), %s)", last_id),
                SQL("state = %s", "done" if done else "running"),
            ]
        if not assignments:
            return
        query = SQL(
            "UPDATE migration_run_range SET %s WHERE run_id = %s AND source_model = %s"
            " AND first_id = %s",
            SQL(", ").join(assignments), self.id, model, first_id,
        )  # fmt: skip
        self.env.cr.execute(query)

    def _fold_ranges(self, models=None, skip_locked=False, cr=None):
        """Make each line of ``models`` (all: None) the sum of its ranges. ``skip_locked``:
        leave a line another transaction is writing."""
        columns = [f"{name}_count" for name in COUNTERS]
        columns += ["seconds", *(f"{phase}_seconds" for phase in PHASES)]
        lines = SQL("line.run_id = %s", self.id)
        if models is not None:
            lines = SQL("%s AND line.source_model = ANY(%s)", lines, list(models))
        if skip_locked:
            lines = SQL(
                "line.id IN (SELECT line.id FROM migration_run_model line WHERE %s"
                " FOR UPDATE SKIP LOCKED)",
                lines,
            )
        (cr or self.env.cr).execute(
            SQL(
                "UPDATE migration_run_model line SET %s FROM (SELECT source_model, %s"
                " FROM migration_run_range WHERE run_id = %s GROUP BY source_model) sums"
                " WHERE sums.source_model = line.source_model AND %s",
                SQL(", ").join(
                    SQL("%s = sums.%s", SQL.identifier(c), SQL.identifier(c)) for c in columns
                ),
                SQL(", ").join(
                    SQL("SUM(COALESCE(%s, 0)) AS %s", SQL.identifier(c), SQL.identifier(c))
                    for c in columns
                ),
                self.id,
                lines,
            )
        )

    def _refresh_lines(self, models, wait=False):
        """The lines of ``models`` made the sums of what is committed of their ranges, in a
        transaction of their own (jobs side by side: see ``_save_journal``). ``wait``: until
        it is done (a job's end: the last job's makes them exact); else at once or not at
        all, when another job is at it (a batch's: they show progress)."""
        if not models:
            return
        for _attempt in range(BATCH_TRIES if wait else 1):
            with self.env.registry.cursor() as cr:
                try:
                    self._fold_ranges(models, skip_locked=not wait, cr=cr)
                    return
                except CONCURRENCY_ERRORS:
                    cr.rollback()

    def _notify_progress(self):
        """The run's page, open in a browser, reloads itself (bus): the run's author sees it."""
        (self.create_uid or self.env.user)._bus_send(
            "remote_data_migration.run_progress", {"run_id": self.id}
        )

    def _finish(self, journal, state, error, retry):
        if error:
            journal.log("error", error)
        self._save_journal(journal)
        self._fold_ranges()
        self.model_ids.invalidate_recordset()
        if retry:  # a retry changes the counters, not how the run ended
            state = self.state
        else:
            self.write({"state": state, "error": error or False, "ended_at": fields.Datetime.now()})
        if state != "done":
            self.model_ids.filtered(lambda line: line.state != "done").state = "stopped"
        self._check_counts()
        failed = sum(self.model_ids.mapped("failed_count")) + sum(
            self.model_ids.mapped("unreadable_count")
        )
        self.clean = state == "done" and not failed and self.balanced and not self.dry_run
        if not self.dry_run and self.model_ids and state != "paused":  # it ran
            self.plan_id.state = "clean" if self.clean else "ran"
        self._post_summary()
        if self._can_commit():
            # the outcome of the run, whatever it is
            self.env.cr.commit()  # pylint: disable=invalid-commit
        return self

    def _check_counts(self):
        """read = created + updated + unchanged + skipped + failed, for every model; said in
        the log when it does not hold (a bug of ours: the run is not clean)."""
        unbalanced = self.model_ids.filtered(lambda line: not line.balanced)
        for line in unbalanced:
            self.env["migration.run.log"].create(
                {
                    "run_id": self.id,
                    "level": "error",
                    "source_model": line.source_model,
                    "statement": "counts",
                    "message": self.env._(
                        "the counts do not add up: read %(read)s, but created + updated + "
                        "unchanged + skipped + failed = %(sum)s",
                        read=line.read_count,
                        sum=sum(line[f"{name}_count"] for name in OUTCOMES),
                    ),
                }
            )
        self.balanced = not unbalanced

    def _post_summary(self):
        rows = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(Markup("<td>%s</td>") % value for value in (model, *(counts[n] for n in COUNTERS)))
            for model, counts in self.summary().items()
        )  # fmt: skip
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


def _amounts_by_range(journal):
    """``{(model, range start): {column: what the journal adds to it}}``, every range it
    checkpointed included."""
    amounts = {key: {} for key in journal.checkpoints}

    def added_to(model):
        return amounts.setdefault((model, journal.ranges.get(model, 0)), {})

    for model, counter in journal.counters.items():
        added_to(model).update(
            {f"{name}_count": counter[name] for name in COUNTERS if counter.get(name)}
        )
    for model, seconds in journal.seconds.items():
        added_to(model)["seconds"] = seconds
    for model, phases in journal.phases.items():
        added_to(model).update({f"{phase}_seconds": seconds for phase, seconds in phases.items()})
    return amounts


def _unless_refused(cr, query):
    """Run ``query``, unless PostgreSQL refuses it for a concurrent transaction: another job
    wrote the same row, and what it wrote stands."""
    try:
        with cr.savepoint(flush=False):
            cr.execute(query, log_exceptions=False)
    except CONCURRENCY_ERRORS:
        _logger.debug("left to a concurrent transaction: %s", query)


def _source_count(transport, rule, options, since=None):
    domain = list(rule.domain or [])
    if since:
        domain = [("write_date", ">=", fields.Datetime.to_string(since))] + domain
    try:
        return transport.search_count(
            rule.source_model, domain, context={"active_test": options["active_test"]}
        )
    except RemoteError:
        return 0
