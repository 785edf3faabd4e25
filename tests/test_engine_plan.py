"""Engine pieces on plain data: validation findings, planner order, compiled bodies."""

from pathlib import Path

import pytest

from ..engine.bodies import SOURCE_CACHE_SIZE, BodyNames, RowHelpers, check_body, compile_body
from ..engine.mapping import expand_rule
from ..engine.planner import Edge, plan_order
from ..engine.spec import FieldRule, ModelRule, PlanSpec
from ..engine.validation import validate_plan
from ..engine.versions import VersionChanges, load_changes, major

SOURCE = {
    "x.order": {
        "name": {"type": "char"},
        "state": {
            "type": "selection",
            "selection": [["draft", "Draft"], ["sent", "Sent"], ["legacy", "Legacy"]],
        },
        "partner_id": {"type": "many2one", "relation": "x.partner"},
        "tag_id": {"type": "many2one", "relation": "x.tag"},
        "amount": {"type": "float"},
    },
    "x.partner": {
        "name": {"type": "char"},
        "last_order_id": {"type": "many2one", "relation": "x.order"},
    },
}
TARGET = {
    "x.order": {
        "name": {"type": "char", "required": True},
        "state": {"type": "selection", "selection": [["draft", "Draft"], ["sent", "Sent"]]},
        "partner_id": {"type": "many2one", "relation": "x.partner", "required": True},
        "tag_id": {"type": "many2one", "relation": "x.tag"},
        "amount": {"type": "many2one", "relation": "x.amount"},
        "code": {"type": "char", "required": True},
        "company_id": {
            "type": "many2one",
            "relation": "x.company",
            "required": True,
            "has_default": True,
        },
    },
    "x.partner": {
        "name": {"type": "char", "required": True},
        "last_order_id": {"type": "many2one", "relation": "x.order"},
        "display": {"type": "char", "required": True, "compute": True},
    },
}


def wildcard_plan(**overrides):
    spec = PlanSpec()
    for model in ("x.order", "x.partner"):
        spec.models.append(ModelRule(model, model, fields=[FieldRule("*", model, None)]))
    spec.options.update(overrides)
    return spec


def messages(problems, severity="error"):
    return sorted(f"{p.model}.{p.field}: {p.message}" for p in problems if p.severity == severity)


def test_validation_finds_each_kind_of_problem():
    found = messages(validate_plan(wildcard_plan(), SOURCE, TARGET))
    assert any(
        "x.order.state: selection values of the source missing on the target: 'legacy'" in m
        for m in found
    )
    assert any("x.order.amount: type mismatch: float into many2one" in m for m in found)
    assert any(
        "x.order.code: required field x.order.code is fed by no statement" in m for m in found
    )
    assert any("x.order.tag_id: x.tag is neither in the plan nor resolvable" in m for m in found)
    assert any("cycle without a deferred field" in m for m in found)
    assert not any("company_id" in m or "display" in m for m in found), (
        "defaults and computes need nothing"
    )
    assert len(found) == 5, found


def test_an_unknown_field_comes_first_with_a_proposal():
    """The cause before what it breaks: a mistyped field, then the gaps it leaves."""
    spec = PlanSpec()
    spec.models.append(
        ModelRule("x.partner", "x.partner", fields=[
            FieldRule("nmae", "x.partner", "name"),
            FieldRule("last_order_id", "x.partner", "last_ordr_id"),
        ])
    )  # fmt: skip
    problems = [p for p in validate_plan(spec, SOURCE, TARGET) if p.severity == "error"]
    assert problems[0].message == "unknown source field x.partner.nmae (did you mean name?)"
    assert problems[1].message == (
        "unknown target field x.partner.last_ordr_id (did you mean last_order_id?)"
    )
    assert "required field x.partner.name is fed by no statement" in problems[2].message
    assert len(problems) == 3


