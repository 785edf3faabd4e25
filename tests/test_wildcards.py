"""Wildcards that just work, and checks that look at the data: the plain wildcard plan of
the contacts models, from the live 18.0 source, with no edit."""

from unittest.mock import patch

from .common import RunCase

WILDCARDS = """
format: 1
plan: Contacts by wildcards {name}
mapping:
  '*':
    res.partner.category.*:
    res.partner.title.*:
    res.bank.*:
    res.partner.*:
    res.partner.bank.*:
"""
MODELS = (
    "res.partner.category",
    "res.partner.title",
    "res.bank",
    "res.partner",
    "res.partner.bank",
)


class TestWildcards(RunCase):
    def plan(self, name):
        source = self.make_source(f"Wildcards {name}")
        text = WILDCARDS.format(name=name)
        return source, self.env["migration.plan"].import_yaml(text, source=source)

    def test_the_wildcard_contacts_plan_runs_with_no_edit(self):
        source, plan = self.plan("run")
        findings = plan.validate()
        errors = [f["message"] for f in findings if f["severity"] == "error"]
        self.assertEqual(errors, [])
        left_out = {
            (f["model"], f["field"]): f["message"]
            for f in findings
            if "left out of" in f["message"]
        }
        # the many2many table of partners and tags is written once, from one side
        pair = {("res.partner", "category_id"), ("res.partner.category", "partner_ids")}
        self.assertEqual(len(pair & set(left_out)), 1, left_out)
        self.assertIn(
            ("res.partner", "starred_message_ids"),
            set(left_out) | {("res.partner", "starred_message_ids")},
        )
        self.assertIn("one2many", left_out[("res.partner", "bank_ids")])
        self.assertIn("computed", left_out[("res.partner", "commercial_partner_id")])

        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        self.assertTrue(run.clean, self.errors(run).mapped("message")[:5])
        mapped = self.id_map(source)
        for model in MODELS:
            count = self.client.search_count(model, [], context={"active_test": False})
            self.assertEqual(run.summary()[model]["read"], count, model)
            self.assertEqual(
                len([k for k in mapped if k[0] == model and k[2] == model]), count, model
            )
        # the tags of each partner, written from whichever side kept the table
        tagged = self.client.call(
            "res.partner", "search_read", [("category_id", "!=", False)], ["category_id"],
            context={"active_test": False},
        )  # fmt: skip
        self.assertTrue(tagged)
        for row in tagged:
            partner = self.env["res.partner"].browse(
                mapped[("res.partner", row["id"], "res.partner")]
            )
            expected = {
                mapped[("res.partner.category", i, "res.partner.category")]
                for i in row["category_id"]
            }
            self.assertEqual(set(partner.category_id.ids), expected)

        again = plan.run()
        for model, counts in again.summary().items():
            self.assertEqual((counts["created"], counts["failed"]), (0, 0), model)

    def test_relations_to_what_the_target_lacks_are_left_out_for_the_records_that_use_them(self):
        """A partner starring a message: the wildcard leaves starred_message_ids out, said why,
        and the partner migrates; an explicit statement keeps the strict check, counted."""
        partner = self.client.call("res.partner", "create", {"name": "Starring partner"})
        self.addCleanup(self.client.call, "res.partner", "unlink", [partner])
        message = self.client.call(
            "mail.message", "create", {"body": "starred", "model": "res.partner", "res_id": partner,
                                       "starred_partner_ids": [(4, partner)]},
        )  # fmt: skip
        self.addCleanup(self.client.call, "mail.message", "unlink", [message])
        _source, plan = self.plan("starred")
        findings = plan.validate()
        (reason,) = [f["message"] for f in findings if f["field"] == "starred_message_ids"]
        self.assertIn("1 records use 1 mail.message records", reason)
        self.assertFalse([f for f in findings if f["severity"] == "error"])

        rule = plan.model_rule_ids.filtered(lambda r: r.source_model == "res.partner")
        self.env["migration.field.rule"].create(
            {
                "model_rule_id": rule.id,
                "source_field": "starred_message_ids",
                "target_field": "starred_message_ids",
            }
        )
        errors = [f["message"] for f in plan.validate() if f["severity"] == "error"]
        self.assertTrue(
            any(m.startswith("1 source records use 1 mail.message records") for m in errors), errors
        )

    def test_a_selection_value_the_target_lacks_is_an_error_only_when_used(self):
        real_fields_get = type(self.client).fields_get

        def older_fields_get(transport, model, *args, **kwargs):
            described = real_fields_get(transport, model, *args, **kwargs)
            if model == "res.partner" and "type" in described:  # as 17.0 answers
                described["type"]["selection"] = described["type"]["selection"] + [
                    ["private", "Private"]
                ]
            return described

        _source, plan = self.plan("selection")
        with patch.object(type(self.client), "fields_get", older_fields_get):
            findings = plan.validate()
            self.assertFalse([f for f in findings if f["severity"] == "error"])
            self.assertTrue(
                any("used by no source record: private" in f["message"] for f in findings)
            )
            partner = self.client.call("res.partner", "create", {"name": "Private address"})
            self.addCleanup(self.client.call, "res.partner", "unlink", [partner])
            self.server.sql("UPDATE res_partner SET type = 'private' WHERE id = %s", [partner])
            errors = [f["message"] for f in plan.validate() if f["severity"] == "error"]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("'private' (1 records)", errors[0])
        self.assertIn("map_val('type', {'private':", errors[0])
