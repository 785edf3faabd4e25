"""Mapping files: every statement round-trips; bad files are reported whole and create nothing."""

from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import TransactionCase

from ..engine.yaml_io import parse_plan

EVERY_STATEMENT = (Path(__file__).parent / "data" / "every_statement.yaml").read_text()


class TestPlanYaml(TransactionCase):
    def test_every_statement_round_trips(self):
        Plan = self.env["migration.plan"]
        catalog = Plan._target_catalog()
        from_file, problems = parse_plan(EVERY_STATEMENT, catalog)
        self.assertEqual(problems, [])

        plan = Plan.import_yaml(EVERY_STATEMENT)
        exported = plan.export_yaml()
        again = Plan.import_yaml(exported)
        self.assertEqual(from_file.statements(), plan._to_spec().statements())
        self.assertEqual(plan._to_spec().statements(), again._to_spec().statements())
        self.assertEqual(exported, again.export_yaml(), "a second export is the same text")

        # what the records hold
        self.assertEqual(plan.name, "Legacy partners")
        self.assertEqual(
            (plan.batch_size, plan.on_error, plan.unresolved, plan.active_test),
            (200, "stop", "null", True),
        )
        self.assertIn("partners.write({'comment': 'checked'})", plan.post_hook)
        rules = {rule.source_model: rule for rule in plan.model_rule_ids}
        self.assertEqual(
            set(rules),
            {
                "res.partner.category",
                "res.partner",
                "res.partner.title",
                "res.users",
                "mail.message",
                "res.country",
                "res.partner.bank",
            },
        )
        partner = rules["res.partner"]
        self.assertEqual((rules["res.partner.category"].mode, partner.mode), ("sql", "orm"))
        self.assertEqual(partner._domain_list()[0], ["customer_rank", ">", 0])
        self.assertEqual(partner._discriminator_list(), ["ref"])
        statements = {
            (f.source_field, f.target_model, f.target_field): f for f in partner.field_rule_ids
        }
        self.assertEqual(
            statements[("user_id", "res.partner", "user_id")].statement, "fk", "table key resolved"
        )
        self.assertEqual(statements[("user_id", "res.partner", "user_id")].argument, "res.users")
        self.assertEqual(
            statements[("_", "res.partner", "comment")].python_code, "return 'migrated'"
        )
        self.assertEqual(statements[("parent_id", "res.partner", "parent_id")].statement, "defer")
        self.assertEqual(
            rules["res.partner.title"].target_model, "res.partner.category", "__moved__"
        )
        users = {
            (f.source_field, f.target_model, f.target_field): f
            for f in rules["res.users"].field_rule_ids
        }
        self.assertEqual(users[("_", "res.partner", "id")].python_code, "return newid()")
        self.assertEqual(
            users[("login", "res.partner", "email")].statement, "python", "split into two models"
        )
        message = rules["mail.message"].field_rule_ids.filtered(
            lambda f: f.source_field == "res_id"
        )
        self.assertEqual(
            (message.statement, message.argument, message.module), ("ref", "model", "mail")
        )
        self.assertEqual(rules["res.country"].module, "contacts")
        self.assertFalse(
            rules["res.country"].field_rule_ids, "a discriminator alone: reference data"
        )

    def test_a_source_only_model_moved_into_another_round_trips(self):
        """The anybox classic: a model gone since the source's version (res.partner.address,
        merged into res.partner) moved into the target's, its fields with it."""
        text = (
            "format: 1\nplan: Addresses\nmapping:\n  '*':\n"
            "    res.partner.address.id:\n      res.partner.id: __moved__\n"
            "    res.partner.address.name:\n    res.partner.address.street:\n"
            "    res.partner.address.partner_id:\n      res.partner.parent_id: __copy__\n"
        )
        plan = self.env["migration.plan"].import_yaml(text)
        (rule,) = plan.model_rule_ids
        self.assertEqual(
            (rule.source_model, rule.target_model), ("res.partner.address", "res.partner")
        )
        targets = {
            (f.source_field, f.target_model, f.target_field, f.statement)
            for f in rule.field_rule_ids
        }
        self.assertEqual(
            targets,
            {
                ("id", "res.partner", "id", "moved"),
                ("name", "res.partner", "name", "copy"),
                ("street", "res.partner", "street", "copy"),
                ("partner_id", "res.partner", "parent_id", "copy"),
            },
        )
        exported = plan.export_yaml()
        again = self.env["migration.plan"].import_yaml(exported)
        self.assertEqual(again._to_spec().statements(), plan._to_spec().statements())
        self.assertEqual(again.export_yaml(), exported)

    def test_export_never_holds_the_secret(self):
        source = self.env["migration.source"].create(
            {
                "name": "Old",
                "url": "http://old.example.com",
                "database": "old",
                "login": "admin",
                "secret": "s3cret-for-yaml",
            }
        )
        plan = self.env["migration.plan"].import_yaml(EVERY_STATEMENT, source=source)
        self.assertEqual(plan.source_id, source)
        text = plan.export_yaml()
        self.assertNotIn("s3cret-for-yaml", text)
        self.assertNotIn("old.example.com", text)


