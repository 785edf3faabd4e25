"""A model rule compiled for a run: source rows in, target values out.

``CompiledRule`` knows, once per run, which source fields to read, which statements write
now and which wait for the deferred pass, and how to convert each value for its target
field. A batch is transformed in two steps: ``references`` lists what the resolver must
translate for the whole batch, then ``transform`` builds each row's values.
"""

import hashlib
import json
import logging
import re

from odoo.fields import Command, Date, Datetime

from .bodies import FINISH_ARGUMENTS, NewId, compile_body, source_keys
from .mapping import LOG_ACCESS_FIELDS, RELATIONAL_TYPES, expand_rule

UNPADDED_YEAR = re.compile(r"^\d{1,3}-\d")

_logger = logging.getLogger(__name__)


class RowFailure(Exception):
    """A row cannot be migrated: ``statement`` says which one and why."""

    def __init__(self, statement, message):
        super().__init__(message)
        self.statement = statement


class RowSkipped(Exception):
    """The plan says to skip this row (``unresolved: skip``)."""


class Value:
    """One statement ready to run: where it writes, and how it gets its value."""

    __slots__ = (
        "statement",
        "target_model",
        "target_field",
        "field",
        "source_relation",
        "target_relation",
        "body",
        "plain",
        "reference",
    )

    def __init__(
        self,
        statement,
        target_model,
        target_field,
        field,
        source_relation=None,
        target_relation=None,
    ):
        self.statement = statement
        self.target_model = target_model
        self.target_field = target_field
        self.field = field  # the target Field object
        self.source_relation = source_relation
        self.target_relation = target_relation
        self.body = None
        # a copy of a value that needs no lookup: its conversion, else None
        self.plain = None
        # a copy of a reference: its conversion to target ids (the batch resolved them)
        self.reference = None

    @property
    def label(self):
        source = self.statement.source_field
        return f"{source} -> {self.target_model}.{self.target_field} ({self.statement.statement})"


