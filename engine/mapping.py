"""Statements of a model rule, with wildcards expanded against both schemas. Plain Python."""

from dataclasses import dataclass

from .spec import ANY_MODULE, NO_SOURCE, WILDCARD

# -- statements, with wildcards expanded against both schemas -------------------------------------

# Set by the target's ORM on create and write, whatever the values say.
LOG_ACCESS_FIELDS = frozenset(
    {"create_uid", "create_date", "write_uid", "write_date", "parent_path"}
)
# Never copied by a wildcard: the record's identity and what the writing itself sets.
WILDCARD_EXCLUDED = LOG_ACCESS_FIELDS | {"id", "__last_update", "display_name"}
RELATIONAL_TYPES = ("many2one", "many2many", "one2many")


@dataclass
class Statement:
    """One statement of a model rule once its wildcards are expanded."""

    source_field: str
    target_model: str
    target_field: str | None
    statement: str = "copy"
    argument: str = ""
    body: str = ""
    from_wildcard: bool = False


def wildcard_fields(source_fields, target_fields):
    """The names a wildcard copies: stored on both sides, and the target's own (not inherited)."""
    return [
        name
        for name, desc in source_fields.items()
        if name not in WILDCARD_EXCLUDED
        and desc.get("store", True)
        and name in target_fields
        and target_fields[name].get("store", True)
        and not target_fields[name].get("inherited")
    ]


def active_field_rules(rule, modules=None):
    """The statements whose module condition holds (``modules``: installed on the target)."""
    return [
        field_rule
        for field_rule in rule.fields
        if modules is None or field_rule.module in (ANY_MODULE, *modules)
    ]


def expand_rule(rule, source_fields, target_schema, modules=None, left_out=None):
    """The statements of ``rule``, a wildcard replaced by one copy per field it covers.

    A source field named by a statement of its own is left out of the wildcard, whatever
    that statement does (forget, defer, a body feeding another field...); so are the
    fields of ``left_out`` (``{(source model, field): reason}``, see ``wildcards.py``).
    """
    left_out = left_out or {}
    field_rules = active_field_rules(rule, modules)
    explicit = {f.source_field for f in field_rules if f.source_field not in (WILDCARD, NO_SOURCE)}
    statements = []
    for field_rule in field_rules:
        if field_rule.source_field != WILDCARD:
            statements.append(
                Statement(
                    field_rule.source_field,
                    field_rule.target_model,
                    field_rule.target_field,
                    field_rule.statement,
                    field_rule.argument,
                    field_rule.body,
                )
            )
            continue
        target_fields = target_schema.get(field_rule.target_model, {})
        for name in wildcard_fields(source_fields, target_fields):
            if name not in explicit and (rule.source_model, name) not in left_out:
                statements.append(
                    Statement(name, field_rule.target_model, name, "copy", from_wildcard=True)
                )
    return statements
