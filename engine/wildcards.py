"""What ``model.*`` leaves out, decided once per check or run, each field with its reason.

A wildcard copies the stored fields both sides have, except:

- one2many fields (the other side writes them) and fields the target computes;
- relations to a model neither in the plan nor found on the target for the records that
  use them (their values have no external id the target knows): copied, they would fail
  those records;
- the second side of a many2many pair: the relation table is written once, from the
  model that comes later in the plan's order (else each side waits for the other).

An explicit statement on such a field is not a wildcard's: it keeps the strict checks.
"""

from .mapping import wildcard_fields
from .spec import WILDCARD
from .validation import compatible


def wildcard_left_out(spec, source_schema, target_schema, probe=None, xmlid_models=()):
    """``{(source model, field): reason}`` of the fields the plan's wildcards leave out."""
    migrated = [rule for rule in spec.models if not rule.is_reference_only]
    in_plan = {rule.source_model for rule in spec.models}
    position = {rule.source_model: index for index, rule in enumerate(migrated)}
    left_out, tables = {}, {}
    for rule in migrated:
        source_fields = source_schema.get(rule.source_model, {})
        explicit = {f.source_field for f in rule.fields if f.source_field != WILDCARD}
        for wildcard in (f for f in rule.fields if f.source_field == WILDCARD):
            target_fields = target_schema.get(wildcard.target_model, {})
            for name in wildcard_fields(source_fields, target_fields):
                if name in explicit:
                    continue
                source_desc, target_desc = source_fields[name], target_fields[name]
                reason = _reason(rule, name, source_desc, target_desc, in_plan, probe, xmlid_models)
                if reason:
                    left_out[(rule.source_model, name)] = reason
                elif target_desc.get("type") == "many2many" and target_desc.get("relation_table"):
                    tables.setdefault(target_desc["relation_table"], []).append(
                        (position[rule.source_model], rule.source_model, name)
                    )
    for table, sides in tables.items():
        if len({model for _position, model, _name in sides}) < 2:
            continue
        _position, model, name = max(sides)
        for _other_position, other_model, other_name in sides:
            if other_model != model:
                left_out[(other_model, other_name)] = (
                    f"the other side of the many2many table {table}, written once, from "
                    f"{model}.{name} (later in the plan)"
                )
    return left_out


def _reason(rule, name, source_desc, target_desc, in_plan, probe, xmlid_models):
    if target_desc.get("type") == "one2many":
        return "one2many: written from the other side"
    if target_desc.get("compute"):
        return "computed on the target"
    if not compatible(source_desc.get("type"), target_desc.get("type")):
        return (
            f"its type changed ({source_desc.get('type')} on the source, {target_desc.get('type')} "
            "on the target): a statement of its own converts it"
        )
    relation = source_desc.get("relation")
    if source_desc.get("type") not in ("many2one", "many2many") or not relation:
        return None
    if relation in in_plan or relation == rule.source_model:
        return None
    target_relation = target_desc.get("relation") or relation
    if probe is None:
        if relation in xmlid_models:
            return None
        return f"{relation} is neither in the plan nor found by external id"
    records, values = probe.unresolved(
        rule.source_model, name, relation, target_relation, rule.domain
    )
    if not records:
        return None
    what = f"{values} {relation} records" if values is not None else f"{relation} records"
    return (
        f"{records} records use {what} that are neither in the plan nor found on the target by "
        f"external id: migrate {relation}, give it a __discriminator__, or copy it explicitly"
    )
