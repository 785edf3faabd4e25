"""The plan generator and the validation, against the live source server."""

from odoo.tests import TransactionCase

from .source_server import get_source_server

MODELS = [
    "res.partner",
    "res.partner.category",
    "res.partner.title",
    "res.partner.bank",
    "res.bank",
    "res.users",
]


class TestPlanGenerator(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = get_source_server()
        cls.source = cls.env["migration.source"].create(
            {
                "name": "Live source",
                "url": server.url,
                "database": server.database,
                "login": server.login,
                "secret": server.password,
                "transport": "jsonrpc",
            }
        )
        cls.plan = cls.env["migration.plan"].generate(cls.source, MODELS, name="Contacts")

    def statement(self, model, field_name):
        rule = self.plan.model_rule_ids.filtered(lambda r: r.source_model == model)
        return rule.field_rule_ids.filtered(lambda f: f.source_field == field_name).statement

    def test_generated_plan_validates_without_error(self):
        errors = [f for f in self.plan.validate() if f["severity"] == "error"]
        self.assertEqual(errors, [])
        self.assertEqual(self.plan.state, "validated")
        self.assertFalse(self.plan.finding_ids.filtered(lambda f: f.severity == "error"))

    def test_generated_rules(self):
        rules = {rule.source_model: rule for rule in self.plan.model_rule_ids}
        self.assertTrue(set(MODELS) <= set(rules))
        for model in MODELS:
            self.assertIn("*", rules[model].field_rule_ids.mapped("source_field"), model)
        self.assertEqual(self.statement("res.partner", "parent_id"), "defer", "self-reference")
        self.assertEqual(self.statement("res.partner.category", "parent_id"), "defer")
        self.assertEqual(
            self.statement("res.partner", "commercial_partner_id"), "forget", "computed"
        )
        self.assertEqual(self.statement("res.partner", "bank_ids"), "forget", "one2many")
        self.assertEqual(rules["res.users"]._discriminator_list(), ["login"])
        self.assertEqual(rules["res.country"]._discriminator_list(), ["code"])
        self.assertFalse(
            rules["res.country"].field_rule_ids, "reference data is matched, not migrated"
        )
        # res.users needs its partner at creation: res.partner goes first, and the partner's
        # link back to users waits for the second pass
        self.assertLess(rules["res.partner"].sequence, rules["res.users"].sequence)
        self.assertLess(rules["res.partner.category"].sequence, rules["res.partner"].sequence)
        self.assertEqual(self.statement("res.partner", "user_id"), "defer", "cycle edge")
        self.assertTrue(
            self.plan.finding_ids.filtered(
                lambda f: f.origin == "generator" and "cycle" in f.message
            )
        )

    def test_validation_reports_what_a_human_must_decide(self):
        partner_rule = self.plan.model_rule_ids.filtered(lambda r: r.source_model == "res.partner")
        partner_rule.field_rule_ids.filtered(
            lambda f: f.source_field == "user_id"
        ).statement = "copy"
        self.env["migration.field.rule"].create(
            [
                {
                    "model_rule_id": partner_rule.id,
                    "source_field": "no_such_field",
                    "target_field": "name",
                },
                {
                    "model_rule_id": partner_rule.id,
                    "source_field": "email",
                    "target_field": "no_such_target",
                },
                {
                    "model_rule_id": partner_rule.id,
                    "source_field": "name",
                    "target_field": "country_id",
                },
            ]
        )
        findings = self.plan.validate()
        messages = [f["message"] for f in findings if f["severity"] == "error"]
        self.assertEqual(self.plan.state, "draft")
        self.assertTrue(
            any("unknown source field res.partner.no_such_field" in m for m in messages), messages
        )
        self.assertTrue(
            any("unknown target field res.partner.no_such_target" in m for m in messages), messages
        )
        self.assertTrue(any("type mismatch: char into many2one" in m for m in messages), messages)
        self.assertTrue(
            any(
                "cycle without a deferred field" in m and "res.partner.user_id" in m
                for m in messages
            ),
            messages,
        )