class CompiledRule:
    def __init__(
        self, rule, source_fields, env, modules, names, helpers, resolver, unresolved, left_out=None
    ):
        self.rule = rule
        self.source_model = rule.source_model
        self.target_model = rule.target_model
        self.env = env
        self.resolver = resolver
        self.unresolved = unresolved
        self.helpers = helpers
        self.missing_fields = []  # source fields the statements name but the source lacks
        self.unwritable = []  # target fields the target computes or sets itself
        target_schema = {
            model: env[model]._fields for model in self._target_models(rule) if model in env
        }
        schema_view = {model: {name: {"store": f.store, "inherited": f.inherited} for name, f in fields.items()}
                       for model, fields in target_schema.items()}  # fmt: skip
        self.values = []  # written with the record
        self.deferred = []  # written in the second pass
        # copies of a many2one to the same model (a parent): written with the record when
        # the parent is already there, in the second pass otherwise
        self.self_references = []
        read = set()
        for statement in expand_rule(rule, source_fields, schema_view, modules, left_out):
            if statement.statement in ("forget", "moved"):
                continue
            source_field = statement.source_field
            if source_field not in ("_", "id") and source_field not in source_fields:
                self.missing_fields.append(source_field)
                continue
            model_fields = target_schema.get(statement.target_model, {})
            field = model_fields.get(statement.target_field)
            if field is None:
                raise ValueError(
                    f"unknown target field {statement.target_model}.{statement.target_field}"
                )
            if statement.target_field in LOG_ACCESS_FIELDS or (field.compute and field.readonly):
                self.unwritable.append(f"{statement.target_model}.{statement.target_field}")
                continue
            source_desc = source_fields.get(source_field, {})
            value = Value(statement, statement.target_model, statement.target_field, field)
            if statement.statement == "python":
                value.body = compile_body(
                    statement.body, names, filename=f"{rule.source_model}.{source_field}"
                )
            elif statement.statement == "fk":
                value.source_relation = statement.argument
                value.target_relation = field.comodel_name or resolver.target_model_of(
                    statement.argument
                )
            elif statement.statement == "ref":
                read.add(statement.argument)
            elif statement.target_field == "id":
                value.source_relation = source_desc.get("relation") or rule.source_model
            elif field.type in RELATIONAL_TYPES or field.type == "many2one_reference":
                value.source_relation = source_desc.get("relation")
                value.target_relation = field.comodel_name
            if source_field not in ("_", "id"):
                read.add(source_field)
            value.plain = _plain_conversion(value, resolver)
            value.reference = self._reference_conversion(value)
            self_reference = (
                statement.statement == "copy"
                and field.type == "many2one"
                and value.source_relation == rule.source_model
                and statement.target_model == rule.target_model
            )
            if self_reference:
                self.self_references.append(value)
            if statement.statement == "defer" or self_reference:
                self.deferred.append(value)
            elif field.type == "one2many" and statement.from_wildcard:
                continue  # written from the other side, by the model that holds the many2one
            else:
                self.values.append(value)
        # bodies see the values copied before them
        self.values.sort(key=lambda v: v.statement.statement == "python")
        # the plain copies, per target model, made first and together; the others after them
        self._copies = _copies_by_model(self.values)
        self._not_copies = [value for value in self.values if not _is_copy(value)]
        self.read_fields = sorted(read)
        self.finish = None  # run on each record once it is whole, by the second pass
        self.finish_fields = []
        if rule.finish.strip():
            self.finish = compile_body(
                rule.finish,
                names,
                arguments=FINISH_ARGUMENTS,
                filename=f"{rule.source_model}.__finish__",
            )
            self.finish_fields = sorted(source_keys(rule.finish) & set(source_fields))
        self.target_models = [rule.target_model] + sorted(
            {v.target_model for v in self.values + self.deferred} - {rule.target_model}
        )

    @staticmethod
    def _target_models(rule):
        return {rule.target_model} | {f.target_model for f in rule.fields}

    @property
    def only_self_references_deferred(self):
        """Whether the second pass has nothing to do but the parents left unresolved."""
        return len(self.deferred) == len(self.self_references) and not self.finish

    @property
    def makes_handles(self):
        """Whether a row's values may hold ``newid()`` handles (from bodies or an ``id``
        statement) that the batch replaces with the ids it creates."""
        return any(v.body is not None or v.target_field == "id" for v in self.values)

    @property
    def has_second_pass(self):
        return bool(self.deferred or self.finish)

    def self_referenced_ids(self, row):
        """The source ids of the same model this row points to through its parents."""
        return {i for v in self.self_references for i in raw_ids(row.get(v.statement.source_field))}

    def known_parents(self, row):
        """``{target model: {field: target id}}``: the row's parents (many2one copies to its
        own model) when each is written already; None while one is not."""
        found = {}
        for value in self.self_references:
            source_id = next(iter(raw_ids(row.get(value.statement.source_field))), None)
            target_id = False
            if source_id:
                target_id = self.resolver.get(
                    value.source_relation, source_id, value.target_relation
                )
                if not target_id:
                    return None
            found.setdefault(value.target_model, {})[value.target_field] = target_id
        return found

    @property
    def deferred_read_fields(self):
        return sorted({v.statement.source_field for v in self.deferred} | set(self.finish_fields))

    # -- per batch -------------------------------------------------------------------------------

    def references(self, rows, values=None):
        """The (source model, source id, target model) the batch's values point to."""
        wanted = set()
        for value in values if values is not None else self.values:
            statement = value.statement
            if statement.statement == "python" or value.target_field == "id":
                continue
            name = statement.source_field
            if statement.statement == "ref":
                for row in rows:
                    model, res_id = row.get(statement.argument), row.get(name)
                    if model and res_id:
                        wanted.add((model, res_id, self.resolver.target_model_of(model)))
                continue
            if not value.source_relation:
                if value.field.type == "reference":
                    for row in rows:
                        if row.get(name):
                            model, _comma, res_id = row[name].partition(",")
                            wanted.add((model, int(res_id), self.resolver.target_model_of(model)))
                continue
            for row in rows:
                for source_id in raw_ids(row.get(name)):
                    wanted.add((value.source_relation, source_id, value.target_relation))
        return wanted

    def transform(self, row, values=None):
        """``{target model: vals}`` of one source row; raises RowFailure or RowSkipped."""
        target_rows = {model: {} for model in self.target_models}
        self.helpers.row = row
        if values is None:
            get = row.get
            try:
                for target_model, copies in self._copies.items():
                    target_rows[target_model].update(
                        {field: convert(get(source)) for field, source, convert in copies}
                    )
            except (ValueError, TypeError, OverflowError):
                # again one by one, for the message that names the value
                self._fill(target_rows, row, [v for v in self.values if _is_copy(v)])
            values = self._not_copies
        self._fill(target_rows, row, values)
        return target_rows

    def _fill(self, target_rows, row, values):
        for value in values:
            vals = target_rows.setdefault(value.target_model, {})
            if value.plain is None:
                vals[value.target_field] = self._value(value, row, target_rows)
                continue
            raw = row.get(value.statement.source_field)
            try:
                vals[value.target_field] = value.plain(raw)
            except (ValueError, TypeError, OverflowError) as exc:
                raise RowFailure(
                    value.label, f"{raw!r} does not fit a {value.field.type} field: {exc}"
                ) from None

    def _value(self, value, row, target_rows):
        statement = value.statement
        if statement.statement == "python":
            try:
                result = value.body(row, target_rows)
            except Exception as exc:  # a user's body: whatever it raises fails this row only
                raise RowFailure(value.label, f"{type(exc).__name__}: {exc}") from None
            if isinstance(result, NewId) and value.target_field == "id":
                result.model = value.target_model
            return result
        raw = row.get(statement.source_field)
        field = value.field
        if value.target_field == "id":
            source_id = (
                row["id"] if statement.source_field == "id" else next(iter(raw_ids(raw)), None)
            )
            return NewId(
                value.target_model, (value.source_relation, source_id) if source_id else None
            )
        if statement.statement == "ref":
            model = row.get(statement.argument)
            if not raw or not model:
                return False
            return self._resolved(value, model, raw, self.resolver.target_model_of(model))
        if value.source_relation:
            if field.type in ("many2many", "one2many"):
                ids = [
                    self._resolved(value, value.source_relation, i, value.target_relation)
                    for i in raw_ids(raw)
                ]
                return [Command.set([i for i in ids if i])]
            source_id = next(iter(raw_ids(raw)), None)
            if not source_id:
                return False
            return self._resolved(value, value.source_relation, source_id, value.target_relation)
        try:
            return convert(field, raw, self.resolver)
        except (ValueError, TypeError, OverflowError) as exc:
            raise RowFailure(
                value.label, f"{raw!r} does not fit a {field.type} field: {exc}"
            ) from None

    def _reference_conversion(self, value):
        """The conversion of a copied reference, as a function of the raw value, or None: the
        ``_value`` path without its dispatch (it runs for each reference of each row)."""
        statement = value.statement
        if (
            statement.statement in ("python", "ref")
            or value.target_field == "id"
            or not value.source_relation
        ):
            return None
        resolved = self._resolved
        source_model, target_model = value.source_relation, value.target_relation
        if value.field.type in ("many2many", "one2many"):

            def many(raw):
                ids = [resolved(value, source_model, i, target_model) for i in raw_ids(raw)]
                return [Command.set([i for i in ids if i])]

            return many

        def one(raw):
            source_id = next(iter(raw_ids(raw)), None)
            return resolved(value, source_model, source_id, target_model) if source_id else False

        return one

    def _resolved(self, value, source_model, source_id, target_model):
        target_id = self.resolver.get(source_model, source_id, target_model)
        if target_id:
            return target_id
        message = f"{source_model} {source_id} has no target {target_model}: not migrated, no external id, no match"
        if self.unresolved == "null":
            return False
        if self.unresolved == "skip":
            raise RowSkipped(message)
        raise RowFailure(value.label, message)


