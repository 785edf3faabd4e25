"""The main screens in a real browser (headless Chromium), against the live source server."""

import json

from odoo.tests import HttpCase, tagged

from .source_server import get_source_server


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
