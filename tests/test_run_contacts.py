"""A real run: the contacts plan from the live source server into this database."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import Form

from ..engine.batch import BatchWork
from ..engine.mapping import expand_rule
from ..engine.writer import system_records
from .common import CONTACTS, GENERATED, RunCase
from .source_server import SourceServer


class TestRunContacts(RunCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.make_source("Contacts source")
        cls.plan = cls.env["migration.plan"].import_yaml(CONTACTS, source=cls.source)
        cls.admin_before = cls.env.ref("base.user_admin").read(["name", "email", "login"])[0]
        cls.first_run = cls.plan.run()
        cls.xmlids = {}

    def expected(self, relation, source_id, target_model):
        """The target id a source reference should have become: id map, else external id."""
        target_id = self.mapped.get((relation, source_id, target_model))
        if target_id:
            return target_id
        if (relation, source_id) not in self.xmlids:
            rows = self.client.call(
                "ir.model.data",
                "search_read",
                [("model", "=", relation), ("res_id", "=", source_id)],
                ["complete_name"],
            )
            record = rows and self.env.ref(rows[0]["complete_name"], raise_if_not_found=False)
            self.xmlids[(relation, source_id)] = record.id if record else None
        return self.xmlids[(relation, source_id)]

    def source_rows(self, rule, fields):
        rows = self.client.read_batches(
            rule.source_model,
            fields,
            rule._domain_list() or [],
            batch_size=1000,
            context={"active_test": False},
        )
        return [row for batch in rows for row in batch]

    def assert_same(self, source, model, source_row, record, name, source_field):
        field = record._fields[name]
        raw = source_row[source_field]
        value = record[name]
        where = f"{model} {source_row['id']} -> {record}.{name}"
        if field.type == "many2one":
            expected = raw and self.expected(
                source[source_field]["relation"], raw[0], field.comodel_name
            )
            self.assertEqual(value.id, expected or False, where)
        elif field.type in ("many2many", "one2many"):
            expected = {
                self.expected(source[source_field]["relation"], i, field.comodel_name) for i in raw
            }
            if name == "groups_id":
                # the target adds the groups its own modules imply, which the source lacks
                extra = value.filtered(lambda g: g.id not in expected)
                for xmlid in extra.get_external_id().values():
                    module, xml_name = xmlid.split(".")
                    on_source = [("module", "=", module), ("name", "=", xml_name)]
                    self.assertFalse(
                        self.client.search_count("ir.model.data", on_source), (where, xmlid)
                    )
                value -= extra
            self.assertEqual(set(value.ids), expected, where)
        elif field.type in ("date", "datetime"):
            self.assertEqual(field.to_string(value) if value else False, raw or False, where)
        elif field.type == "binary":
            self.assertEqual((value or b"").decode() if value else False, raw or False, where)
        elif field.type in ("char", "text", "html", "selection"):
            self.assertEqual(value or False, raw or False, where)
        else:
            self.assertEqual(value, raw, where)

    def test_every_record_lands_with_its_values(self):
        self.assertEqual(self.first_run.state, "done", self.first_run.error)
        summary = self.first_run.summary()
        self.assertEqual(
            set(summary),
            {
                "res.partner.category",
                "res.partner.title",
                "res.bank",
                "res.partner",
                "res.partner.bank",
                "res.users",
            },
        )
        spec = self.plan._to_spec()
        schemas = self.plan._schemas(spec)
        checked = 0
        self.mapped = self.id_map(self.source)
        system = system_records(self.env.cr)  # matched, kept as the target has them
        for rule in self.plan.model_rule_ids:
            counts = summary[rule.source_model]
            source_fields = schemas[0][rule.source_model]
            source_count = self.client.search_count(
                rule.source_model, rule._domain_list() or [], context={"active_test": False}
            )
            self.assertEqual(counts["read"], source_count, rule.source_model)
            self.assertEqual(counts["failed"], 0, self.first_run.log_ids.mapped("message"))
            statements = [
                s
                for s in expand_rule(spec.model(rule.source_model), source_fields, schemas[1])
                if s.statement in ("copy", "defer") and s.target_field != "id"
            ]
            fields = sorted(
                {s.source_field for s in statements}
                | ({"partner_id"} if rule.source_model == "res.users" else set())
            )
            rows = self.source_rows(rule, fields)
            self.assertEqual(len(rows), source_count)
            for row in rows:
                for statement in statements:
                    identity = (rule.source_model, row["id"])
                    if statement.target_model != rule.target_model:  # the user's partner
                        identity = ("res.partner", row["partner_id"][0])
                    target_id = self.mapped.get((*identity, statement.target_model))
                    self.assertTrue(target_id, f"{identity} has no {statement.target_model}")
                    if (statement.target_model, target_id) in system:
                        continue
                    record = (
                        self.env[statement.target_model]
                        .browse(target_id)
                        .with_context(active_test=False)
                    )
                    field = record._fields[statement.target_field]
                    if field.compute and field.readonly:
                        continue
                    relation = source_fields[statement.source_field].get("relation")
                    if field.type == "one2many" and not spec.model(relation):
                        continue  # the other side is not migrated

                    self.assert_same(
                        source_fields,
                        rule.source_model,
                        row,
                        record,
                        statement.target_field,
                        statement.source_field,
                    )
                    checked += 1
        self.assertGreater(checked, 40000)
        # the split: each user has a partner with the user's name, and companies are linked
        users = (
            self.env["res.users"].with_context(active_test=False).search([("login", "=", "demo")])
        )
        self.assertEqual(
            users.partner_id.name,
            self.client.call("res.users", "search_read", [("login", "=", "demo")], ["name"])[0][
                "name"
            ],
        )

    def test_run_form_shows_counters_and_log(self):
        form = Form(self.first_run)
        self.assertEqual(form.state, "done")
        self.assertEqual(len(form.model_ids), 6)
        lines = {line.source_model: line for line in self.first_run.model_ids}
        self.assertEqual(lines["res.partner"].read_count, lines["res.partner"].source_count)
        self.assertGreater(lines["res.partner"].rate, 0)
        self.assertGreater(self.first_run.duration, 0)
        self.assertTrue(self.first_run.balanced)
        # the log: nothing went wrong; the chatter has the summary with every counter
        self.assertFalse(self.first_run.log_ids.filtered(lambda line: line.level != "info"))
        action = self.first_run.action_view_log()
        self.assertEqual(action["domain"], [("run_id", "=", self.first_run.id)])
        summary = self.first_run.message_ids.filtered(lambda m: "Run done" in (m.body or ""))
        self.assertEqual(len(summary), 1)
        for header in ("read", "created", "unchanged", "skipped", "failed", "unreadable"):
            self.assertIn(f"<th>{header}</th>", summary.body)
        self.assertIn(f"<td>{lines['res.partner'].read_count}</td>", summary.body)

    def test_phase_times_add_up_to_each_models_time(self):
        """Reading, resolving, transforming, writing, id map, second pass and checkpoints:
        together, the model's time within 10 %."""
        checked = 0
        for line in self.first_run.model_ids:
            phases = line.phase_seconds()
            if line.seconds < 0.5:
                continue
            self.assertAlmostEqual(sum(phases.values()), line.seconds, delta=0.1 * line.seconds,
                                   msg=(line.source_model, phases, line.seconds))  # fmt: skip
            checked += 1
        self.assertGreater(checked, 0)
        partners = self.first_run.model_ids.filtered(
            lambda line: line.source_model == "res.partner"
        )
        for phase in ("read", "resolve", "transform", "write", "id_map", "checkpoint"):
            self.assertGreater(partners[f"{phase}_seconds"], 0, phase)

    def test_second_run_creates_nothing(self):
        again = self.plan.run()
        self.assertEqual(again.state, "done", again.error)
        first = self.first_run.summary()
        for model, counts in again.summary().items():
            self.assertEqual(
                (counts["created"], counts["updated"], counts["failed"]), (0, 0, 0), model
            )
            # the target's own admin and superuser: matched, kept, both times
            self.assertEqual(counts["skipped"], first[model]["skipped"], model)
            self.assertEqual(counts["unchanged"], counts["read"] - counts["skipped"], model)
            self.assertEqual(counts["read"], first[model]["read"], model)
        self.assert_balanced(again)

    def test_deleting_runs_and_their_plan_keeps_the_id_map_without_them(self):
        plan = self.plan.copy()
        id_map = self.env["migration.id.map"].search([("source_id", "=", self.source.id)])
        count = len(id_map)
        for deleted in ("run", "plan"):
            id_map.values_digest = False  # so that the run writes every entry again
            run = plan.run()
            self.assertEqual(set(id_map.run_id.ids), {run.id}, deleted)
            # a plan takes its runs with it (in SQL): their entries stay, with no run
            (run if deleted == "run" else plan).unlink()
            self.assertEqual(len(id_map.exists()), count, deleted)
            self.assertFalse(id_map.run_id, deleted)
        self.env.cr.execute(
            "SELECT count(*) FROM migration_id_map m WHERE m.run_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM migration_run r WHERE r.id = m.run_id)"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        # a source whose runs are gone keeps its entries, and refuses to go without them
        source = self.make_source("Source of one entry")
        entry = self.env["migration.id.map"].create(
            {"source_id": source.id, "source_model": "res.partner", "source_res_id": 1,
             "target_model": "res.partner", "target_res_id": self.env.user.partner_id.id}
        )  # fmt: skip
        with self.assertRaisesRegex(UserError, "Source of one entry has id map entries"):
            source.unlink()
        entry.unlink()
        source.unlink()
        # what it is for: no foreign key for PostgreSQL to check on each entry a run inserts
        self.env.cr.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'migration_id_map'::regclass"
            " AND contype = 'f' AND conkey && ARRAY(SELECT attnum FROM pg_attribute WHERE"
            " attrelid = 'migration_id_map'::regclass AND attname IN ('run_id', 'source_id'))"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_the_target_admin_is_matched_and_kept(self):
        """The source's admin is matched by login to the target's own, which keeps its name
        and address (an info line says so); references to the source's admin find it."""
        admin = self.env.ref("base.user_admin")
        self.assertEqual(admin.read(["name", "email", "login"])[0], self.admin_before)
        source_admin = self.client.call(
            "res.users", "search_read", [("login", "=", "admin")], ["name"]
        )[0]
        self.assertNotEqual(source_admin["name"], admin.name, "the source's admin differs")
        self.assertEqual(
            self.id_map(self.source)[("res.users", source_admin["id"], "res.users")], admin.id
        )
        kept = self.first_run.log_ids.filtered(
            lambda line: line.level == "info" and "base.user_admin" in line.message
        )
        self.assertEqual(kept.mapped("source_res_id"), [source_admin["id"]])
        kept_users = self.first_run.log_ids.filtered(
            lambda line: line.target_model == "res.users" and "kept as it is" in line.message
        )
        self.assertEqual(self.first_run.summary()["res.users"]["skipped"], len(kept_users))

    def test_system_records_update_overwrites_the_admin(self):
        """The option says so: the target's admin takes the source's values."""
        self.plan.system_records = "update"
        run = self.plan.run(models=["res.users"])
        self.assertEqual(run.state, "done", run.error)
        source_admin = self.client.call(
            "res.users", "search_read", [("login", "=", "admin")], ["name"]
        )[0]
        self.assertEqual(self.env.ref("base.user_admin").name, source_admin["name"])

    def test_incremental_run_updates_the_changed_record_only(self):
        partner_id = self.client.call("res.partner", "search", GENERATED, limit=1, order="id desc")[
            0
        ]
        old = self.client.call("res.partner", "read", [partner_id], ["city"])[0]["city"]
        self.client.call("res.partner", "write", [partner_id], {"city": "Changed between runs"})
        try:
            incremental = self.plan.run(incremental=True)
        finally:
            self.client.call("res.partner", "write", [partner_id], {"city": old})
        first_lines = {line.source_model: line for line in self.first_run.model_ids}
        for line in incremental.model_ids:
            self.assertTrue(line.since, line.source_model)
            self.assertEqual(line.since, first_lines[line.source_model].next_since)
        summary = incremental.summary()
        counts = summary["res.partner"]
        self.assertEqual((counts["created"], counts["updated"], counts["failed"]), (0, 1, 0))
        # what the source wrote a few minutes before the first run is read again, unchanged
        self.assertEqual(counts["read"], counts["updated"] + counts["unchanged"])
        self.assertLess(counts["read"], self.first_run.summary()["res.partner"]["read"] / 10)
        self.assert_balanced(incremental)
        target = self.env["res.partner"].browse(
            self.target_of(self.source, "res.partner", partner_id, "res.partner")
        )
        self.assertEqual(target.city, "Changed between runs")

    def test_refused_record_is_logged_then_retried(self):
        self.env.cr.execute(
            "ALTER TABLE res_partner_title ADD CONSTRAINT rdm_no_bad_shortcut"
            " CHECK (shortcut->>'en_US' IS DISTINCT FROM 'BAD')"
        )
        ids = self.client.call(
            "res.partner.title",
            "create",
            [
                {"name": "RDM good 1"},
                {"name": "RDM bad", "shortcut": "BAD"},
                {"name": "RDM good 2"},
            ],
        )
        try:
            run = self.plan.run(models=["res.partner.title"])
            self.assertEqual(run.state, "done")
            counts = run.summary()["res.partner.title"]
            self.assertEqual((counts["created"], counts["failed"]), (2, 1))
            log = run.log_ids.filtered(lambda line: line.level == "error")
            self.assertEqual((log.source_model, log.source_res_id), ("res.partner.title", ids[1]))
            self.assertIn("rdm_no_bad_shortcut", log.message)
            self.assertIn('"shortcut": "BAD"', log.values)
            self.assertFalse(run.clean)

            self.client.call("res.partner.title", "write", [ids[1]], {"shortcut": "OK"})
            run.retry_failed()
            counts = run.summary()["res.partner.title"]
            self.assertEqual((counts["created"], counts["failed"]), (3, 0))
            self.assertTrue(log.retried)
            self.assertTrue(run.clean)
            title = self.env["res.partner.title"].browse(
                self.target_of(self.source, "res.partner.title", ids[1], "res.partner.title")
            )
            self.assertEqual((title.name, title.shortcut), ("RDM bad", "OK"))
        finally:
            self.client.call("res.partner.title", "unlink", ids)

    def test_dry_run_leaves_the_target_as_it_was(self):
        category_id = self.client.call("res.partner.category", "create", {"name": "RDM dry run"})
        try:
            counts_before = {
                model: self.env[model].with_context(active_test=False).search_count([])
                for model in (
                    "res.partner",
                    "res.partner.category",
                    "res.users",
                    "migration.id.map",
                )
            }
            dry = self.plan.run(dry_run=True)
            self.assertEqual(dry.state, "done", dry.error)
            self.assertEqual(dry.summary()["res.partner.category"]["created"], 1)
            counts_after = {
                model: self.env[model].with_context(active_test=False).search_count([])
                for model in counts_before
            }
            self.assertEqual(counts_before, counts_after)
            self.assertFalse(
                self.env["res.partner.category"].search([("name", "=", "RDM dry run")])
            )
        finally:
            self.client.call("res.partner.category", "unlink", [category_id])


class TestRunResilience(RunCase):
    PARTNERS = """
format: 1
plan: Generated partners
options:
  batch_size: %(batch_size)s
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-%%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.email:
    res.partner.is_company:
"""

    def plan(self, source, batch_size):
        return self.env["migration.plan"].import_yaml(
            self.PARTNERS % {"batch_size": batch_size}, source=source
        )

    def test_source_killed_mid_run_then_resumed(self):
        killable = SourceServer()
        killable.start()
        try:
            source = self.make_source("Killable", url=killable.url)
            plan = self.plan(source, 100)
            batches = []
            original = BatchWork.first_pass

            def migrate_then_kill(work, rows):
                outcomes = original(work, rows)
                batches.append(len(rows))
                if len(batches) == 5:
                    killable.kill()
                return outcomes

            with patch.object(BatchWork, "first_pass", migrate_then_kill):
                run = plan.run()
        finally:
            killable.stop()
        self.assertEqual(run.state, "failed")
        self.assertIn("The source stopped answering", run.error)
        self.assertIn(killable.url, run.error)
        # the batches read ahead before the kill are written too
        self.assertGreaterEqual(len(batches), 5)
        self.assertEqual(run.summary()["res.partner"]["created"], sum(batches))

        source.url = self.server.url  # the server is back
        resumed = plan.run(resume=True)
        self.assertEqual(resumed, run)
        self.assertEqual(run.state, "done", run.error)
        expected = self.client.search_count("res.partner", GENERATED)
        self.assertEqual(
            run.summary()["res.partner"],
            {
                "read": expected,
                "created": expected,
                "updated": 0,
                "unchanged": 0,
                "skipped": 0,
                "failed": 0,
                "unreadable": 0,
            },  # fmt: skip
        )
        mapped = self.env["migration.id.map"].search([("source_id", "=", source.id)])
        self.assertEqual(len(mapped), expected)
        self.assertEqual(len(set(mapped.mapped("target_res_id"))), expected)
        names = self.env["res.partner"].browse(mapped.mapped("target_res_id")).mapped("ref")
        self.assertEqual(len(set(names)), expected, "no partner twice")
