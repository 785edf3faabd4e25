"""Values at the edges: migrated intact, or refused alone with a message naming the value."""

from .test_run_contacts import RunCase

PLAN = """
format: 1
plan: Odd values
options:
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "ODD-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.comment:
    res.partner.type:
"""

LONG_TEXT = "<p>" + "long text, " * 9_090 + "</p>"  # 100,000 characters
ODD_NAME = "Zoë Ωmega 🚀 ‮reversed‬ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b\u00a0end"


class TestRunBadValues(RunCase):
    def test_odd_values_migrate_intact_and_an_unknown_selection_fails_alone(self):
        create = self.client.call
        ids = create(
            "res.partner",
            "create",
            [
                {"name": ODD_NAME, "ref": "ODD-1"},
                {"name": "Long comment", "ref": "ODD-2", "comment": LONG_TEXT},
                {"name": "Legacy kind", "ref": "ODD-3"},
            ],
        )
        self.addCleanup(create, "res.partner", "unlink", ids)
        # a selection value the target does not know (an older version's, or a module's)
        self.server.sql("UPDATE res_partner SET type = 'legacy_kind' WHERE id = %s", [ids[2]])
        self.addCleanup(
            self.server.sql, "UPDATE res_partner SET type = 'contact' WHERE id = %s", [ids[2]]
        )
        source = self.make_source("Odd values")
        run = self.env["migration.plan"].import_yaml(PLAN, source=source).run()

        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.summary()["res.partner"]["created"], 2)
        self.assertEqual(run.summary()["res.partner"]["failed"], 1)
        odd = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", ids[0], "res.partner")
        )
        self.assertEqual(odd.name, ODD_NAME)
        long = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", ids[1], "res.partner")
        )
        self.assertEqual(len(long.comment), len(LONG_TEXT))
        self.assertEqual(str(long.comment), LONG_TEXT)
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(failure.source_res_id, ids[2])
        self.assertIn("legacy_kind", failure.message)
        self.assertFalse(self.target_of(source, "res.partner", ids[2], "res.partner"))
