"""The plan, model rule and wizard forms open and save as the web client would use them."""

import base64

from odoo.tests import Form, TransactionCase

from .source_server import get_source_server


class TestPlanForms(TransactionCase):
    def test_plan_form_with_rules_and_statements(self):
        form = Form(self.env["migration.plan"])
        form.name = "From the form"
        form.batch_size = 100
        form.pre_hook = "env['res.partner'].search([], limit=1)"
        with form.model_rule_ids.new() as rule:
            rule.source_model = "res.partner.category"
        with form.model_rule_ids.new() as rule:
            rule.source_model = "res.partner"
            rule.domain = "[('customer_rank', '>', 0)]"
            rule.discriminator = "ref"
            with rule.field_rule_ids.new() as statement:
                statement.source_field = "*"
            with rule.field_rule_ids.new() as statement:
                statement.source_field = "name"
                statement.target_field = "name"
                statement.statement = "python"
                statement.python_code = "return source_row['name'].title()"
        plan = form.save()
        partner = plan.model_rule_ids.filtered(lambda r: r.source_model == "res.partner")
        self.assertEqual(partner.target_model, "res.partner")
        self.assertEqual(
            partner.field_rule_ids.mapped("target_model"), ["res.partner", "res.partner"]
        )
        category = plan.model_rule_ids - partner
        self.assertLess(
            category.sequence, partner.sequence, "partners point to categories: computed order"
        )
        self.assertIn(
            "res.partner.name:\n      res.partner.name: return source_row['name'].title()",
            plan.export_yaml(),
        )

    def test_model_rule_form_statement_lines(self):
        plan = self.env["migration.plan"].create({"name": "P"})
        form = Form(self.env["migration.model.rule"].with_context(default_plan_id=plan.id))
        form.source_model = "res.partner"
        with form.field_rule_ids.new() as statement:
            statement.source_field = "user_id"
            statement.target_field = "user_id"
            statement.statement = "fk"
            statement.argument = "res.users"
        rule = form.save()
        self.assertEqual(rule.plan_id, plan)
        self.assertEqual(rule.field_rule_ids.argument, "res.users")

    def test_yaml_wizard_exports_and_imports(self):
        plan = self.env["migration.plan"].import_yaml(
            "plan: Wizard\nmapping:\n  base:\n    res.partner.*:\n"
        )
        wizard = Form(
            self.env["migration.plan.yaml"].with_context(
                active_model="migration.plan", active_id=plan.id
            )
        ).save()
        self.assertEqual(wizard.plan_id, plan)
        wizard.action_export()
        self.assertEqual(wizard.yaml_filename, "wizard.yaml")
        self.assertIn("res.partner.*:", base64.b64decode(wizard.yaml_file).decode())

        form = Form(self.env["migration.plan.yaml"])
        form.yaml_text = wizard.yaml_text.replace("plan: Wizard", "plan: Wizard copy")
        action = form.save().action_import()
        copy = self.env["migration.plan"].browse(action["res_id"])
        self.assertEqual(copy.name, "Wizard copy")
        self.assertEqual(copy._to_spec().statements(), plan._to_spec().statements())

    def test_generator_wizard(self):
        server = get_source_server()
        source = self.env["migration.source"].create(
            {
                "name": "Live",
                "url": server.url,
                "database": server.database,
                "login": server.login,
                "secret": server.password,
            }
        )
        form = Form(self.env["migration.plan.generator"])
        form.source_id = source
        form.plan_name = "Categories"
        form.model_names = "res.partner.category,\nres.partner.title"
        action = form.save().action_generate()
        plan = self.env["migration.plan"].browse(action["res_id"])
        self.assertEqual(plan.name, "Categories")
        self.assertEqual(
            sorted(plan.model_rule_ids.mapped("source_model")),
            ["res.partner.category", "res.partner.title"],
        )
        self.assertEqual(plan.state, "validated")
