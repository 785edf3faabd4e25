"""What the passes of one run share: the target, the source, the compiled plan, the
bookkeeping (id map, pending store, journal), and the batch boundary (save, commit, cancel).

A run builds one; a job working on part of a run builds its own for the same run.
"""

import logging
import random
import time

from psycopg2 import errorcodes

from .bodies import BodyNames
from .pending import MemoryPending, PendingStore
from .prefetch import Prefetch, in_thread
from .resolver import ID_MAP_TABLE, IdMap, Resolver, source_xmlids
from .sql_writer import SqlWriter
from .table_stats import TableStats
from .transformer import CompiledRule
from .writer import CONCURRENCY_ERRORS, QUIET_CONTEXT, Writer, system_records

_logger = logging.getLogger(__name__)

XMLIDS_AT_ONCE = 2000  # a model with no more external ids on the source: read at once
BATCH_TRIES = 5  # a batch PostgreSQL refuses for a concurrent transaction is done again


class RunCancelled(Exception):
    """The user cancelled the run; it stops at a batch boundary."""


class RunStopped(Exception):
    """``on_error: stop`` and a record failed (kept in the log, with what was committed)."""


class RunPaused(Exception):
    """The run used the time it was given (a scheduled action's slice): it goes on later
    from its checkpoints."""