def raw_ids(raw):
    """Source ids in a raw value: False, an id, [id, name] (many2one) or [ids] (x2many)."""
    if not raw:
        return []
    if isinstance(raw, int):
        return [raw]
    if isinstance(raw, list | tuple):
        if len(raw) == 2 and isinstance(raw[0], int) and isinstance(raw[1], str):
            return [raw[0]]
        return [i for i in raw if isinstance(i, int)]
    return []


def _padded_year(raw):
    """Odoo formats dates with strftime, which leaves a year before 1000 unpadded
    ('1-01-01'); its parser wants four digits."""
    if isinstance(raw, str) and UNPADDED_YEAR.match(raw):
        year, rest = raw.split("-", 1)
        return f"{int(year):04d}-{rest}"
    return raw


def _plain_conversion(value, resolver):
    """The conversion of a copy that needs no lookup (not a reference, nor an id), or None."""
    statement = value.statement
    if statement.statement not in ("copy", "defer") or value.source_relation:
        return None
    if statement.target_field == "id":
        return None
    return converter(value.field, resolver)


def _is_copy(value):
    """Whether ``value`` is a copy of the source value through one conversion."""
    return value.plain is not None or value.reference is not None


def _copies_by_model(values):
    """``{target model: [(target field, source field, conversion)]}`` of the copies."""
    copies = {}
    for value in values:
        if _is_copy(value):
            conversion = value.plain or value.reference
            copy = (value.target_field, value.statement.source_field, conversion)
            copies.setdefault(value.target_model, []).append(copy)
    return copies


