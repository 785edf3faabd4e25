"""One run of a plan: the phases of DESIGN.md, batch by batch.

pre hook -> models in dependency order (read, resolve, transform, write, id map,
checkpoint, commit) -> deferred fields -> post hook -> recomputations -> end hook.

The runner keeps its counters and log lines in a ``Journal``; ``save`` (given by the run
record) persists them at each checkpoint. It commits only when told it may (never in tests
nor in dry runs).
"""

import logging
import random
import re
import time
from collections import Counter

from psycopg2 import errorcodes

from .mapping import RowHelpers, compile_body
from .prefetch import prefetched
from .resolver import IdMap, Resolver, source_xmlids
from .sql_writer import SqlWriter, create_with_fallback
from .transformer import CompiledRule, NewId, RowFailure, RowSkipped, dump_values, raw_ids
from .writer import CONCURRENCY_ERRORS, Writer

_logger = logging.getLogger(__name__)

COUNTERS = ("read", "created", "updated", "skipped", "failed")
BATCH_TRIES = 5  # a batch PostgreSQL refuses for a concurrent transaction is done again
# sql() shares the run's transaction, which commits once per batch: never a statement ending it
TRANSACTION_CONTROL = re.compile(
    r"(^|;)\s*(commit|rollback|abort|end|begin|start\s+transaction|savepoint|release|"
    r"prepare\s+transaction)\b",
    re.IGNORECASE,
)


class RunCancelled(Exception):
    """The user cancelled the run; it stops at a batch boundary."""


class RunStopped(Exception):
    """``on_error: stop`` and a record failed."""


class Journal:
    """What happened since the last save: counter increments, checkpoints, log lines."""

    def __init__(self):
        self.counters = {}
        self.checkpoints = {}  # source model -> (last source id, model done)
        self.seconds = Counter()
        self.logs = []

    def count(self, model, name, amount=1):
        if amount:
            self.counters.setdefault(model, Counter())[name] += amount

    def log(
        self,
        level,
        message,
        model=None,
        source_id=None,
        target_model=None,
        statement=None,
        values=None,
    ):
        log = _logger.warning if level == "error" else _logger.info
        log("%s %s: %s", model or "run", source_id or "", message)
        self.logs.append(
            {
                "level": level,
                "message": message,
                "source_model": model,
                "source_res_id": source_id,
                "target_model": target_model,
                "statement": statement,
                "values": values,
            }
        )

    def mark(self):
        """A point to come back to if the batch under way is rolled back."""
        return ({model: Counter(c) for model, c in self.counters.items()}, len(self.logs))

    def restore(self, mark):
        self.counters, length = mark
        del self.logs[length:]

    def clear(self):
        self.counters = {}
        self.checkpoints = {}
        self.seconds = Counter()
        self.logs = []