class RunContext:
    def __init__(
        self,
        env,
        transport,
        spec,
        source_schema,
        journal,
        *,
        source_key,
        run_key=None,
        save=None,
        modules=None,
        checkpoints=None,
        can_commit=False,
        is_cancelled=None,
        deadline=None,
        left_out=None,
    ):
        # Odoo recomputes what a batch changed when it flushes, and tracks the changes of
        # tracked computed fields then (an order's total): the batch flushes in this context
        self.env = env(context=dict(env.context, **QUIET_CONTEXT))
        self.transport = transport
        self.spec = spec
        self.options = spec.options
        self.source_schema = source_schema
        self.journal = journal
        self.modules = modules
        self.checkpoints = checkpoints or {}  # (model, range start) -> (last id, done)
        self.can_commit = can_commit
        self._save = save or (lambda journal: None)
        self._is_cancelled = is_cancelled or (lambda: False)
        self.deadline = deadline  # time.monotonic() after which the run pauses
        self.left_out = left_out or {}  # {(model, field): why its wildcard leaves it out}
        self.id_map = IdMap(env.cr, source_key, run_key)
        self.table_stats = TableStats(
            env.cr,
            minimum=self.options.get("batch_size") or 500,
            columns={ID_MAP_TABLE: IdMap.QUERIED_COLUMNS},
        )
        self.pending = PendingStore(env.cr, run_key) if run_key else MemoryPending()
        self.writer = Writer(self.env, self.options.get("duplicates", "update"))
        keep_system = self.options.get("system_records", "keep") == "keep"
        self.system_records = system_records(env.cr) if keep_system else {}
        self.sql_writer = SqlWriter(self.env)
        self.rules = [rule for rule in spec.models if not rule.is_reference_only]
        self.resolver = Resolver(
            self.env,
            transport,
            self.id_map,
            {
                r.source_model: (r.target_model, r.discriminator)
                for r in spec.models
                if r.discriminator
            },
            {rule.source_model: rule.target_model for rule in self.rules},
        )
        self.bodies = BodyNames(self.env, transport, self.resolver)
        self._compiled = {}
        self._clients = []  # the reading threads' clients of the source
        self._readings = []  # (client, Prefetch) of the readings started
        self._next_reading = None  # (key, Prefetch) of the pass that comes next

    def compiled(self, model):
        """The rule of ``model`` compiled for this run (once)."""
        if model not in self._compiled:
            rule = next(r for r in self.rules if r.source_model == model)
            compiled = CompiledRule(
                rule,
                self.source_schema.get(model, {}),
                self.env,
                self.modules,
                self.bodies.names(),
                self.bodies.helpers,
                self.resolver,
                rule.unresolved or self.options.get("unresolved", "error"),
                self.left_out,
            )
            for name in compiled.missing_fields:
                self.journal.log(
                    "warning", f"the source has no field {name}: its statements are left out",
                    model=model,
                )  # fmt: skip
            self._compiled[model] = compiled
        return self._compiled[model]

    def source_context(self):
        return {"active_test": bool(self.options.get("active_test"))}

    # -- reading ----------------------------------------------------------------------------------

    def _free_client(self):
        """A client of the source for a reading thread: the run's own clones, two at most
        (this pass's reading and the next's), each used by one thread at a time."""
        busy = {id(client) for client, reading in self._readings if reading.alive}
        for client in self._clients:
            if id(client) not in busy:
                return client
        clone = getattr(self.transport, "clone", None)
        client = clone() if clone else self.transport
        self._clients.append(client)
        return client

    def _start_reading(self, key, xmlids_now=False):
        """The pages of ``key`` (model, fields, domain, after id) read in a thread of their
        own, from now. ``xmlids_now``: the model's external ids are asked for at the same
        time by the run's client (nobody else uses it while the pass waits for its first
        page), else by the reading's, before its first page."""
        model, fields, domain, after_id = key
        client, beside = self._free_client(), []
        if xmlids_now:
            beside.append(in_thread(self._all_xmlids, model, self.transport))
            all_xmlids = beside[0].result
        else:
            all_xmlids = lambda: self._all_xmlids(model, client)  # noqa: E731
        described = self.source_schema.get(model)
        integer_fields = (
            {name for name, desc in described.items() if desc.get("type") == "integer"}
            if described
            else None
        )

        def pages():
            few = unknown = object()
            for rows in client.read_batches(
                model, fields, domain, batch_size=self.options["batch_size"],
                context=self.source_context(), after_id=after_id,
                integer_fields=integer_fields,
            ):  # fmt: skip
                if few is unknown:
                    few = all_xmlids()
                xmlids = dict.fromkeys(row["id"] for row in rows)
                if few is None:
                    for xmlid, source_id in source_xmlids(client, model, list(xmlids)).items():
                        xmlids[source_id] = xmlid
                else:
                    xmlids = {source_id: few.get(source_id) for source_id in xmlids}
                yield rows, xmlids

        reading = Prefetch(pages(), beside=beside)
        self._readings = [(c, r) for c, r in self._readings if r.alive] + [(client, reading)]
        return reading

    def read_ahead(self, model, fields, domain, after_id=0):
        """The model's rows page by page, each with its external ids, read in a thread.

        Read already when the pass before said it comes next (``read_next``); else its
        external ids are asked for while its first page is on its way, and its integer
        fields come from the schema: a pass waits for one call, not three."""
        key = (model, list(fields), list(domain), after_id)
        ready, self._next_reading = self._next_reading, None
        if ready and ready[0] == key:
            reading = ready[1]
        else:
            if ready:
                ready[1].close()
            reading = self._start_reading(key, xmlids_now=True)
        try:
            for rows, xmlids in reading:
                self.resolver.know_source_xmlids(model, xmlids)
                yield rows
        finally:
            reading.close()

    def read_next(self, model, fields, domain, after_id=0):
        """Start reading the pass that comes next while this one writes: its first pages
        wait for it (``read_ahead`` takes them), not the other way round."""
        self.stop_reading()
        key = (model, list(fields), list(domain), after_id)
        self._next_reading = (key, self._start_reading(key))

    def stop_reading(self):
        """The run ends or stops: a reading started for a pass that will not come is closed."""
        ready, self._next_reading = self._next_reading, None
        if ready:
            ready[1].close()

    def _all_xmlids(self, model, client):
        """``{source id: (module, name)}`` of every record of ``model`` that has an external
        id on the source, when it has at most ``XMLIDS_AT_ONCE`` (most models: those of the
        source's modules only); None when it has more: they are read with each page. One
        call for the pass instead of one per page."""
        rows = client.call(
            "ir.model.data",
            "search_read",
            [("model", "=", model)],
            ["module", "name", "res_id"],
            limit=XMLIDS_AT_ONCE + 1,
        )
        if len(rows) > XMLIDS_AT_ONCE:
            return None
        return {row["res_id"]: (row["module"], row["name"]) for row in rows}

    def read_ids(self, model, ids, fields):
        return self.transport.call(
            model, "read", sorted(ids), list(fields), context=self.source_context()
        )

    def source_clock(self):
        """The source's time now, by its own clock (None when it does not say)."""
        clock = getattr(self.transport, "source_clock", None)
        return clock() if clock else None

    # -- the batch boundary ---------------------------------------------------------------------

    def retrying(self, work, model, flush_phase=None):
        """``work()``, a batch, kept whole or not at all.

        When PostgreSQL refuses it for a concurrent transaction (serialization failure,
        deadlock, lock not available), the batch is rolled back and done again, up to
        ``BATCH_TRIES`` times, as Odoo retries an RPC call. A run that commits starts a new
        transaction for it: only a new snapshot sees what the other transaction committed.
        """
        for attempt in range(1, BATCH_TRIES + 1):
            mark = self.journal.mark()
            try:
                with self.env.cr.savepoint():
                    result = work()
                    # recomputed quietly, and refused inside the batch
                    if flush_phase:
                        with self.journal.timing(model, flush_phase):
                            self.env.flush_all()
                    else:
                        self.env.flush_all()
                    return result
            except CONCURRENCY_ERRORS as exc:
                self.journal.restore(mark)  # the batch is rolled back: so are its counts
                if attempt == BATCH_TRIES:
                    raise
                if self.can_commit:
                    self.env.cr.rollback()
                    self.env.reset()  # what the ORM held of the rolled-back transaction
                self.forget_batch()
                reason = errorcodes.lookup(exc.pgcode) if exc.pgcode else type(exc).__name__
                self.journal.log(
                    "warning",
                    f"a batch was refused ({reason}: {exc.diag.message_primary}); "
                    f"done again, try {attempt + 1} of {BATCH_TRIES}",
                    model=model,
                )
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
            except Exception:
                self.journal.restore(mark)
                raise

    def grew(self, target_model, rows):
        """``rows`` records of ``target_model`` were created: its tables grew, and the id map."""
        model = self.env[target_model]
        for name in (target_model, *model._inherits):
            self.table_stats.grew(self.env[name]._table, rows)
        self.table_stats.grew(ID_MAP_TABLE, rows)

    def forget_batch(self):
        """Memory stays flat whatever the number of records: what a batch wrote is in the
        database and the id map, not in the caches."""
        self.env.invalidate_all()
        self.resolver.forget_migrated()

    def checkpoint(self):
        """Save the journal and commit: a batch and its bookkeeping are kept together, or
        not at all. Then stop here if the user cancelled, or if the time is up."""
        self._save(self.journal)
        if self.can_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        # in a transaction of its own: ANALYZE holds its table's lock to the commit
        if self.table_stats.refresh() and self.can_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.forget_batch()
        if self._is_cancelled():
            raise RunCancelled()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RunPaused()
