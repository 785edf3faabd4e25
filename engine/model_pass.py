"""One model over one source id range: the unit of work.

A run calls ``migrate_range`` once per model over every id; a job calls it once per range
of a model. Each batch is committed with its checkpoint, per (model, range start), so a
resumed run or a requeued job goes on after the last committed batch.
"""

import time
from dataclasses import dataclass

from .batch import BatchWork, unreadable_of
from .heap import frozen_heap
from .run_context import RunStopped


@dataclass
class Policy:
    """Which source records a pass reads, and what a failure does."""

    since: str | None = None  # only records written since (the source's clock, UTC)
    only_ids: dict | None = None  # {model: source ids}: only these (a retry)
    on_error: str = "log"  # log | stop


class ModelPass:
    def __init__(self, ctx):
        self.ctx = ctx
        self._clocks = {}  # model -> the source's clock taken when its reading started early

    @frozen_heap()
    def migrate_range(self, model, first_id=0, last_id=None, policy=None, then=None):
        """Migrate the records of ``model`` with ``first_id < id <= last_id`` (``last_id``
        None: no upper bound). ``then``: ``(model, policy)`` of the pass that comes next,
        all of its ids: its reading starts once this pass has its first page."""
        ctx, policy = self.ctx, policy or Policy()
        journal = ctx.journal
        compiled = ctx.compiled(model)
        work = BatchWork(ctx, compiled)
        key = (model, first_id)
        is_retry = policy.only_ids is not None
        reading = self._reading(model, policy, first_id, last_id)
        *_read, after_id = reading
        journal.states[model] = "running"
        if not is_retry:
            journal.ranges[model] = first_id
            clock = self._clocks.pop(model) if model in self._clocks else ctx.source_clock()
            journal.source_clock.setdefault(model, clock)
        start = time.perf_counter()
        try:
            pages = iter(ctx.read_ahead(*reading))
            while True:
                with journal.timing(model, "read"):  # waiting for the source
                    rows = next(pages, None)
                if then:
                    self._read_next(*then)
                    then = None
                if rows is None:
                    break
                failures = journal.failures
                ctx.retrying(lambda rows=rows: work.first_pass(rows), model, flush_phase="write")
                after_id = max([row["id"] for row in rows[-1:]] + list(unreadable_of(rows)))
                if not is_retry:
                    journal.checkpoints[key] = (after_id, False)
                with journal.timing(model, "checkpoint"):
                    ctx.checkpoint()
                self._stop_on_failure(policy, failures)
            if not is_retry:
                journal.checkpoints[key] = (after_id, True)
            with journal.timing(model, "checkpoint"):
                ctx.checkpoint()
        finally:
            journal.seconds[model] += time.perf_counter() - start

    @frozen_heap()
    def second_pass(self, model, policy=None):
        """Write the deferred fields of the records the first pass listed for it."""
        ctx, policy = self.ctx, policy or Policy()
        journal = ctx.journal
        compiled = ctx.compiled(model)
        start = time.perf_counter()
        try:
            if compiled.has_second_pass:
                work = BatchWork(ctx, compiled)
                journal.states[model] = "second_pass"
                for outcomes in ctx.pending.batches(model, ctx.options["batch_size"]):
                    failures = journal.failures
                    with journal.timing(model, "second_pass"):
                        rows = ctx.read_ids(model, outcomes, compiled.deferred_read_fields)
                        ctx.retrying(lambda rows=rows, o=outcomes: work.second_pass(rows, o), model)
                    with journal.timing(model, "checkpoint"):
                        ctx.checkpoint()
                    self._stop_on_failure(policy, failures)
            journal.states[model] = "done"
            with journal.timing(model, "checkpoint"):
                ctx.checkpoint()
        finally:
            journal.seconds[model] += time.perf_counter() - start

    def _read_next(self, model, policy):
        """Start reading ``model``'s pass (all of its ids) while this one writes. Its clock
        is taken before, and is the one its pass keeps: what the source writes from then on
        is for the next incremental run."""
        if policy.only_ids is None:
            self._clocks[model] = self.ctx.source_clock()
        self.ctx.read_next(*self._reading(model, policy))

    def _reading(self, model, policy, first_id=0, last_id=None):
        """``(model, fields, domain, after id)``: what a pass over the range reads."""
        ctx = self.ctx
        compiled = ctx.compiled(model)
        after_id = 0
        if policy.only_ids is None:
            after_id = max(first_id, ctx.checkpoints.get((model, first_id), (0, False))[0])
        domain = self._domain(compiled.rule, policy, model, last_id)
        return model, compiled.read_fields, domain, after_id

    def _domain(self, rule, policy, model, last_id):
        # Each part is a whole domain: put side by side, Odoo ANDs them.
        domain = list(rule.domain or [])
        if last_id:
            domain = [("id", "<=", last_id)] + domain
        if policy.since:
            domain = [("write_date", ">=", policy.since)] + domain
        if policy.only_ids is not None:
            ids = sorted(policy.only_ids.get(model, ()))
            domain = [("id", "in", ids)] + domain
        return domain

    def _stop_on_failure(self, policy, failures_before):
        journal = self.ctx.journal
        if policy.on_error == "stop" and journal.failures > failures_before:
            raise RunStopped(f"on_error is stop, and a record failed: {journal.first_failure}")