def converter(field, resolver=None):
    """``convert`` for one field, as a function of the raw value: the commonest kinds
    without the dispatch (it runs for each field of each row)."""
    if field.type in ("char", "text", "html", "selection"):
        return _as_is
    if field.type == "boolean":
        return bool
    return lambda raw: convert(field, raw, resolver)


def _as_is(raw):
    return False if raw is None else raw


def convert(field, raw, resolver=None):
    """A raw source value (as ``read`` sends it) made right for ``field`` of the target."""
    kind = field.type
    if raw is None:
        return False
    if kind == "date":
        return Date.to_date(_padded_year(raw)) if raw else False
    if kind == "datetime":
        return Datetime.to_datetime(_padded_year(raw)) if raw else False
    if kind == "integer":
        return int(raw) if raw not in (False, "") else 0
    if kind in ("float", "monetary"):
        return float(raw) if raw not in (False, "") else 0.0
    if kind == "boolean":
        return bool(raw)
    if kind == "reference" and raw and resolver:
        model, _comma, res_id = raw.partition(",")
        target_model = resolver.target_model_of(model)
        target_id = resolver.get(model, int(res_id), target_model)
        return f"{target_model},{target_id}" if target_id else False
    if kind in ("char", "text", "html", "selection") and raw is False:
        return False
    return raw


def _digest_default(value):
    if isinstance(value, bytes):
        return hashlib.blake2b(value, digest_size=16).hexdigest()
    return repr(value) if isinstance(value, NewId) else str(value)


# built once: ``json.dumps`` with options builds an encoder per call
_DIGEST_ENCODER = json.JSONEncoder(default=_digest_default, sort_keys=True, ensure_ascii=False)


def values_digest(vals):
    """A digest of the values a run writes for one record: equal values, equal digests."""
    text = _DIGEST_ENCODER.encode(vals)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def dump_values(vals):
    """The values of a refused record, as readable text for the run log."""

    def default(value):
        if isinstance(value, bytes):
            return f"<{len(value)} bytes>"
        return str(value)

    shown = {
        k: (v if not isinstance(v, str) or len(v) < 500 else v[:500] + "...")
        for k, v in vals.items()
    }
    return json.dumps(shown, default=default, ensure_ascii=False, sort_keys=True)
