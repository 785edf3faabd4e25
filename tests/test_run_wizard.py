"""Starting runs: the wizard, the background, the scheduled sync, and one run at a time."""

from odoo.exceptions import UserError
from odoo.tests import Form

from ..models.migration_plan import RUN_LOCK_CLASS
from .common import RunCase

SMALL = """
format: 1
plan: Categories and titles
mapping:
  '*':
    res.partner.category.*:
    res.partner.category.partner_ids: __forget__
    res.partner.title.*:
"""


class TestRunWizard(RunCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.make_source("Wizard source")
        cls.plan = cls.env["migration.plan"].import_yaml(SMALL, source=cls.source)

    def wizard(self, **values):
        form = Form(
            self.env["migration.run.wizard"].with_context(
                active_model="migration.plan", active_id=self.plan.id
            )
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def test_wizard_runs_and_the_run_reports_in_its_chatter(self):
        self.assertTrue(self.wizard().background, "in the background unless told otherwise")
        wizard = self.wizard(background=False)
        action = wizard.action_run()
        run = self.env["migration.run"].browse(action["res_id"])
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.progress, 100.0)
        created = run.summary()["res.partner.category"]["created"]
        self.assertGreater(created, 0)
        body = run.message_ids[0].body
        self.assertIn("res.partner.category", body)
        self.assertIn(f"<td>{created}</td>", body)

    def test_wizard_subset_and_dry_run(self):
        titles = self.plan.model_rule_ids.filtered(lambda r: r.source_model == "res.partner.title")
        wizard = self.wizard(dry_run=True, background=False)
        wizard.model_rule_ids = titles
        run = self.env["migration.run"].browse(wizard.action_run()["res_id"])
        self.assertTrue(run.dry_run)
        self.assertEqual(
            run.summary()["res.partner.title"]["read"],
            self.client.search_count("res.partner.title", []),
        )
        self.assertNotIn("res.partner.category", run.summary(), "a line for each model run")

    def test_a_plan_with_errors_is_refused_with_its_reason(self):
        broken = self.env["migration.plan"].import_yaml(
            SMALL.replace("Categories and titles", "Broken").replace(
                "    res.partner.title.*:",
                "    res.partner.title.nmae:\n      res.partner.title.name: __copy__",
            ),
            source=self.source,
        )
        wizard = Form(
            self.env["migration.run.wizard"].with_context(
                active_model="migration.plan", active_id=broken.id
            )
        ).save()
        with self.assertRaises(UserError) as refused:
            wizard.action_run()
        # the mistyped field, and the required field it leaves unfed
        self.assertIn("has 2 error(s) to fix before a run", str(refused.exception))
        self.assertIn("res.partner.title.nmae (did you mean name?)", str(refused.exception))
        self.assertFalse(broken.run_ids, "no run made")
        self.assertEqual(broken.state, "draft")

    def test_the_plan_state_follows_validation_edits_and_runs(self):
        self.plan.validate()
        self.assertEqual(self.plan.state, "validated")
        self.plan.model_rule_ids[:1].domain = "[('id', '>', 0)]"
        self.assertEqual(self.plan.state, "draft", "changed since its validation")
        run = self.wizard(background=False).action_run()
        self.assertEqual(self.env["migration.run"].browse(run["res_id"]).state, "done")
        self.assertEqual(self.plan.state, "clean")
        action = self.plan.action_validate()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("No error", action["params"]["message"])
        self.assertEqual(self.plan.state, "validated")

    def test_background_run_is_queued_then_done_by_the_scheduled_action(self):
        cron = self.env.ref("remote_data_migration.ir_cron_migration_run_queued")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        run = self.env["migration.run"].browse(self.wizard(background=True).action_run()["res_id"])
        self.assertEqual((run.state, run.queued), ("draft", True))
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
        )
        self.env["migration.run"]._cron_run_queued()
        self.assertEqual((run.state, run.queued), ("done", False), run.error)

    def test_a_plan_never_runs_twice_at_once(self):
        with self.registry.cursor() as other:  # another worker running the plan
            other.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, self.plan.id])
            with self.assertRaisesRegex(UserError, "already running"):
                self.plan.run()
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_CLASS, self.plan.id])
        self.assertEqual(self.plan.run().state, "done")

    def test_a_run_left_running_by_a_dead_process_is_marked_interrupted_and_resumes(self):
        stale = self.plan._new_run()
        stale.write({"state": "running", "started_at": "2026-01-01 00:00:00"})
        run = self.plan.run()
        self.assertEqual(run.state, "done")
        self.assertEqual(stale.state, "failed")
        self.assertIn("Interrupted", stale.error)
        self.assertEqual(self.plan.run(resume=True), stale)
        self.assertEqual(stale.state, "done", stale.error)

    def last_run(self):
        return self.env["migration.run"].search([("plan_id", "=", self.plan.id)], limit=1)

    def test_scheduled_sync_runs_incrementally_and_a_failed_run_keeps_the_watermark(self):
        self.plan.scheduled = True
        Plan = self.env["migration.plan"]
        Plan._cron_sync_scheduled()
        first = self.last_run()
        self.assertEqual((first.state, first.incremental, first.clean), ("done", True, True))
        categories = self.client.search_count(
            "res.partner.category", [], context={"active_test": False}
        )
        self.assertEqual(first.summary()["res.partner.category"]["read"], categories)

        # second tick: only what changed on the source in between
        category_id = self.client.call("res.partner.category", "search", [], limit=1)[0]
        color = self.client.call("res.partner.category", "read", [category_id], ["color"])[0][
            "color"
        ]
        self.client.call(
            "res.partner.category", "write", [category_id], {"color": (color or 0) % 10 + 1}
        )
        try:
            Plan._cron_sync_scheduled()
        finally:
            self.client.call("res.partner.category", "write", [category_id], {"color": color})
        second = self.last_run()
        self.assertEqual(self.since(second), self.next_since(first))
        counts = second.summary()["res.partner.category"]
        self.assertEqual((counts["created"], counts["updated"], counts["failed"]), (0, 1, 0))
        # what the source wrote a few minutes before the first run is read again, unchanged
        self.assertEqual(counts["read"], counts["updated"] + counts["unchanged"])
        self.assertLess(counts["read"], categories)
        first = second
        self.source.url = "http://127.0.0.1:9"  # the source is down
        Plan._cron_sync_scheduled()
        failed = self.last_run()
        self.assertEqual((failed.state, failed.clean), ("failed", False))
        self.source.url = self.server.url
        Plan._cron_sync_scheduled()
        self.assertEqual(
            self.since(self.last_run()), self.next_since(first), "the failed run did not move it"
        )

    @staticmethod
    def since(run):
        return {line.source_model: line.since for line in run.model_ids}

    @staticmethod
    def next_since(run):
        return {line.source_model: line.next_since for line in run.model_ids}
