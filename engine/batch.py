"""One batch of one model: resolve, transform, write (parents before children), id map.

The first pass writes the rows of a page and lists, in the run's pending store, the records
the second pass completes (deferred fields, parents that came later). The second pass
writes those fields for a batch of them. Every row ends counted once, and every failure
is a log line with its source id, the statement or constraint, and the values.
"""

from .bodies import NewId
from .sql_writer import create_with_fallback
from .transformer import RowFailure, RowSkipped, dump_values, values_digest
from .writer import CONCURRENCY_ERRORS, error_message


class BatchWork:
    def __init__(self, ctx, compiled):
        self.ctx = ctx
        self.compiled = compiled
        self.model = compiled.source_model
        self.journal = ctx.journal

    # -- first pass -----------------------------------------------------------------------------

    def first_pass(self, rows):
        """Write ``rows`` (a page of the source); returns ``{source id: outcome}``."""
        compiled, journal = self.compiled, self.journal
        for source_id, message in sorted(unreadable_of(rows).items()):
            journal.unreadable(self.model, source_id, message)
        if not rows:
            return {}
        journal.read_rows(self.model, [row["id"] for row in rows])
        with journal.timing(self.model, "resolve"):
            self.ctx.resolver.resolve(compiled.references(rows))
        with journal.timing(self.model, "transform"):
            prepared = self._transform(rows)
        outcomes, waiting, entries = {}, set(), IdMapEntries()
        if compiled.self_references:
            by_id = {row["id"]: row for row in rows}
            with journal.timing(self.model, "resolve"):  # who comes after whose parent
                waves = _waves(compiled, prepared, by_id)
            for wave in waves:
                with journal.timing(self.model, "resolve"):
                    waiting |= self._add_known_parents(wave, by_id)
                outcomes.update(self._write_wave(wave, entries))
        else:
            outcomes = self._write_wave(prepared, entries)
        with journal.timing(self.model, "id_map"):  # once for the batch, whatever its waves
            self.ctx.id_map.add(entries.new)
            self.ctx.id_map.store(entries.known)
        if compiled.has_second_pass:
            later = waiting if compiled.only_self_references_deferred else outcomes
            with journal.timing(self.model, "id_map"):
                self.ctx.pending.add(
                    self.model,
                    {
                        source_id: outcomes[source_id]
                        for source_id in later
                        if source_id in outcomes
                    },
                )
        return outcomes

    def _transform(self, rows):
        """``[(source id, {target model: vals})]``; the rows that cannot be are counted."""
        prepared = []
        for row in rows:
            try:
                prepared.append((row["id"], self.compiled.transform(row)))
            except RowSkipped as exc:
                self.journal.count(self.model, "skipped")
                self.journal.log("info", f"skipped: {exc}", model=self.model, source_id=row["id"])
            except RowFailure as exc:
                self.journal.fail(
                    self.model,
                    row["id"],
                    str(exc),
                    statement=exc.statement,
                    values=dump_values(row),
                )
        return prepared

    def _add_known_parents(self, wave, by_id):
        """Give the rows of ``wave`` their parents when these are known now; returns the
        source ids whose parents the second pass writes."""
        compiled, resolver = self.compiled, self.ctx.resolver
        resolver.resolve(
            compiled.references(
                [by_id[source_id] for source_id, _t in wave], compiled.self_references
            )
        )
        waiting = set()
        for source_id, target_rows in wave:
            parents = compiled.known_parents(by_id[source_id])
            if parents is None:
                waiting.add(source_id)
                continue
            for target_model, vals in parents.items():
                target_rows.setdefault(target_model, {}).update(vals)
        return waiting

    def _write_wave(self, prepared, entries):
        """Write ``prepared``; ``entries`` (IdMapEntries) gains theirs. ``{source id:
        outcome}``."""
        compiled, resolver = self.compiled, self.ctx.resolver
        identities = {
            (source_id, target_model): _identity(self.model, source_id, target_model, vals)
            for source_id, target_rows in prepared
            for target_model, vals in target_rows.items()
            if vals or target_model == compiled.target_model
        }
        timing = self.journal.timing
        # who they already are on the target: id map, then external id, then discriminator
        with timing(self.model, "resolve"):
            resolver.resolve(set(identities.values()))
            existing = {key: resolver.get(*identity) for key, identity in identities.items()}
            self._inherited_parents(existing)
        with timing(self.model, "id_map"):
            digests = {
                (source_id, target_model): values_digest(vals)
                for source_id, target_rows in prepared
                for target_model, vals in target_rows.items()
                if (source_id, target_model) in identities
            }
            same = self._same_as_last_written(identities, existing, digests)
        absent = {key for key, target_id in existing.items() if not target_id}
        with timing(self.model, "write"):
            outcome, failed, written = self._write_batch(prepared, identities, existing, same)
        for key, target_id in existing.items():
            # the entries of records not written keep their run and stamp as they are
            if target_id and key[0] not in failed and key not in same:
                entry = (
                    *identities[key][:2],
                    key[1],
                    target_id,
                    digests[key] if key in written else None,
                )
                (entries.new if key in absent else entries.known).append(entry)
        for source_id, (message, target_model, vals) in failed.items():
            self.journal.fail(
                self.model, source_id, message, statement="write", target_model=target_model,
                values=dump_values(vals),
            )  # fmt: skip
        outcomes = {
            source_id: outcome.get(source_id) or "unchanged"
            for source_id, _target_rows in prepared
            if source_id not in failed
        }
        self.journal.counters_of(self.model).update(outcomes.values())
        return outcomes

    def _same_as_last_written(self, identities, existing, digests):
        """The (source id, target model) whose values are those a former run wrote, on a
        record nobody wrote since: not written again, nor read. Duplicates that are skipped
        stay skipped."""
        ctx = self.ctx
        if ctx.writer.duplicates_policy(self.compiled.rule.duplicates) == "skip":
            return set()
        wanted = {}  # (source model, target model) -> {source id: (target id, digest)}
        keys = {}
        for key, target_id in existing.items():
            source_model, source_id, target_model = identities[key]
            if target_id:
                wanted.setdefault((source_model, target_model), {})[source_id] = (
                    target_id, digests[key],
                )  # fmt: skip
                keys[(source_model, source_id, target_model)] = key
        same = set()
        for (source_model, target_model), found in wanted.items():
            table = ctx.writer.stamped_table(target_model)
            if table:
                unchanged = ctx.id_map.written_unchanged(source_model, target_model, table, found)
                same.update(keys[(source_model, i, target_model)] for i in unchanged)
        return same

    def _write_batch(self, prepared, identities, existing, same=frozenset()):
        """Create or update each target model of the batch, a split's models in their order.

        ``existing`` gains the created records; ``same``: the (source id, target model) whose
        values are those the last run wrote (unchanged, not written). Returns ``({source id:
        created | updated | unchanged | skipped}, {source id: (message, target model, vals)},
        {(source id, target model) written or found holding its values})``.
        """
        ctx, compiled = self.ctx, self.compiled
        handles, failed, outcome, written = {}, {}, {}, set()
        makes_handles = compiled.makes_handles
        for target_model in _write_order(compiled.target_models, prepared, makes_handles):
            creates, updates = [], []
            for source_id, target_rows in prepared:
                if source_id in failed or (source_id, target_model) not in identities:
                    continue
                vals = target_rows[target_model]
                try:
                    vals, handle = _with_handles(vals, handles, makes_handles)
                except KeyError:
                    failed[source_id] = (
                        "a newid() of this row was not created",
                        target_model,
                        vals,
                    )
                    continue
                key = (source_id, handle if isinstance(handle, NewId) else None)
                target_id = existing.get((source_id, target_model))
                if target_id and key[1]:
                    handles[key[1]] = target_id
                if (target_model, target_id) in ctx.system_records:
                    self._keep_system_record(source_id, target_model, target_id)
                    outcome.setdefault(source_id, "skipped")
                elif (source_id, target_model) in same:
                    outcome.setdefault(source_id, "unchanged")
                elif target_id:
                    updates.append((key, target_id, vals))
                else:
                    creates.append((key, vals))
            created, refused = self._create(target_model, creates)
            ctx.grew(target_model, len(created))
            updated, unchanged, kept, refused_updates = ctx.writer.update_batch(
                target_model, updates, compiled.rule.duplicates
            )
            refused.update(refused_updates)
            for (source_id, handle), target_id in created.items():
                written.add((source_id, target_model))
                existing[(source_id, target_model)] = target_id
                ctx.resolver.remember(*identities[(source_id, target_model)], target_id)
                if handle:
                    handles[handle] = target_id
                outcome.setdefault(source_id, "created")
            for source_id, _handle in updated:
                written.add((source_id, target_model))
                outcome[source_id] = "created" if outcome.get(source_id) == "created" else "updated"
            for source_id, _handle in unchanged:
                written.add((source_id, target_model))
                outcome.setdefault(source_id, "unchanged")
            for source_id, _handle in kept:
                outcome.setdefault(source_id, "skipped")
            vals_of = dict(creates) | {key: vals for key, _tid, vals in updates}
            for key, message in refused.items():
                failed[key[0]] = (message, target_model, vals_of[key])
        return outcome, failed, written

    def _keep_system_record(self, source_id, target_model, target_id):
        xmlid = self.ctx.system_records[(target_model, target_id)]
        self.journal.log(
            "info",
            f"matched the target's {xmlid} ({target_model} {target_id}): kept as it is "
            "(option system_records: update overwrites it)",
            model=self.model,
            source_id=source_id,
            target_model=target_model,
        )

    def _create(self, target_model, creates):
        ctx = self.ctx
        if self.compiled.rule.mode != "sql" or target_model != self.compiled.target_model:
            return ctx.writer.create_batch(target_model, creates)
        created, refused, copy_refusal = create_with_fallback(
            ctx.sql_writer, ctx.writer, target_model, creates
        )
        if copy_refusal:
            self.journal.log(
                "warning",
                f"COPY refused this batch ({copy_refusal}): written through the ORM instead",
                model=self.model,
                target_model=target_model,
                statement="sql mode",
            )
        return created, refused

    def _inherited_parents(self, existing):
        """A split into a model the main one ``_inherits`` (a user's partner): when the main
        record exists, its parent record is the one to update."""
        main_model = self.ctx.env[self.compiled.target_model]
        for parent_model, link in main_model._inherits.items():
            wanted = {
                source_id: existing[(source_id, self.compiled.target_model)]
                for (source_id, target_model), target_id in existing.items()
                if target_model == parent_model
                and not target_id
                and existing.get((source_id, self.compiled.target_model))
            }
            if not wanted:
                continue
            records = main_model.browse(list(wanted.values())).with_context(active_test=False)
            parents = {record.id: record[link].id for record in records}
            for source_id, main_id in wanted.items():
                existing[(source_id, parent_model)] = parents.get(main_id) or None

    # -- second pass ----------------------------------------------------------------------------

    def second_pass(self, rows, outcomes):
        """Write the deferred fields of ``rows``; ``outcomes``: ``{source id: how the first
        pass counted it}``. A refused record moves from that outcome to failed."""
        compiled, ctx, journal = self.compiled, self.ctx, self.journal
        source_ids = [row["id"] for row in rows]
        targets = ctx.id_map.lookup(self.model, source_ids)
        ctx.resolver.resolve(compiled.references(rows, compiled.deferred))
        writes, owners, failed = {}, {}, set()
        for row in rows:
            source_id = row["id"]
            try:
                target_rows = compiled.transform(row, compiled.deferred)
            except RowSkipped as exc:
                journal.log(
                    "warning", f"deferred field left empty: {exc}", model=self.model,
                    source_id=source_id, statement="second pass",
                )  # fmt: skip
                continue
            except RowFailure as exc:
                failed.add(source_id)
                journal.fail(
                    self.model, source_id, f"second pass: {exc}", was=outcomes.get(source_id),
                    statement=exc.statement, values=dump_values(row),
                )  # fmt: skip
                continue
            for target_model, vals in target_rows.items():
                target_id = targets.get((source_id, target_model))
                if vals and target_id and (target_model, target_id) not in ctx.system_records:
                    writes.setdefault(target_model, {})[target_id] = vals
                    owners[(target_model, target_id)] = source_id
        changed = set()
        for target_model, by_id in writes.items():
            written, refused = ctx.writer.write_grouped(target_model, by_id)
            changed |= {owners[(target_model, target_id)] for target_id in written}
            for target_id, message in refused.items():
                source_id = owners[(target_model, target_id)]
                if source_id in failed:
                    continue
                failed.add(source_id)
                journal.fail(
                    self.model, source_id, f"second pass: {message}", was=outcomes.get(source_id),
                    statement="write", target_model=target_model,
                    values=dump_values(by_id[target_id]),
                )  # fmt: skip
        for source_id in changed - failed:
            if outcomes.get(source_id) == "unchanged":
                journal.move(self.model, "unchanged", "updated")
        if compiled.finish:
            self._finish(rows, targets, outcomes, failed)
        ctx.pending.remove(self.model, source_ids)

    def _finish(self, rows, targets, outcomes, failed):
        """The rule's finish body on each record of ``rows`` the second pass did not fail."""
        model = self.ctx.writer.model(self.compiled.target_model)
        for row in rows:
            target_id = targets.get((row["id"], self.compiled.target_model))
            if row["id"] in failed or not target_id:
                continue
            try:
                with self.ctx.env.cr.savepoint():
                    self.compiled.finish(model.browse(target_id), row)
                    model.env.flush_all()
            except CONCURRENCY_ERRORS:  # the run retries the whole batch
                raise
            except Exception as exc:  # noqa: BLE001 - a record the finish refuses fails alone
                self.journal.fail(
                    self.model, row["id"], f"finish: {error_message(exc)}",
                    was=outcomes.get(row["id"]), statement="__finish__", values=dump_values(row),
                )  # fmt: skip


def unreadable_of(rows):
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


def _write_order(target_models, prepared, makes_handles=True):
    """Target models of a split, each after those whose newid() handles its values hold."""
    if not makes_handles:
        return target_models
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


class IdMapEntries:
    """The id map entries of a batch: ``new``, of the records it looked up and found none
    for (the ones it created), and ``known``, the others."""

    def __init__(self):
        self.new, self.known = [], []


def _identity(source_model, source_id, target_model, vals):
    """The source record a target record of this row stands for."""
    handle = vals.get("id")
    if isinstance(handle, NewId) and handle.identity:
        return (*handle.identity, target_model)
    return (source_model, source_id, target_model)


def _with_handles(vals, handles, makes_handles=True):
    """``(vals, the row's own handle)``: ``vals`` with each ``newid()`` replaced by the id it
    was created with (KeyError: one was not). Nothing to do for a rule that makes none."""
    if not makes_handles:
        return vals, None
    handle = vals.get("id")
    return {n: _substitute(v, handles) for n, v in vals.items() if n != "id"}, handle


def _substitute(value, handles):
    if isinstance(value, NewId):
        return handles[value]
    return value