def test_fixes_silence_the_findings():
    spec = wildcard_plan(unresolved="null")
    order, partner = spec.models
    order.discriminator = ["name"]
    order.fields += [
        FieldRule("amount", "x.order", None, statement="forget"),
        FieldRule("state", "x.order", "state", statement="python", body="return 'draft'"),
        FieldRule("_", "x.order", "code", statement="python", body="return source_row['name']"),
    ]
    partner.fields.append(
        FieldRule("last_order_id", "x.partner", "last_order_id", statement="defer")
    )
    problems = validate_plan(spec, SOURCE, TARGET)
    assert messages(problems) == []
    assert messages(problems, "warning") == [
        "x.order.tag_id: x.tag is neither in the plan nor resolvable by external id or discriminator: "
        "migrate it, declare its __discriminator__, or forget this field"
    ]


def test_external_ids_resolve_models_out_of_the_plan():
    problems = validate_plan(wildcard_plan(), SOURCE, TARGET, xmlid_models={"x.tag"})
    assert any(
        p.severity == "warning" and p.field == "tag_id" and "external id" in p.message
        for p in problems
    )
    assert not any(p.severity == "error" and p.field == "tag_id" for p in problems)


def test_wildcard_leaves_out_fields_with_their_own_statement():
    rule = ModelRule(
        "x.order",
        "x.order",
        fields=[FieldRule("*", "x.order", None), FieldRule("name", "x.order", "code")],
    )
    expanded = {
        (s.source_field, s.target_field) for s in expand_rule(rule, SOURCE["x.order"], TARGET)
    }
    assert ("name", "code") in expanded and ("name", "name") not in expanded
    assert ("partner_id", "partner_id") in expanded


def test_module_conditions_select_statements():
    rule = ModelRule(
        "x.order",
        "x.order",
        fields=[
            FieldRule("name", "x.order", "name", module="sale"),
            FieldRule("name", "x.order", "code"),
        ],
    )
    assert [
        s.target_field for s in expand_rule(rule, SOURCE["x.order"], TARGET, modules=["base"])
    ] == ["code"]
    assert len(expand_rule(rule, SOURCE["x.order"], TARGET, modules=["base", "sale"])) == 2


def test_planner_orders_and_breaks_cycles_on_optional_fields():
    edges = [
        Edge("res.users", "partner_id", "res.partner", required=True),
        Edge("res.partner", "user_id", "res.users"),
        Edge("res.partner", "parent_id", "res.partner"),
        Edge("res.partner", "category_id", "res.partner.category"),
    ]
    models = ["res.users", "res.partner", "res.partner.category"]
    strict = plan_order(models, edges)
    assert ("res.partner", "parent_id") in strict.deferred, "self-references always wait"
    assert len(strict.cycles) == 1
    broken = plan_order(models, edges, break_cycles=True)
    assert broken.cycles == []
    assert broken.deferred == {("res.partner", "parent_id"), ("res.partner", "user_id")}
    assert broken.models == ["res.partner.category", "res.partner", "res.users"]
    assert plan_order(models, edges, deferred={("res.partner", "user_id")}).cycles == []


def test_planner_reports_a_cycle_of_required_fields():
    edges = [Edge("a", "b_id", "b", required=True), Edge("b", "a_id", "a", required=True)]
    result = plan_order(["a", "b"], edges, break_cycles=True)
    assert [(e.model, e.field) for e in result.cycles[0]] == [("a", "b_id"), ("b", "a_id")]


def test_bodies_run_in_safe_eval_with_the_documented_names():
    helpers = RowHelpers()
    names = {
        **helpers.names(),
        "ref": lambda model, source_id: 40 + source_id,
        "newid": lambda: "handle",
    }
    body = compile_body(
        "parts = split('tags')\nreturn [concat(' ', 'first', 'last'), ref('res.partner', 2), newid(), parts,"
        " map_val('state', {'a': 'A'}), num('qty'), bool_val('flag', ['yes']), cond('first', 'has', 'none')]",
        names,
    )
    helpers.row = row = {
        "first": "Ada",
        "last": "Lovelace",
        "tags": "x, y",
        "state": "a",
        "qty": "1,5",
        "flag": "yes",
    }
    assert body(row, {}) == ["Ada Lovelace", 42, "handle", ["x", "y"], "A", 1.5, True, "has"]


