"""Propose a plan from both schemas: what an integrator would write first, and what is left
for a human decision.

For each source model that exists on the target: a wildcard copy; ``__forget__`` for the
fields a copy would get wrong (one2many, stored computed fields, links to technical
models); ``__defer__`` for self-references and for the optional fields that close a cycle;
reference data the plan points to (countries, states, currencies, units, languages, users)
matched by discriminator instead of migrated.
"""

from .mapping import wildcard_fields
from .planner import Edge, plan_order
from .spec import WILDCARD, FieldRule, ModelRule, PlanSpec, Problem

# Reference data: matched on the target by these fields, not created again.
REFERENCE_DISCRIMINATORS = {
    "res.country": ["code"],
    "res.country.state": ["country_id", "code"],
    "res.currency": ["name"],
    "uom.uom": ["name"],
    "uom.category": ["name"],
    "res.lang": ["code"],
    "res.users": ["login"],
}
# Links into these are not data of the migration (attachments, messages, actions, ...).
TECHNICAL_PREFIXES = (
    "ir.",
    "mail.",
    "bus.",
    "discuss.",
    "digest.",
    "web_tour.",
    "auth_totp.",
    "base.",
)
# Never worth migrating when "every model with records" is asked for.
TECHNICAL_MODEL_PREFIXES = TECHNICAL_PREFIXES + (
    "res.config",
    "res.groups",
    "res.company",
    "report.",
    "_unknown",
)


def is_technical_model(model):
    return model.startswith(TECHNICAL_MODEL_PREFIXES) or model in (
        "res.users.log",
        "res.users.settings",
    )


def generate_plan(models, source_schema, target_schema, name=None):
    """``(PlanSpec, notes)`` for the source ``models``: notes are Problems of severity info/warning."""
    spec = PlanSpec(name=name)
    notes = []
    chosen = [model for model in models if model in source_schema]
    rules = {}
    edges = []
    references = {}
    for model in chosen:
        if model not in target_schema:
            notes.append(
                Problem(
                    f"{model} does not exist on the target: map it by hand",
                    key=model,
                    severity="warning",
                    model=model,
                )
            )
            continue
        source_fields, target_fields = source_schema[model], target_schema[model]
        rule = ModelRule(
            source_model=model,
            target_model=model,
            discriminator=list(REFERENCE_DISCRIMINATORS.get(model, [])),
        )
        rule.fields.append(FieldRule(source_field=WILDCARD, target_model=model, target_field=None))
        for field_name in wildcard_fields(source_fields, target_fields):
            source_desc, target_desc = source_fields[field_name], target_fields[field_name]
            relation = source_desc.get("relation")
            reason = None
            if target_desc.get("type") == "one2many":
                reason = "one2many: written from the other side"
            elif target_desc.get("compute"):
                reason = "computed on the target"
            elif relation and relation.startswith(TECHNICAL_PREFIXES):
                reason = f"points to {relation}, not migrated data"
            if reason:
                rule.fields.append(_statement(model, field_name, "forget"))
                continue
            if relation == model and source_desc.get("type") == "many2one":
                rule.fields.append(_statement(model, field_name, "defer"))
                continue
            if relation and source_desc.get("type") in ("many2one", "many2many"):
                edges.append(Edge(model, field_name, relation, bool(target_desc.get("required"))))
                if (
                    relation not in chosen
                    and relation in REFERENCE_DISCRIMINATORS
                    and relation in target_schema
                ):
                    references.setdefault(relation, REFERENCE_DISCRIMINATORS[relation])
        rules[model] = rule

    order = plan_order(list(rules), edges, break_cycles=True)
    for model, field_name in sorted(order.deferred):
        rule = rules[model]
        if not any(f.source_field == field_name for f in rule.fields):
            rule.fields.append(_statement(model, field_name, "defer"))
            notes.append(
                Problem(
                    f"deferred to break a cycle: {model}.{field_name} is written after every model",
                    key=f"{model}.{field_name}",
                    severity="info",
                    model=model,
                    field=field_name,
                )
            )
    for cycle in order.cycles:
        notes.append(
            Problem(
                "a cycle of required fields: no field can be deferred, split the records by hand",
                key=cycle[0].model,
                severity="warning",
                model=cycle[0].model,
            )
        )
    for position, model in enumerate(order.models, start=1):
        rules[model].sequence = position * 10
        spec.models.append(rules[model])
    for position, (model, discriminator) in enumerate(
        sorted(references.items()), start=len(spec.models) + 1
    ):
        spec.models.append(
            ModelRule(
                source_model=model,
                target_model=model,
                discriminator=list(discriminator),
                sequence=position * 10,
            )
        )
    return spec, notes


def _statement(model, field_name, statement):
    return FieldRule(
        source_field=field_name, target_model=model, target_field=field_name, statement=statement
    )
