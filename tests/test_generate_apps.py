"""Whole applications from an older version, out of the box: the plan generated for the
apps of a 17.0 source (sale_management, purchase, stock, with their demo data and two
orders locked), run with no edit into this 18.0 database, then compared with the source
through its API, record by natural key, not through the id map."""

from collections import Counter

from odoo.tests import TransactionCase

from ..engine.writer import system_records
from .common import make_source
from .source_server import APPS, get_apps_source_server

ALL = {"active_test": False}


class TestGenerateApps(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = get_apps_source_server()
        cls.client = cls.server.transport("jsonrpc")
        cls.source = make_source(cls.env, "Apps source", cls.server, timeout=60)
        cls.plan = cls.env["migration.plan"].generate(cls.source, apps=list(APPS), name="Apps")
        cls.first_run = cls.plan.run()

    def source_rows(self, model, fields, domain=()):
        return self.client.call(model, "search_read", list(domain), fields, context=ALL)

    def target(self, model, domain):
        return self.env[model].with_context(active_test=False).search(domain)

    def test_the_generated_plan_validates_with_no_error(self):
        errors = self.plan.finding_ids.filtered(lambda f: f.severity == "error")
        self.assertFalse(errors, errors.mapped("message"))
        self.assertEqual(self.plan.state, "clean", "validated, then run with no error")
        rules = {rule.source_model: rule for rule in self.plan.model_rule_ids}
        for model in ("sale.order", "purchase.order", "product.template", "res.partner"):
            self.assertIn(model, rules)
        # configuration is matched, then made when missing; the target's own is left alone
        self.assertEqual(rules["uom.uom"].duplicates, "skip")
        self.assertEqual(rules["res.users"]._discriminator_list(), ["login"])
        self.assertFalse(rules["res.country"].field_rule_ids, "reference data: matched only")
        # a 17.0 product type the target lacks, mapped as the version table says
        type_rules = rules["product.template"].field_rule_ids.filtered(
            lambda f: f.source_field == "type"
        )
        self.assertEqual(set(type_rules.mapped("target_field")), {"type", "is_storable"})
        notes = self.plan.finding_ids.filtered(lambda f: f.origin == "generator").mapped("message")
        self.assertTrue(any("[product-type-product]" in note for note in notes), notes)

    def test_the_run_ends_done_with_nothing_failed(self):
        self.assertEqual(self.first_run.state, "done", self.first_run.error)
        errors = self.first_run.log_ids.filtered(lambda log: log.level == "error")
        self.assertFalse(errors, errors[:10].mapped("message"))
        self.assertTrue(self.first_run.clean)

    def test_partners_and_categories_land(self):
        rows = self.source_rows("res.partner", ["name", "email", "is_company", "parent_id"])
        # the source's admin, root and public partners are matched to the target's own,
        # which keep their values (option system_records: keep)
        system = {res_id for model, res_id in system_records(self.env.cr) if model == "res.partner"}
        mapped = self.env["migration.id.map"].search(
            [("source_id", "=", self.source.id), ("source_model", "=", "res.partner")]
        )
        kept = {entry.source_res_id for entry in mapped if entry.target_res_id in system}
        self.assertTrue(kept, "the source's admin partner is the target's")
        rows = [r for r in rows if r["id"] not in kept]
        source = Counter(
            (r["name"], r["email"] or "", r["is_company"], (r["parent_id"] or [0, ""])[1])
            for r in rows
        )
        partners = self.target("res.partner", [("name", "in", [r["name"] for r in rows])])
        target = Counter(
            (p.name, p.email or "", p.is_company, p.parent_id.display_name or "") for p in partners
        )
        self.assertEqual(source - target, Counter(), "every source partner is on the target")
        categories = {
            r["complete_name"] for r in self.source_rows("product.category", ["complete_name"])
        }
        on_target = set(self.target("product.category", []).mapped("complete_name"))
        self.assertLessEqual(categories, on_target)

    def test_templates_and_variants_with_their_attribute_values(self):
        rows = self.source_rows("product.template", ["name", "default_code", "list_price", "type"])
        source = Counter(
            (
                r["name"],
                r["default_code"] or "",
                r["list_price"],
                "consu" if r["type"] == "product" else r["type"],
                r["type"] == "product",
            )
            for r in rows
        )  # 17.0's storable products are 18.0's goods with is_storable
        templates = self.target("product.template", [("name", "in", [r["name"] for r in rows])])
        target = Counter(
            (t.name, t.default_code or "", t.list_price, t.type, t.is_storable) for t in templates
        )
        self.assertEqual(source, target)
        variants = self.source_rows(
            "product.product",
            ["product_tmpl_id", "default_code", "product_template_attribute_value_ids"],
        )
        values = {
            r["id"]: r["name"]
            for r in self.source_rows("product.template.attribute.value", ["name"])
        }
        template_names = {r["id"]: r["name"] for r in rows}
        source = Counter(
            (
                template_names[r["product_tmpl_id"][0]],
                r["default_code"] or "",
                tuple(sorted(values[v] for v in r["product_template_attribute_value_ids"])),
            )
            for r in variants
        )
        products = self.target("product.product", [("product_tmpl_id", "in", templates.ids)])
        target = Counter(
            (
                p.product_tmpl_id.name,
                p.default_code or "",
                tuple(sorted(p.product_template_attribute_value_ids.mapped("name"))),
            )
            for p in products
        )
        self.assertEqual(source, target)
        self.assertTrue(any(key[2] for key in source), "variants with attribute values")

    def test_sale_and_purchase_orders_with_their_lines(self):
        locked = "locked" if self.server.major >= 17 else "state"  # 16.0 locks as state done
        orders = self.source_rows(
            "sale.order", ["name", "state", "amount_untaxed", "amount_total", "partner_id", locked]
        )
        for order in orders:  # what 17.0 made of 16.0's done: sale, locked
            order["locked"] = order[locked] is True or order["state"] == "done"
            order["state"] = "sale" if order["state"] == "done" else order["state"]
        self.assertEqual(sum(order["locked"] for order in orders), 2, "two orders locked")
        source = Counter(
            (
                o["name"],
                o["state"],
                o["locked"],
                o["amount_untaxed"],
                o["amount_total"],
                o["partner_id"][1],
            )
            for o in orders
        )
        sales = self.target("sale.order", [("name", "in", [o["name"] for o in orders])])
        target = Counter(
            (s.name, s.state, s.locked, s.amount_untaxed, s.amount_total, s.partner_id.display_name)
            for s in sales
        )
        self.assertEqual(source, target)
        lines = self.source_rows(
            "sale.order.line",
            ["order_id", "name", "product_uom_qty", "price_unit", "price_subtotal"],
        )
        source = Counter(
            (
                line["order_id"][1],
                line["name"],
                line["product_uom_qty"],
                line["price_unit"],
                line["price_subtotal"],
            )
            for line in lines
        )
        target = Counter(
            (
                line.order_id.name,
                line.name,
                line.product_uom_qty,
                line.price_unit,
                line.price_subtotal,
            )
            for line in sales.order_line
        )
        self.assertEqual(source, target)

        purchases = self.source_rows(
            "purchase.order", ["name", "state", "amount_total", "partner_id"]
        )
        source = Counter(
            (p["name"], p["state"], p["amount_total"], p["partner_id"][1]) for p in purchases
        )
        orders = self.target("purchase.order", [("name", "in", [p["name"] for p in purchases])])
        target = Counter(
            (p.name, p.state, p.amount_total, p.partner_id.display_name) for p in orders
        )
        self.assertEqual(source, target)
        lines = self.source_rows(
            "purchase.order.line", ["order_id", "name", "product_qty", "price_unit"]
        )
        source = Counter(
            (line["order_id"][1], line["name"], line["product_qty"], line["price_unit"])
            for line in lines
        )
        target = Counter(
            (line.order_id.name, line.name, line.product_qty, line.price_unit)
            for line in orders.order_line
        )
        self.assertEqual(source, target)

    def test_a_second_run_creates_nothing(self):
        again = self.plan.run()
        self.assertEqual(again.state, "done", again.error)
        for model, counts in again.summary().items():
            self.assertEqual((counts["created"], counts["failed"]), (0, 0), model)
            # the source did not change: the values digest spares every write
            self.assertEqual(counts["updated"], 0, model)
