"""Accounting and history from an older version: the plan generated for sale_management,
purchase, stock and account of the 17.0 source (its demo invoices, bills and refunds posted;
one invoice paid in full and one in part by the set-up; a message with an attachment),
run with no edit, then compared with the source through its API."""

from collections import Counter, defaultdict

from odoo.tests import TransactionCase

from ..engine.comparison import source_trial_balance
from .common import make_source
from .source_server import APPS, PAID_MARK, get_apps_source_server

ALL = {"active_test": False}
DOCUMENTS = ("account.move", "sale.order", "purchase.order")


class TestGenerateAccounting(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = get_apps_source_server()
        cls.client = cls.server.transport("jsonrpc")
        cls.source = make_source(cls.env, "Accounting source", cls.server, timeout=60)
        cls.plan = cls.env["migration.plan"].generate(
            cls.source, apps=[*APPS, "account"], name="Accounting"
        )
        cls.first_run = cls.plan.run()

    def source_rows(self, model, fields, domain=()):
        return self.client.call(model, "search_read", list(domain), fields, context=ALL)

    def test_the_plan_validates_and_the_run_ends_clean(self):
        errors = self.plan.finding_ids.filtered(lambda f: f.severity == "error")
        self.assertFalse(errors, errors.mapped("message"))
        self.assertEqual(self.first_run.state, "done", self.first_run.error)
        failures = self.first_run.log_ids.filtered(lambda log: log.level == "error")
        self.assertFalse(failures, failures[:10].mapped("message"))
        self.assertTrue(self.first_run.clean)
        rules = {rule.source_model: rule for rule in self.plan.model_rule_ids}
        self.assertIn("action_post()", rules["account.move"].finish_code)
        self.assertEqual(rules["account.move"].duplicates, "skip")
        self.assertEqual(rules["mail.message"].unresolved, "skip")

    def test_every_entry_as_it_was_posted_with_its_open_amount(self):
        fields = [
            "name",
            "date",
            "partner_id",
            "amount_total",
            "state",
            "amount_residual",
            "payment_state",
        ]
        rows = self.source_rows("account.move", fields)
        self.assertTrue(any(row["payment_state"] == "paid" for row in rows))
        self.assertTrue(any(row["payment_state"] == "partial" for row in rows))
        source = Counter(
            (r["name"], r["date"], (r["partner_id"] or [0, ""])[1], r["amount_total"], r["state"],
             r["amount_residual"], r["payment_state"])
            for r in rows
        )  # fmt: skip
        moves = self.env["account.move"].search([("name", "in", [r["name"] for r in rows])])
        target = Counter(
            (m.name, str(m.date), m.partner_id.display_name or "", m.amount_total, m.state,
             m.amount_residual, m.payment_state)
            for m in moves
        )  # fmt: skip
        self.assertEqual(source, target)
        # the journal's sequence goes on after the migrated names
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        new = invoices[:1].copy({"invoice_date": invoices[:1].invoice_date})
        new.action_post()
        self.assertGreater(new.name, max(invoices.mapped("name")))

    def test_the_trial_balance_and_the_partners_balances_to_the_cent(self):
        source_accounts, source_partners = source_trial_balance(self.client, ALL)
        names = {
            row["id"]: row["display_name"]
            for row in self.source_rows("res.partner", ["display_name"])
        }
        lines = self.env["account.move.line"].search([("parent_state", "=", "posted")])
        accounts, partners = defaultdict(float), defaultdict(float)
        for line in lines:
            accounts[line.account_id.code] += line.balance
            partners[line.partner_id.display_name or False] += line.balance

        def cents(balances):
            return {key: round(value, 2) for key, value in balances.items() if round(value, 2)}

        self.assertEqual(
            cents(accounts), cents({code: sums[2] for code, sums in source_accounts.items()})
        )
        by_name = defaultdict(float)
        for partner_id, balance in source_partners.items():
            by_name[names.get(partner_id, False)] += balance
        self.assertEqual(cents(partners), cents(by_name))

    def test_payments_and_what_they_paid(self):
        payments = self.env["account.payment"].search([("memo", "=", PAID_MARK)])
        self.assertEqual(len(payments), 2)
        # posted on the source: in process (or paid, when its journal has no outstanding
        # account, as 16.0's demo bank), its entry posted
        self.assertLessEqual(set(payments.mapped("state")), {"in_process", "paid"})
        self.assertEqual(set(payments.move_id.mapped("state")), {"posted"})
        paid = self.source_rows(
            "account.move",
            ["name", "payment_state"],
            [("payment_state", "in", ("paid", "partial"))],
        )
        for row in paid:
            move = self.env["account.move"].search([("name", "=", row["name"])])
            self.assertEqual(move.payment_state, row["payment_state"], row["name"])
            self.assertTrue(move.line_ids.matched_credit_ids, row["name"])

    def test_each_document_has_its_chatter_and_its_attachments(self):
        checked = 0
        for model in DOCUMENTS:
            for document in self.source_rows(model, ["name"]):
                messages = self.source_rows(
                    "mail.message",
                    ["message_type", "body"],
                    [("model", "=", model), ("res_id", "=", document["id"])],
                )
                files = self.source_rows(
                    "ir.attachment", ["name", "checksum"],
                    [("res_model", "=", model), ("res_id", "=", document["id"]), ("res_field", "=", False)],
                )  # fmt: skip
                target = self.env[model].search([("name", "=", document["name"])])
                self.assertEqual(len(target), 1, document["name"])
                on_target = self.env["mail.message"].search(
                    [("model", "=", model), ("res_id", "=", target.id)]
                )
                self.assertEqual(
                    Counter((m["message_type"], m["body"]) for m in messages),
                    Counter((m.message_type, str(m.body)) for m in on_target),
                    document["name"],
                )
                attached = self.env["ir.attachment"].search(
                    [
                        ("res_model", "=", model),
                        ("res_id", "=", target.id),
                        ("res_field", "=", False),
                    ]
                )
                self.assertEqual(
                    Counter((f["name"], f["checksum"]) for f in files),
                    Counter((a.name, a.checksum) for a in attached),
                    document["name"],
                )
                checked += len(messages) + len(files)
        self.assertGreater(checked, 50)
        self.assertTrue(self.env["ir.attachment"].search([("name", "=", "signed-order.txt")]).raw)

    def test_a_second_run_creates_nothing_and_changes_no_posted_entry(self):
        posted = self.env["account.move"].search([("state", "=", "posted")])
        before = {
            move.id: (move.name, move.state, move.amount_total, move.write_date) for move in posted
        }
        again = self.plan.run()
        self.assertEqual(again.state, "done", again.error)
        for model, counts in again.summary().items():
            self.assertEqual((counts["created"], counts["failed"]), (0, 0), model)
        self.assertEqual(
            again.summary()["account.move"]["skipped"], again.summary()["account.move"]["read"]
        )
        posted.invalidate_recordset()
        self.assertEqual(
            {
                move.id: (move.name, move.state, move.amount_total, move.write_date)
                for move in posted
            },
            before,
        )

    def test_the_comparison_is_equal_then_reports_a_change_behind_the_runs_back(self):
        result = self.first_run.compare()
        self.assertTrue(result.equal, result.differences)
        self.assertTrue(result.trial_balance and result.partners)
        self.assertIn("Equal to the source", self.first_run.comparison)
        line = self.env["account.move.line"].search(
            [("parent_state", "=", "posted"), ("debit", ">", 0)], limit=1
        )
        self.env.cr.execute(
            "UPDATE account_move_line SET debit = debit + 1, balance = balance + 1 WHERE id = %s",
            [line.id],
        )
        self.env.invalidate_all()
        result = self.first_run.compare()
        self.assertFalse(self.first_run.compared_equal)
        self.assertTrue(
            any(f"account {line.account_id.code}:" in d for d in result.differences),
            result.differences,
        )
        self.assertIn(f"account {line.account_id.code}", self.first_run.comparison)