class Runner:
    def __init__(
        self,
        env,
        transport,
        spec,
        source_schema,
        *,
        source_key,
        run_key=None,
        journal=None,
        save=None,
        modules=None,
        models=None,
        since=None,
        checkpoints=None,
        only_ids=None,
        can_commit=False,
        is_cancelled=None,
        duplicates="update",
    ):
        self.env = env
        self.transport = transport
        self.spec = spec
        self.options = spec.options
        self.source_schema = source_schema
        self.journal = journal or Journal()
        self._save = save or (lambda journal: None)
        self.modules = modules
        self.only_models = set(models) if models else None
        self.since = since
        self.checkpoints = checkpoints or {}
        self.only_ids = only_ids
        self.can_commit = can_commit
        self.is_cancelled = is_cancelled or (lambda: False)
        self._reader = None
        self.id_map = IdMap(env.cr, source_key, run_key)
        self.writer = Writer(env, duplicates)
        self.sql_writer = SqlWriter(env)
        migrated = [rule for rule in spec.models if not rule.is_reference_only]
        self.resolver = Resolver(
            env,
            transport,
            self.id_map,
            {
                rule.source_model: (rule.target_model, rule.discriminator)
                for rule in spec.models
                if rule.discriminator
            },
            {rule.source_model: rule.target_model for rule in migrated},
        )
        # source model -> ids whose parents were not known at creation: what the second
        # pass writes (all ids when the first pass ran in another process: a resume)
        self.pending = {}
        self.helpers = RowHelpers()
        self._source_calls = {}
        self.names = {
            **self.helpers.names(),
            "env": env,
            "newid": NewId,
            "ref": self._ref,
            "sql": self._sql,
            "source": self._source,
        }
        self.rules = [
            rule
            for rule in sorted(migrated, key=lambda r: r.sequence or 0)
            if (self.only_models is None or rule.source_model in self.only_models)
            and (only_ids is None or rule.source_model in only_ids)
        ]

    # -- names of the bodies --------------------------------------------------------------------

    def _ref(self, model, source_id):
        target_model = self.resolver.target_model_of(model)
        self.resolver.resolve({(model, source_id, target_model)})
        return self.resolver.get(model, source_id, target_model)

    def _sql(self, db, query, args=None):
        if db != "target":
            raise ValueError(
                "sql() runs on the target only: the source is reached over RPC, use source()"
            )
        control = TRANSACTION_CONTROL.search(query)
        if control:
            raise ValueError(
                f"sql() refuses {control.group(2).upper()!r}: the run commits after each batch"
            )
        self.env.cr.execute(query, args)
        return self.env.cr.fetchall() if self.env.cr.description else None

    def _source(self, model, method, *args, **kwargs):
        key = (model, method, repr(args), repr(sorted(kwargs.items())))
        if key not in self._source_calls:
            self._source_calls[key] = self.transport.call(model, method, *args, **kwargs)
        return self._source_calls[key]

    # -- the phases -------------------------------------------------------------------------------

    def run(self):
        self._hook("pre")
        self._checkpoint()  # a batch rolled back for a retry never takes the pre hook with it
        compiled = []
        for rule in self.rules:
            rule_compiled = self._compile(rule)
            compiled.append(rule_compiled)
            done = self.checkpoints.get(rule.source_model, (0, False))[1]
            if not done:
                self._migrate(rule_compiled)
        for rule_compiled in compiled:
            if rule_compiled.deferred:
                self._migrate_deferred(rule_compiled)
        self._hook("post")
        self.env.flush_all()  # stored computed fields and parent paths of what was written
        self._hook("end")
        self._checkpoint()
        return self.journal

    def _compile(self, rule):
        source_fields = self.source_schema.get(rule.source_model, {})
        compiled = CompiledRule(
            rule,
            source_fields,
            self.env,
            self.modules,
            self.names,
            self.helpers,
            self.resolver,
            self.options.get("unresolved", "error"),
        )
        for name in compiled.missing_fields:
            self.journal.log(
                "warning",
                f"the source has no field {name}: its statements are left out",
                model=rule.source_model,
            )
        return compiled

    def _hook(self, name):
        body = (self.spec.hooks.get(name) or "").strip()
        if not body:
            return
        function = compile_body(body, self.names, arguments=(), filename=f"{name} hook")
        try:
            function()
        except Exception as exc:
            raise RuntimeError(f"the {name} hook failed: {type(exc).__name__}: {exc}") from exc
        self.journal.log("info", f"{name} hook done")

    def _domain(self, rule):
        # Each part is a whole domain: put side by side, Odoo ANDs them.
        domain = list(rule.domain or [])
        if self.since:
            domain = [("write_date", ">=", self.since)] + domain
        if self.only_ids is not None:
            domain = [("id", "in", sorted(self.only_ids.get(rule.source_model, ())))] + domain
        return domain

    def _context(self):
        return {"active_test": bool(self.options.get("active_test"))}

    def _migrate(self, compiled):
        model = compiled.source_model
        after_id = self.checkpoints.get(model, (0, False))[0]
        if after_id:
            self.pending[model] = None
        batches = self._read_ahead(
            model,
            compiled.read_fields,
            self._domain(compiled.rule),
            batch_size=self.options["batch_size"],
            context=self._context(),
            after_id=after_id if self.only_ids is None else 0,
        )
        tick = time.monotonic()
        for rows in batches:
            self._retrying(lambda rows=rows: self._migrate_batch(compiled, rows), model)
            now = time.monotonic()
            self.journal.seconds[model] += now - tick  # waiting for the source included
            tick = now
            last_id = max([row["id"] for row in rows[-1:]] + list(_unreadable(rows)))
            self.journal.checkpoints[model] = (last_id, False)
            self._checkpoint()
            self._forget_batch()
        self.journal.checkpoints[model] = (
            self.journal.checkpoints.get(model, (after_id, False))[0],
            True,
        )
        self._checkpoint()

    @property
    def reader(self):
        """The read-ahead thread's own client of the source."""
        if self._reader is None:
            clone = getattr(self.transport, "clone", None)
            self._reader = clone() if clone else self.transport
        return self._reader

    def _read_ahead(self, model, fields, domain, **kwargs):
        """The model's rows batch by batch, each with its external ids, read in a thread."""
        reader = self.reader

        def batches():
            for rows in reader.read_batches(model, fields, domain, **kwargs):
                ids = [row["id"] for row in rows]
                xmlids = dict.fromkeys(ids)
                for xmlid, source_id in source_xmlids(reader, model, ids).items():
                    xmlids[source_id] = xmlid
                yield rows, xmlids

        for rows, xmlids in prefetched(batches()):
            self.resolver.know_source_xmlids(model, xmlids)
            yield rows

    def _read_ids(self, model, fields, ids):
        """Batches of the rows ``ids``, to be read in the read-ahead thread."""
        reader, ids, size, context = (
            self.reader,
            sorted(ids),
            self.options["batch_size"],
            self._context(),
        )
        return (
            reader.call(model, "read", ids[start : start + size], list(fields), context=context)
            for start in range(0, len(ids), size)
        )

    def _retrying(self, work, model):
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
                    return work()
            except CONCURRENCY_ERRORS as exc:
                self.journal.restore(mark)  # the batch is rolled back: so are its counts
                if attempt == BATCH_TRIES:
                    raise
                if self.can_commit:
                    self.env.cr.rollback()
                    self.env.reset()  # what the ORM held of the rolled-back transaction
                self._forget_batch()
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

    def _forget_batch(self):
        """Memory stays flat whatever the number of records: what a batch wrote is in the
        database and the id map, not in the caches."""
        self.env.invalidate_all()
        self.resolver.forget_migrated()

    def _checkpoint(self):
        self._save(self.journal)
        if self.can_commit:
            # a batch and its checkpoint are kept together, or not at all
            self.env.cr.commit()  # pylint: disable=invalid-commit
        if self.is_cancelled():
            raise RunCancelled()

    def _migrate_batch(self, compiled, rows):
        model = compiled.source_model
        for source_id, message in sorted(_unreadable(rows).items()):
            self.journal.count(model, "read")
            self.journal.count(model, "failed")
            self.journal.log(
                "error", f"the source cannot read this record: {message}", model=model,
                source_id=source_id, statement="read",
            )  # fmt: skip
        if not rows:
            return
        self.journal.count(model, "read", len(rows))
        self.resolver.resolve(compiled.references(rows))
        prepared = self._transform_batch(compiled, rows)
        if not compiled.self_references:
            self._write_wave(compiled, prepared)
            return
        # parents before their children, each wave with its parents' ids in its values
        by_id = {row["id"]: row for row in rows}
        pending = self.pending.setdefault(model, set())
        if pending is None:  # a resumed run: the second pass reads every row anyway
            pending = set()
        for wave in _waves(compiled, prepared, by_id):
            wave_rows = [by_id[source_id] for source_id, _target_rows in wave]
            self.resolver.resolve(compiled.references(wave_rows, compiled.self_references))
            for source_id, target_rows in wave:
                row = by_id[source_id]
                known = all(
                    self.resolver.get(v.source_relation, i, v.target_relation)
                    for v in compiled.self_references
                    for i in raw_ids(row.get(v.statement.source_field))
                )
                if known:
                    for target_model, vals in compiled.transform(
                        row, compiled.self_references
                    ).items():
                        target_rows.setdefault(target_model, {}).update(vals)
                else:
                    pending.add(source_id)
            self._write_wave(compiled, wave)

    def _write_wave(self, compiled, prepared):
        model = compiled.source_model
        identities = {
            (source_id, target_model): _identity(model, source_id, target_model, vals)
            for source_id, target_rows in prepared
            for target_model, vals in target_rows.items()
            if vals or target_model == compiled.target_model
        }
        # who they already are on the target: id map, then external id, then discriminator
        self.resolver.resolve(set(identities.values()))
        existing = {key: self.resolver.get(*identity) for key, identity in identities.items()}
        self._inherited_parents(compiled, existing)
        outcome, failed = self._write_batch(compiled, prepared, identities, existing)
        self.id_map.store(
            [
                (*identities[key][:2], key[1], target_id)
                for key, target_id in existing.items()
                if target_id and key[0] not in failed
            ]
        )
        for source_id, (message, target_model, vals) in failed.items():
            self.journal.count(model, "failed")
            self.journal.log(
                "error",
                message,
                model=model,
                source_id=source_id,
                target_model=target_model,
                statement="write",
                values=dump_values(vals),
            )
        for source_id, _target_rows in prepared:
            if source_id not in failed:
                state = outcome.get(source_id)
                self.journal.count(model, state if state in ("created", "updated") else "skipped")
        if failed and self.options.get("on_error") == "stop":
            source_id, (message, _model, _vals) = next(iter(failed.items()))
            raise RunStopped(f"{model} {source_id}: {message}")

    def _transform_batch(self, compiled, rows):
        """``[(source id, {target model: vals})]``; the rows that cannot be are logged."""
        model = compiled.source_model
        prepared = []
        for row in rows:
            try:
                prepared.append((row["id"], compiled.transform(row)))
            except RowSkipped as exc:
                self.journal.count(model, "skipped")
                self.journal.log("info", f"skipped: {exc}", model=model, source_id=row["id"])
            except RowFailure as exc:
                self.journal.count(model, "failed")
                self.journal.log(
                    "error",
                    str(exc),
                    model=model,
                    source_id=row["id"],
                    statement=exc.statement,
                    values=dump_values(row),
                )
        return prepared

    def _write_batch(self, compiled, prepared, identities, existing):
        """Create or update each target model of the batch, a split's models in their order.

        ``existing`` gains the created records. Returns ``({source id: created | updated |
        unchanged}, {source id: (message, target model, vals)})``.
        """
        handles = {}
        failed = {}
        outcome = {}
        for target_model in _write_order(compiled.target_models, prepared):
            creates, updates = [], []
            for source_id, target_rows in prepared:
                if source_id in failed or (source_id, target_model) not in identities:
                    continue
                vals = dict(target_rows[target_model])
                handle = vals.pop("id", None)
                try:
                    vals = {name: _substitute(value, handles) for name, value in vals.items()}
                except KeyError:
                    failed[source_id] = (
                        "a newid() of this row was not created",
                        target_model,
                        vals,
                    )
                    continue
                key = (source_id, handle if isinstance(handle, NewId) else None)
                target_id = existing.get((source_id, target_model))
                if target_id:
                    updates.append((key, target_id, vals))
                    if key[1]:
                        handles[key[1]] = target_id
                else:
                    creates.append((key, vals))
            if compiled.rule.mode == "sql" and target_model == compiled.target_model:
                created, refused = create_with_fallback(
                    self.sql_writer, self.writer, target_model, creates
                )
            else:
                created, refused = self.writer.create_batch(target_model, creates)
            updated, unchanged, refused_updates = self.writer.update_batch(target_model, updates)
            refused.update(refused_updates)
            for (source_id, handle), target_id in created.items():
                existing[(source_id, target_model)] = target_id
                self.resolver.remember(*identities[(source_id, target_model)], target_id)
                if handle:
                    handles[handle] = target_id
                outcome.setdefault(source_id, "created")
            for source_id, _handle in updated:
                outcome[source_id] = "created" if outcome.get(source_id) == "created" else "updated"
            for source_id, _handle in unchanged:
                outcome.setdefault(source_id, "unchanged")
            vals_of = dict(creates) | {key: vals for key, _tid, vals in updates}
            for key, message in refused.items():
                failed[key[0]] = (message, target_model, vals_of[key])
        return outcome, failed

    def _inherited_parents(self, compiled, existing):
        """A split into a model the main one ``_inherits`` (a user's partner): when the main
        record exists, its parent record is the one to update."""
        main_model = self.env[compiled.target_model]
        for parent_model, link in main_model._inherits.items():
            wanted = {
                source_id: existing[(source_id, compiled.target_model)]
                for (source_id, target_model), target_id in existing.items()
                if target_model == parent_model
                and not target_id
                and existing.get((source_id, compiled.target_model))
            }
            if not wanted:
                continue
            records = main_model.browse(list(wanted.values())).with_context(active_test=False)
            parents = {record.id: record[link].id for record in records}
            for source_id, main_id in wanted.items():
                existing[(source_id, parent_model)] = parents.get(main_id) or None

    def _migrate_deferred(self, compiled):
        model = compiled.source_model
        pending = self.pending.get(model)
        if compiled.only_self_references_deferred and pending is not None:
            if not pending:
                return
            # only the rows whose parent came later than they did
            batches = prefetched(self._read_ids(model, compiled.deferred_read_fields, pending))
        else:
            batches = prefetched(
                self.reader.read_batches(
                    model,
                    compiled.deferred_read_fields,
                    self._domain(compiled.rule),
                    batch_size=self.options["batch_size"],
                    context=self._context(),
                )
            )
        for rows in batches:
            self._retrying(lambda rows=rows: self._write_deferred(compiled, rows), model)
            self._checkpoint()
            self._forget_batch()

    def _write_deferred(self, compiled, rows):
        model = compiled.source_model
        targets = self.id_map.lookup(model, [row["id"] for row in rows])
        self.resolver.resolve(compiled.references(rows, compiled.deferred))
        writes = {}
        for row in rows:
            try:
                target_rows = compiled.transform(row, compiled.deferred)
            except (RowFailure, RowSkipped) as exc:
                self.journal.log(
                    "error", f"deferred field: {exc}", model=model, source_id=row["id"],
                    statement=getattr(exc, "statement", None),
                )  # fmt: skip
                continue
            for target_model, vals in target_rows.items():
                target_id = targets.get((row["id"], target_model))
                if vals and target_id:
                    writes.setdefault(target_model, {})[target_id] = vals
        for target_model, by_id in writes.items():
            refused = self.writer.write_grouped(target_model, by_id)
            for _target_id, message in refused.items():
                self.journal.log(
                    "error",
                    f"deferred field: {message}",
                    model=model,
                    target_model=target_model,
                )