@pytest.mark.parametrize(
    "body, reason",
    [
        ("import os\nreturn 1", "IMPORT_NAME"),
        ("return source_row.__class__", "forbidden name"),
        ("return (", "at line 1"),
        ("x = 1\nreturn x +", "at line 2"),
    ],
)
def test_bodies_that_safe_eval_refuses(body, reason):
    assert reason in check_body(body)


class CountingSource:
    def __init__(self):
        self.calls = []

    def call(self, model, method, *args, **kwargs):
        self.calls.append((model, method, args))
        return len(self.calls)


def test_source_in_bodies_reads_only_and_keeps_a_bounded_cache():
    transport = CountingSource()
    names = BodyNames(env=None, transport=transport, resolver=None)
    for method in ("write", "unlink", "create", "action_post"):
        with pytest.raises(ValueError, match=f"reading methods only .* not '{method}'"):
            names.source("res.partner", method, [1])
    assert transport.calls == [], "nothing reached the source"
    first = names.source("res.partner", "search_count", [("id", "=", 1)])
    assert names.source("res.partner", "search_count", [("id", "=", 1)]) == first
    assert len(transport.calls) == 1, "answered from the cache"
    for number in range(2, SOURCE_CACHE_SIZE + 2):
        names.source("res.partner", "search_count", [("id", "=", number)])
    names.source("res.partner", "search_count", [("id", "=", 1)])
    assert len(transport.calls) == SOURCE_CACHE_SIZE + 2, "the oldest answer was dropped"


def test_version_changes_chain_and_compose():
    changes = VersionChanges(load_changes(), "12.0")
    invoice_type = changes.field_fate("account.invoice", "type")
    assert (invoice_type.model, invoice_type.field) == ("account.move", "move_type")
    assert invoice_type.entries == ["account-invoice-model", "account-move-type"]
    state = changes.field_fate("account.payment", "state")
    assert state.values["sent"] == {"state": "in_process"}, "13.0 then 18.0, composed"
    assert changes.model_fate("account.invoice.tax") == (None, ["account-invoice-tax-model"])
    newer = VersionChanges(load_changes(), "17.0")
    assert newer.field_fate("sale.order", "state").values == {}, "17.0 already has locked"
    assert newer.field_fate("product.template", "type").values == {
        "product": {"type": "consu", "is_storable": True}
    }
    assert major("saas~17.2+e") == 17 and major([16, 0, 0, "final", 0]) == 16


def test_the_version_table_is_well_formed():
    entries = load_changes()
    assert len({entry["id"] for entry in entries}) == len(entries)
    for entry in entries:
        assert entry["note"] and entry["ref"] and entry["module"], entry["id"]
        if entry["kind"] in ("field_renamed", "field_removed", "selection_changed"):
            assert entry["field"], entry["id"]
        if entry["kind"] == "selection_changed":
            assert all(isinstance(target, dict) and target for target in entry["values"].values())


def test_a_required_one2many_is_filled_by_the_orm_not_a_finding():
    spec = PlanSpec(
        models=[
            ModelRule(
                "product.template",
                "product.template",
                fields=[FieldRule("name", "product.template", "name")],
            )
        ]
    )
    source = {"product.template": {"name": {"type": "char"}}}
    target = {
        "product.template": {
            "name": {"type": "char", "required": True},
            "product_variant_ids": {
                "type": "one2many",
                "relation": "product.product",
                "required": True,
            },
        }
    }
    assert [p.message for p in validate_plan(spec, source, target) if p.severity == "error"] == []


def test_the_readme_lists_every_entry_of_the_version_table():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert [e["id"] for e in load_changes() if f"`{e['id']}`" not in readme] == []
