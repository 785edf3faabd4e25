"""Checks of a plan against both schemas, before anything is read or written.

Schemas are ``{model: {field: description}}`` as ``fields_get`` gives them (``type``,
``relation``, ``required``, ``store``, ``selection``); the target's descriptions also say
``compute`` (computed and read-only), ``inherited`` (from an ``_inherits`` parent) and
``has_default``.
"""

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
    "many2one": {"many2one"},
    "many2many": {"many2many", "one2many"},
    "one2many": {"one2many", "many2many"},
    "reference": {"reference", "char"},
    "many2one_reference": {"many2one_reference", "integer"},
    "json": {"json"},
    "properties": {"properties"},
}
MAGIC_FIELDS = frozenset({"id", "create_uid", "create_date", "write_uid", "write_date"})


class _Validator:
    def __init__(self, spec, source_schema, target_schema, xmlid_models, modules):
        self.spec = spec
        self.source_schema = source_schema
        self.target_schema = target_schema
        self.xmlid_models = set(xmlid_models)
        self.modules = modules
        self.problems = []
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
                self.add("error", rule.source_model, "", "unknown model on the source")
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
            for statement in expand_rule(rule, source_fields, self.target_schema, self.modules):
                edge = self.check_statement(rule, statement, source_fields, fed)
                if edge is None:
                    continue
                if statement.statement == "defer":
                    deferred.add((edge.model, edge.field))
                edges.append(edge)
        self.check_required(fed)
        order = plan_order(list(self.migrated), edges, deferred)
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
            self.add("error", model, name, f"unknown source field {model}.{name}")

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
            self.add(
                "error", model, name, f"unknown target field {statement.target_model}.{target_name}"
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
        if target_type not in COMPATIBLE_TYPES.get(source_type, {source_type}):
            self.add(
                "error",
                model,
                name,
                f"type mismatch: {source_type} into {target_type} "
                f"({statement.target_model}.{target_name}) needs a statement (__fk__, a Python body...)",
            )
            return None
        if source_type == "selection" and target_type == "selection":
            self.check_selection(model, name, source_desc, target_desc)
        if source_type in RELATIONAL_TYPES:
            return self.relation_edge(rule, name, source_desc.get("relation"), target_desc)
        return None

    def check_selection(self, model, name, source_desc, target_desc):
        source_values = {value for value, _label in source_desc.get("selection") or []}
        target_values = {value for value, _label in target_desc.get("selection") or []}
        missing = sorted(str(value) for value in source_values - target_values)
        if missing and target_values:
            self.add(
                "error",
                model,
                name,
                f"selection values of the source missing on the target: {', '.join(missing)}",
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
            if relation in self.xmlid_models:
                self.add(
                    "warning",
                    model,
                    name,
                    f"{relation} is not migrated: values resolve by external id only "
                    f"(records without one follow the plan's 'unresolved: {self.spec.options['unresolved']}')",
                )
            else:
                severity = "error" if self.spec.options.get("unresolved") == "error" else "warning"
                self.add(
                    severity,
                    model,
                    name,
                    f"{relation}{' (' + via + ')' if via else ''} is neither in the plan nor resolvable "
                    "by external id or discriminator: migrate it, declare its __discriminator__, or forget this field",
                )
            return None
        return Edge(model, name, relation, bool(target_desc.get("required")))

    def check_required(self, fed):
        for target_model, fed_fields in fed.items():
            for name, desc in self.target_schema[target_model].items():
                if (
                    desc.get("required")
                    and desc.get("store", True)
                    and not desc.get("compute")
                    and not desc.get("inherited")
                    and not desc.get("has_default")
                    and name not in MAGIC_FIELDS
                    and name not in fed_fields
                ):
                    self.add(
                        "error",
                        target_model,
                        name,
                        f"required field {target_model}.{name} is fed by no statement",
                    )


def validate_plan(
    spec, source_schema, target_schema, xmlid_models=(), modules=None, sql_refusals=None
):
    """Findings (``Problem`` with severity error, warning or info) of ``spec``.

    ``sql_refusals``: {target model: why it cannot be written in sql mode}.
    """
    problems = _Validator(spec, source_schema, target_schema, xmlid_models, modules).run()
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
    return problems