def _unreadable(rows):
    """``{source id: message}``: the rows of a page the source could not read."""
    return getattr(rows, "unreadable", {})


def _waves(compiled, prepared, by_id):
    """``prepared`` in waves: a row after the rows of the batch it points to as a parent.

    Rows in a cycle come last (their parents are written by the second pass).
    """
    in_batch = {source_id for source_id, _target_rows in prepared}
    parents = {
        source_id: (compiled.self_referenced_ids(by_id[source_id]) & in_batch) - {source_id}
        for source_id in in_batch
    }
    waves, placed, left = [], set(), list(prepared)
    while left:
        wave = [item for item in left if parents[item[0]] <= placed] or left
        waves.append(wave)
        placed.update(source_id for source_id, _target_rows in wave)
        left = [item for item in left if item[0] not in placed]
    return waves


def _write_order(target_models, prepared):
    """Target models of a split, each after those whose newid() handles its values hold."""
    needs = {model: set() for model in target_models}
    for _source_id, target_rows in prepared:
        for model, vals in target_rows.items():
            for value in vals.values():
                if isinstance(value, NewId) and value.model and value.model != model:
                    needs.setdefault(model, set()).add(value.model)
    order = []
    pending = list(needs)
    while pending:
        ready = [m for m in pending if not (needs[m] - set(order))] or pending[:1]
        order.extend(ready)
        pending = [m for m in pending if m not in ready]
    return order


def _identity(source_model, source_id, target_model, vals):
    """The source record a target record of this row stands for."""
    handle = vals.get("id")
    if isinstance(handle, NewId) and handle.identity:
        return (*handle.identity, target_model)
    return (source_model, source_id, target_model)


def _substitute(value, handles):
    if isinstance(value, NewId):
        return handles[value]
    return value
