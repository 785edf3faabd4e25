"""Checks of a plan against both schemas, before anything is read or written.

Schemas are ``{model: {field: description}}`` as ``fields_get`` gives them (``type``,
``relation``, ``required``, ``store``, ``selection``); the target's descriptions also say
``compute`` (computed and read-only), ``inherited`` (from an ``_inherits`` parent) and
``has_default``.
"""

import difflib

from .mapping import LOG_ACCESS_FIELDS, RELATIONAL_TYPES, expand_rule
from .planner import Edge, describe_cycle, plan_order
from .spec import NO_SOURCE, Problem

# Source type -> target types a plain copy fills correctly.
COMPATIBLE_TYPES = {
    "char": {"char", "text", "html", "selection"},
    "text": {"char", "text", "html"},
    "html": {"char", "text", "html"},
    "selection": {"selection", "char", "text"},
    "integer": {"integer", "float", "monetary", "many2one_reference"},
    "float": {"float", "monetary", "integer"},
    "monetary": {"float", "monetary"},
    "boolean": {"boolean"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "binary": {"binary"},
    "many2one": {"many2one", "many2many"},  # into a many2many: a set of that one record
    "many2many": {"many2many", "one2many"},
    "one2many": {"one2many", "many2many"},
    "reference": {"reference", "char"},
    "many2one_reference": {"many2one_reference", "integer"},
    "json": {"json"},
    "properties": {"properties"},
}
MAGIC_FIELDS = frozenset({"id", "create_uid", "create_date", "write_uid", "write_date"})


def compatible(source_type, target_type):
    """Whether a plain copy fills a ``target_type`` field right from a ``source_type`` one."""
    return target_type in COMPATIBLE_TYPES.get(source_type, {source_type})


class _Validator:
    def __init__(self, spec, source_schema, target_schema, xmlid_models, modules, facts):
        self.spec = spec
        self.probe = facts.get("probe")
        self.forgotten = {}  # target model -> fields a statement forgets on purpose
        self.left_out = facts.get("left_out") or {}
        self.source_schema = source_schema
        self.target_schema = target_schema
        self.xmlid_models = set(xmlid_models)
        self.modules = modules
        self.problems = []
        self.order, self.edges, self.deferred = [], [], set()
        migrated = [rule for rule in spec.models if not rule.is_reference_only]
        self.migrated = {rule.source_model: rule for rule in migrated}
        self.discriminated = {rule.source_model for rule in spec.models if rule.discriminator}

    def add(self, severity, model, field, message):
        self.problems.append(
            Problem(
                message,
                key=f"{model}.{field}" if field else model,
                severity=severity,
                model=model,
                field=field or "",
            )
        )

    def run(self):
        edges, deferred = [], set()
        fed = {}  # target model -> target fields some statement writes
        for rule in self.spec.models:
            if rule.source_model not in self.source_schema:
                hint = did_you_mean(rule.source_model, self.source_schema)
                self.add("error", rule.source_model, "", f"unknown model on the source{hint}")
                continue
            if rule.target_model not in self.target_schema:
                self.add(
                    "error", rule.source_model, "", f"unknown target model {rule.target_model}"
                )
                continue
            self.check_discriminator(rule)
            if rule.is_reference_only:
                continue
            source_fields = self.source_schema[rule.source_model]
            fed.setdefault(rule.target_model, set())
            self.forgotten.setdefault(rule.target_model, set()).update(
                f.target_field or f.source_field for f in rule.fields if f.statement == "forget"
            )
            statements = expand_rule(
                rule, source_fields, self.target_schema, self.modules, self.left_out
            )
            for statement in statements:
                edge = self.check_statement(rule, statement, source_fields, fed)
                if edge is None:
                    continue
                if statement.statement == "defer":
                    deferred.add((edge.model, edge.field))
                edges.append(edge)
        self.check_required(fed)
        for (model, field), reason in sorted(self.left_out.items()):
            self.add("info", model, field, f"left out of {model}.*: {reason}")
        order = plan_order(list(self.migrated), edges, deferred)
        self.order = order.models
        self.edges, self.deferred = edges, order.deferred
        for cycle in order.cycles:
            first = cycle[0]
            self.add(
                "error",
                first.model,
                first.field,
                f"cycle without a deferred field: {describe_cycle(cycle)}; defer one of these fields",
            )
        return self.problems

    def check_discriminator(self, rule):
        target_fields = self.target_schema[rule.target_model]
        for name in rule.discriminator:
            if name not in target_fields:
                self.add(
                    "error",
                    rule.source_model,
                    name,
                    f"discriminator field {name} is not a field of {rule.target_model}",
                )

    def missing_source_field(self, model, name, target_fields):
        if name in target_fields:  # a field this version of the source does not have yet
            self.add(
                "warning",
                model,
                name,
                f"the source has no field {model}.{name} (an older version?): "
                "its statements are left out",
            )
        else:
            hint = did_you_mean(name, self.source_schema.get(model, {}))
            self.add("error", model, name, f"unknown source field {model}.{name}{hint}")

    def check_statement(self, rule, statement, source_fields, fed):
        """Report what is wrong with one statement; return its dependency edge, if any."""
        model = rule.source_model
        name = statement.source_field
        target_fields = self.target_schema.get(statement.target_model)
        if target_fields is None:
            self.add("error", model, name, f"unknown target model {statement.target_model}")
            return None
        if statement.statement == "forget":
            return None
        source_desc = None
        if name not in (NO_SOURCE, "id"):
            source_desc = source_fields.get(name)
            if source_desc is None:
                self.missing_source_field(model, name, target_fields)
                return None
        if statement.statement == "moved":
            return None
        target_name = statement.target_field
        if target_name in LOG_ACCESS_FIELDS:
            return None  # the target's ORM sets them: the run leaves them out
        target_desc = target_fields.get(target_name)
        if target_desc is None:
            hint = did_you_mean(target_name, target_fields)
            self.add(
                "error",
                model,
                name,
                f"unknown target field {statement.target_model}.{target_name}{hint}",
            )
            return None
        fed.setdefault(statement.target_model, set()).add(target_name)
        if statement.statement in ("python", "ref"):
            return None
        if target_name == "id":
            # the record of this row stands for the source record the value designates
            if name != "id" and (source_desc or {}).get("type") != "many2one":
                self.add(
                    "error",
                    model,
                    name,
                    f"only a many2one (or id) identifies a {statement.target_model} record",
                )
            return None
        if statement.statement == "fk":
            return self.relation_edge(
                rule, name, statement.argument, target_desc, via=f"__fk__ {statement.argument}"
            )
        # copy or defer: the source value goes in as it is (relations through the id map)
        if source_desc is None:
            return None
        source_type, target_type = source_desc.get("type"), target_desc.get("type")
        if not compatible(source_type, target_type):
            self.add(
                "error",
                model,
                name,
                f"type mismatch: {source_type} into {target_type} "
                f"({statement.target_model}.{target_name}) needs a statement (__fk__, a Python body...)",
            )
            return None
        if source_type == "selection" and target_type == "selection":
            self.check_selection(rule, name, source_desc, target_desc)
        if source_type in RELATIONAL_TYPES:
            return self.relation_edge(rule, name, source_desc.get("relation"), target_desc)
        return None

    def check_selection(self, rule, name, source_desc, target_desc):
        """A value the target lacks is an error when source records use it (counted); the
        finding proposes a value map."""
        model = rule.source_model
        source_values = {value for value, _label in source_desc.get("selection") or []}
        target_values = [value for value, _label in target_desc.get("selection") or []]
        missing = sorted(source_values - set(target_values), key=str)
        if not missing or not target_values:
            return
        used = self.probe.values_used(model, name, rule.domain) if self.probe else None
        if used is not None:
            unused = [value for value in missing if not used.get(value)]
            if unused:
                self.add(
                    "info", model, name,
                    f"selection values the target lacks, used by no source record: "
                    f"{', '.join(map(str, unused))}",
                )  # fmt: skip
            missing = [value for value in missing if used.get(value)]
            if not missing:
                return
        counts = ", ".join(
            f"{value!r} ({used[value]} records)" if used else repr(value) for value in missing
        )
        proposal = {value: _closest(value, target_values) for value in missing}
        self.add(
            "error",
            model,
            name,
            f"selection values of the source missing on the target: {counts}; map them, "
            f"e.g. a Python body: return map_val('{name}', {proposal!r}, source_row['{name}'])",
        )

    def relation_edge(self, rule, name, relation, target_desc, via=""):
        model = rule.source_model
        if not relation:
            return None
        if target_desc.get("type") == "one2many":
            return None  # written from the other side
        if relation in self.discriminated and relation not in self.migrated:
            return None  # matched on the target by value
        if relation not in self.migrated:
            if relation in self.xmlid_models and self.probe and not via:
                self.unresolved_by_xmlid(rule, name, relation, target_desc)
            elif relation in self.xmlid_models:
                self.add(
                    "warning",
                    model,
                    name,
                    f"{relation} is not migrated: values resolve by external id only "
                    f"(records without one follow the plan's 'unresolved: {self.spec.options['unresolved']}')",
                )
            else:
                self.unresolvable_relation(rule, name, relation, via)
            return None
        return Edge(model, name, relation, bool(target_desc.get("required")))

    def unresolved_of(self, rule):
        return rule.unresolved or self.spec.options.get("unresolved")

    def unresolved_by_xmlid(self, rule, name, relation, target_desc):
        """A relation resolved by external id only: counted on the data, an error (or the
        plan's ``unresolved``) when source records use values the target does not have."""
        records, values = self.probe.unresolved(
            rule.source_model, name, relation, target_desc.get("relation") or relation, rule.domain
        )
        if not records:
            return
        severity = "error" if self.unresolved_of(rule) == "error" else "warning"
        self.add(
            severity,
            rule.source_model,
            name,
            f"{records} source records use {values if values is not None else 'some'} {relation} "
            "records without an external id the target knows: migrate them, declare a "
            "__discriminator__, or forget this field",
        )

    def unresolvable_relation(self, rule, name, relation, via):
        """A relation to a model neither migrated nor resolvable: an error when source
        records use it (counted), and the plan's ``unresolved`` option is error."""
        model = rule.source_model
        using = None
        if self.probe and via == "":
            using = self.probe.records_using(model, name, rule.domain)
        what = f"{relation}{' (' + via + ')' if via else ''}"
        if using == 0:
            self.add("info", model, name, f"{what} is neither in the plan nor resolvable, "
                     "but no source record uses it")  # fmt: skip
            return
        severity = "error" if self.unresolved_of(rule) == "error" else "warning"
        used = f"{using} source records use it, and " if using else ""
        self.add(
            severity,
            model,
            name,
            f"{used}{what} is neither in the plan nor resolvable by external id or "
            "discriminator: migrate it, declare its __discriminator__, or forget this field",
        )

    def check_required(self, fed):
        for target_model, fed_fields in fed.items():
            for name, desc in self.target_schema[target_model].items():
                if (
                    desc.get("required")
                    and desc.get("type") != "one2many"  # the ORM fills it (a template's variants)
                    and desc.get("store", True)
                    and not desc.get("compute")
                    and not desc.get("inherited")
                    and not desc.get("has_default")
                    and name not in MAGIC_FIELDS
                    and name not in fed_fields
                ):
                    if name in self.forgotten.get(target_model, ()):
                        self.add("info", target_model, name, f"required field {target_model}.{name}"
                                 " is forgotten on purpose: the target's create() must fill it")  # fmt: skip
                        continue
                    self.add(
                        "error",
                        target_model,
                        name,
                        f"required field {target_model}.{name} is fed by no statement",
                    )


def validate_plan(
    spec,
    source_schema,
    target_schema,
    xmlid_models=(),
    modules=None,
    sql_refusals=None,
    probe=None,
    left_out=None,
):
    """Findings (``Problem`` with severity error, warning or info) of ``spec``.

    ``sql_refusals``: {target model: why it cannot be written in sql mode}; ``probe``: the
    source's data (``SourceProbe``), to count the records a problem concerns; ``left_out``:
    what the wildcards leave out (``wildcards.wildcard_left_out``).
    """
    facts = {"probe": probe, "left_out": left_out}
    problems = _Validator(spec, source_schema, target_schema, xmlid_models, modules, facts).run()
    for rule in spec.models:
        reason = (sql_refusals or {}).get(rule.target_model)
        if rule.mode == "sql" and reason:
            problems.append(
                Problem(
                    f"__mode__ sql is unsafe for {rule.target_model}: {reason}; use the orm mode",
                    key=f"{rule.source_model}.__mode__",
                    severity="error",
                    model=rule.source_model,
                )
            )
    problems.sort(key=finding_rank)
    return problems


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def finding_rank(problem):
    """Causes first: an unknown name comes before the cycle or the gap it makes."""
    cause = problem.message.startswith("unknown")
    return (SEVERITY_ORDER.get(problem.severity, 3), not cause)


def did_you_mean(name, known):
    """`` (did you mean user_id?)`` when ``known`` holds a name close to ``name``."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _closest(value, choices):
    """The target's selection value most like ``value`` (a proposal, not a decision)."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0)
    return close[0] if close else choices[0]


def run_order(spec, source_schema, target_schema, modules=None, left_out=None):
    """The source models of ``spec`` in the order a run writes them: each after those its
    statements point to (the deferred ones aside), the plan's order breaking ties."""
    return plan_graph(spec, source_schema, target_schema, modules, left_out)[0]


def plan_graph(spec, source_schema, target_schema, modules=None, left_out=None):
    """``(run order, [Edge], {(model, field) deferred})`` of ``spec``: the models in the
    order a run writes them, the relations between them, those left to the second pass."""
    validator = _Validator(spec, source_schema, target_schema, (), modules, {"left_out": left_out})
    validator.run()
    return validator.order, validator.edges, validator.deferred
