"""The main screens in a real browser (headless Chromium), against the live source server."""

import json
import threading
from pathlib import Path
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from .source_server import get_source_server

DEMO_PLAN = Path(__file__).resolve().parent.parent / "data" / "contacts_plan.yaml"


class ScheduledActionThread(threading.Thread):
    """What the cron worker does on a server, here where the tests run no cron: the queued
    runs' scheduled action, called every half second until stopped.

    It shares the test's connection, as the browser's requests do, and waits for the browser
    to be on its way: before that, the test thread itself uses the connection, with no lock
    (to log in), and a query of this thread in between would interleave with its own."""

    def __init__(self, registry):
        super().__init__(daemon=True)
        self.registry = registry
        self.browsing = threading.Event()
        self.stopped = threading.Event()
        self.testing = True  # Odoo's marker of a test thread
        self.calls = 0

    def navigate_to(self, navigate_to):
        """``ChromeBrowser.navigate_to``, starting this thread's work when the browser goes."""

        def navigating(browser, *args, **kwargs):
            self.browsing.set()
            return navigate_to(browser, *args, **kwargs)

        return navigating

    def run(self):
        while not self.browsing.wait(0.5):
            if self.stopped.is_set():
                return
        while not self.stopped.wait(0.5):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                if env["migration.run"].search_count([("queued", "=", True)]):
                    env["migration.run"]._cron_run_queued()
                    self.calls += 1


@tagged("post_install", "-at_install", "is_tour")
class TestTour(HttpCase):
    def test_main_screens(self):
        server = get_source_server()
        categories = server.transport().search_count(
            "res.partner.category", [], context={"active_test": False}
        )
        setup = (
            f"window.rdmSourceUrl = {json.dumps(server.url)};"
            f"window.rdmSourceDatabase = {json.dumps(server.database)};"
            f"window.rdmCategoryCount = {categories};"
        )
        url = "/odoo/action-remote_data_migration.migration_source_action"
        self.start_tour(
            url,
            "remote_data_migration_tour",
            login="admin",
            timeout=240,
            code=setup
            + f"odoo.startTour('remote_data_migration_tour', {{stepDelay: 0, startUrl: {url!r}}})",
        )
        plan = self.env["migration.plan"].search([("name", "=", "Tour plan")])
        runs = plan.run_ids.sorted("id")
        self.assertEqual(runs.mapped("dry_run"), [True, False])
        self.assertEqual(runs.mapped("state"), ["done", "done"])
        counts = runs[1].summary()["res.partner.category"]
        self.assertEqual(counts["read"], categories)
        # the generated plan leaves the categories' partners out (not migrated): all land
        self.assertEqual((counts["created"], counts["failed"]), (categories, 0))
        self.assertTrue(runs[1].clean)

    def test_cockpit(self):
        """A background run of the demo plan followed live to Done; its log; the id map; a
        statement added through the field picker; a preview."""
        server = get_source_server()
        client = server.transport()
        source = self.env["migration.source"].create(
            {"name": "Cockpit source", "url": server.url, "database": server.database,
             "login": server.login, "secret": server.password}
        )  # fmt: skip
        # the demo plan, its generated partners left out to keep the tour short
        text = DEMO_PLAN.read_text().replace(
            'res.partner.__query__: [["user_ids", "=", false]]',
            'res.partner.__query__: [["user_ids", "=", false], ["ref", "not like", "RDM-GEN-%"]]',
        )
        plan = self.env["migration.plan"].import_yaml(text, source=source)
        plan.validate()
        self.assertEqual(plan.state, "validated")
        (partner,) = client.call(
            "res.partner", "search_read", [("is_company", "=", True), ("ref", "=", False),
                                           ("user_ids", "=", False)], ["name"], limit=1, order="id"
        )  # fmt: skip
        setup = (
            f"window.rdmPartnerSourceId = {partner['id']};"
            f"window.rdmPartnerName = {json.dumps(partner['name'])};"
        )
        url = f"/odoo/action-remote_data_migration.migration_plan_action/{plan.id}"
        cron = ScheduledActionThread(self.registry)
        cron.start()
        navigate_to = cron.navigate_to(ChromeBrowser.navigate_to)
        try:
            with patch.object(ChromeBrowser, "navigate_to", navigate_to):
                self.start_tour(
                    url,
                    "remote_data_migration_cockpit_tour",
                    login="admin",
                    timeout=300,
                    code=setup
                    + "odoo.startTour('remote_data_migration_cockpit_tour', "
                    + f"{{stepDelay: 0, startUrl: {url!r}}})",
                )
        finally:
            cron.stopped.set()
            cron.join(60)
        run = plan.run_ids
        self.assertEqual(len(run), 1)
        self.assertTrue(run.background, "the wizard's default: in the background")
        self.assertGreater(cron.calls, 0, "run by the scheduled action, not by the request")
        self.assertEqual(run.state, "done")
        title_rule = plan.model_rule_ids.filtered(lambda r: r.source_model == "res.partner.title")
        added = title_rule.field_rule_ids.filtered(lambda f: f.source_field == "shortcut")
        self.assertEqual(added.mapped("target_field"), ["shortcut"])