BAD_FILES = {
    "yaml syntax": ("mapping: [unclosed\n", "line 2", "not valid YAML"),
    "unknown statement": (
        "mapping:\n  base:\n    res.partner.fax: __forgot__\n",
        "res.partner.fax",
        "'__forgot__'",
    ),
    "mistyped statement": (
        "mapping:\n  base:\n    res.partner.name: __copy_\n",
        "res.partner.name",
        "unknown statement '__copy_' (did you mean __copy__?)",
    ),
    "key without field": ("mapping:\n  base:\n    partner:\n", "'partner'", "without a field"),
    "empty field": ("mapping:\n  base:\n    res.partner.:\n", "'res.partner.'", "without a field"),
    "field with a dot": (
        "mapping:\n  base:\n    res.partner.parent_id.name:\n",
        "res.partner.parent_id.name",
        "cannot contain a dot",
    ),
    "unknown module": (
        "mapping:\n  no_such_module:\n    res.partner.*:\n",
        "no_such_module",
        "unknown module",
    ),
    "bad domain": (
        "mapping:\n  base:\n    res.partner.__query__: [[name, like]]\n",
        "res.partner.__query__",
        "not a valid domain",
    ),
    "bad operator": (
        "mapping:\n  base:\n    res.partner.__query__: [[name, is, 1]]\n",
        "res.partner.__query__",
        "unknown operator",
    ),
    "body not compiling": (
        "mapping:\n  base:\n    res.partner.name:\n      res.partner.name: return source_row['name'\n",
        "res.partner.name",
        "does not compile",
    ),
    "forbidden body": (
        "mapping:\n  base:\n    res.partner._:\n"
        "      res.partner.comment: |\n        import os\n        return os.name\n",
        "res.partner._",
        "does not compile",
    ),
    "option type": ("options:\n  batch_size: many\n", "batch_size", "positive integer"),
    "option choice": ("options:\n  on_error: ignore\n", "on_error", "log | stop"),
    "unknown option": ("options:\n  speed: fast\n", "speed", "unknown option"),
    "ref without argument": (
        "mapping:\n  mail:\n    mail.message.res_id: __ref__\n",
        "mail.message.res_id",
        "__ref__ needs",
    ),
    "fk without argument": (
        "mapping:\n  base:\n    res.partner.user_id: __fk__\n",
        "res.partner.user_id",
        "__fk__ needs",
    ),
    "unknown table": (
        "mapping:\n  base:\n    no_such_table.name:\n",
        "no_such_table.name",
        "unknown model or table",
    ),
    "bad format": ("format: 2\n", "format", "unsupported format"),
    "unknown top key": ("mappings: {}\n", "mappings", "unknown top-level key"),
    "duplicate key": (
        "mapping:\n  base:\n    res.partner.name:\n    res.partner.name: __forget__\n",
        "res.partner.name",
        "duplicate key",
    ),
    "moved elsewhere": (
        "mapping:\n  base:\n    res.partner.name:\n      res.users.login: __moved__\n",
        "res.partner.name",
        "__moved__ belongs",
    ),
    "statement type": (
        "mapping:\n  base:\n    res.partner.name: [1, 2]\n",
        "res.partner.name",
        "a statement must be",
    ),
    "empty file": ("", "", "empty"),
    "unknown mode": (
        "mapping:\n  base:\n    res.partner.__mode__: fast\n",
        "res.partner.__mode__",
        "__mode__ is one of orm, sql",
    ),
}


class TestPlanYamlErrors(TransactionCase):
    def assert_refused(self, text, culprit, reason):
        Plan = self.env["migration.plan"].with_context(active_test=False)
        counts = (Plan.search_count([]), self.env["migration.model.rule"].search_count([]))
        with self.assertRaises(UserError) as caught:
            Plan.import_yaml(text)
        message = str(caught.exception)
        self.assertIn(culprit, message)
        self.assertIn(reason, message)
        self.assertEqual(
            counts, (Plan.search_count([]), self.env["migration.model.rule"].search_count([]))
        )
        return message

    def test_each_bad_input_is_refused_with_its_culprit(self):
        for case, (text, culprit, reason) in BAD_FILES.items():
            with self.subTest(case):
                self.assert_refused(text, culprit, reason)

    def test_every_problem_of_a_file_is_reported_at_once(self):
        text = (
            "options:\n  batch_size: 0\n"
            "mapping:\n  base:\n"
            "    res.partner.fax: __forgot__\n"
            "    res.partner.user_id: __fk__\n"
            "    res.partner.__query__: 12\n"
            "    res.partner.*:\n"
        )
        message = self.assert_refused(text, "res.partner.fax", "4 problem(s)")
        for culprit in (
            "line 2",
            "line 5",
            "line 6",
            "line 7",
            "batch_size",
            "res.partner.user_id",
            "res.partner.__query__",
        ):
            self.assertIn(culprit, message)

    def test_load_yaml_replaces_rules_or_keeps_them_all(self):
        plan = self.env["migration.plan"].import_yaml(EVERY_STATEMENT)
        before = plan._to_spec().statements()
        with self.assertRaises(UserError):
            plan.load_yaml("mapping:\n  base:\n    res.partner.fax: __forgot__\n")
        self.assertEqual(plan._to_spec().statements(), before)
        plan.load_yaml("mapping:\n  base:\n    res.partner.*:\n")
        self.assertEqual(plan.model_rule_ids.mapped("source_model"), ["res.partner"])
