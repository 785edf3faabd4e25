"""A run as a graph of jobs: a start, then per model (in the run's order) one job per range
of source ids, run in parallel, then the second pass of each model, then the end.

Each job builds its own engine for the run (``_migrate_range``, ``_second_pass``): what the
jobs share is in the database (ranges, each with its checkpoint and counters, written only
by the job working on it; the lines, their sums; the records waiting for the second pass;
the id map).
"""

import contextlib
import logging

from odoo import models

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.remote_data_migration.engine.journal import Journal
from odoo.addons.remote_data_migration.engine.transport import RemoteError
from odoo.addons.remote_data_migration.engine.writer import CONCURRENCY_ERRORS
from odoo.addons.remote_data_migration.models.migration_run_execution import _NotStarted

_logger = logging.getLogger(__name__)

# Remote failures worth trying again later: the source, or what stands in front of it, is
# busy or down for a while.
PASSING_REMOTE_ERRORS = ("connection", "timeout", "http")


@contextlib.contextmanager
def _tried_again_later():
    """A job refused for a concurrent transaction, or by a source that does not answer for
    now, is retried by queue_job (from its last committed batch) instead of failing."""
    try:
        yield
    except CONCURRENCY_ERRORS as exc:
        raise RetryableJobError(f"refused for a concurrent transaction: {exc}") from exc
    except RemoteError as exc:
        if exc.kind not in PASSING_REMOTE_ERRORS:
            raise
        raise RetryableJobError(f"the source does not answer: {exc}") from exc


class MigrationRun(models.Model):
    _inherit = "migration.run"

    def _enqueue_start(self):
        self.ensure_one()
        channel = self.env.ref("remote_data_migration_queue.channel_data_migration").sudo()
        capacity = self.plan_id.job_capacity
        if channel.capacity != capacity:
            channel.capacity = capacity
        # a channel runs no more jobs at once than its parent: the root channel's capacity
        # is raised to the plan's, never lowered (its 0, left to the server-wide
        # configuration, runs one job at a time unless the servers say otherwise: raised too)
        root = channel.parent_id
        if (root.capacity or 1) < capacity:
            root.capacity = capacity
        self.delayable(description=self.env._("%s: start", self.plan_id.name))._job_start().delay()

    def _job_start(self):
        """Check the plan, make the run's lines, run the pre hook, cut each model's source
        ids in ranges, then queue the rest of the graph."""
        if self.state not in ("draft", "running"):
            return f"run {self.id} is {self.state}"
        with _tried_again_later():
            try:
                self._begin()
            except _NotStarted as exc:
                self._finish(Journal(), "failed", str(exc), retry=False)
                return str(exc)
            self._run_hook("pre")
            self._cut_ranges()
        self._enqueue_parts()
        return f"{len(self.range_ids)} ranges queued"

    def _cut_ranges(self):
        """One range per ``batches_per_job`` batches of source ids, a model matched by a
        discriminator in one range (two jobs would each create what the other matches)."""
        transport = self.source_id._transport()
        spec = self.plan_id._to_spec()
        size = self.plan_id.batch_size * self.plan_id.batches_per_job
        context = {"active_test": spec.options["active_test"]}
        # where the next incremental run starts: before any job reads (each job would
        # otherwise say its own start, on the line all of them share)
        clock = transport.source_clock()
        self.model_ids.filtered(lambda line: not line.next_since).next_since = clock
        for line in self.model_ids.sorted("sequence"):
            rule = spec.model(line.source_model)
            cuts = []
            if not rule.discriminator:
                domain = list(rule.domain or [])
                if line.since:
                    domain = [("write_date", ">=", line.since)] + domain
                ids = transport.call(
                    line.source_model, "search", domain, order="id", context=context
                )
                cuts = ids[size - 1 : -1 : size]
            firsts = [0, *cuts]
            lasts = [*cuts, 0]  # the last range has no end: what the source adds meanwhile
            self.env["migration.run.range"].create(
                [
                    {
                        "run_id": self.id,
                        "source_model": line.source_model,
                        "first_id": first,
                        "last_id": last,
                    }
                    for first, last in zip(firsts, lasts, strict=True)
                ]
            )

    def _enqueue_parts(self):
        """Queue what is left of the run: the ranges not done, model after model, then the
        second passes, then the end."""
        stages = []
        for line in self.model_ids.sorted("sequence"):
            ranges = self.range_ids.filtered(
                lambda r, m=line.source_model: r.source_model == m and r.state != "done"
            )
            if ranges and line.state != "done":
                stages.append(
                    group(
                        *(
                            self._part(f"{r.source_model} after {r.first_id}")._job_range(
                                r.source_model, r.first_id, r.last_id or None
                            )
                            for r in ranges
                        )
                    )  # fmt: skip
                )
        for line in self.model_ids.sorted("sequence").filtered(lambda line: line.state != "done"):
            stages.append(
                self._part(f"{line.source_model}: second pass")._job_second_pass(line.source_model)
            )
        stages.append(self._part("end")._job_end())
        chain(*stages).delay()

    def _part(self, what):
        return self.delayable(description=f"{self.plan_id.name} (run {self.id}): {what}")

    def _job_range(self, model, first_id, last_id):
        if self.state != "running":
            return f"run {self.id} is {self.state}"
        with _tried_again_later():
            self._migrate_range(model, first_id, last_id)
        return f"{model} after {first_id}: done"

    def _job_second_pass(self, model):
        if self.state != "running":
            return f"run {self.id} is {self.state}"
        with _tried_again_later():
            self._second_pass(model)
        return f"{model}: second pass done"

    def _job_end(self):
        if self.state != "running":
            return f"run {self.id} is {self.state}"
        with _tried_again_later():
            self._run_hook("post")
            self._run_hook("end")
            self._end()
        return f"run {self.id}: {self.state}"
