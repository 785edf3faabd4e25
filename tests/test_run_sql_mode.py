"""The sql mode: the same records as the ORM's create, written with COPY."""

from unittest.mock import patch

from ..engine.sql_writer import SqlWriter
from ..engine.writer import Writer
from .common import RunCase

TAGS_PLAN = """
format: 1
plan: Tags in {mode} mode
mapping:
  '*':
    res.partner.category.__mode__: {mode}
    res.partner.category.name:
    res.partner.category.color:
    res.partner.category.active:
    res.partner.category.parent_id:
    res.partner.category.partner_ids: __forget__
"""


class TestRunSqlMode(RunCase):
    def migrate(self, mode, plan_text=TAGS_PLAN):
        source = self.make_source(f"Tags {mode}")
        plan = self.env["migration.plan"].import_yaml(plan_text.format(mode=mode), source=source)
        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        return source, run

    def snapshot(self, source):
        """{source id: the values of its target tag, relations as source ids}."""
        to_source = {
            entry.target_res_id: entry.source_res_id
            for entry in self.env["migration.id.map"].search(
                [("source_id", "=", source.id), ("source_model", "=", "res.partner.category")]
            )
        }
        tags = (
            self.env["res.partner.category"].with_context(active_test=False).browse(list(to_source))
        )
        self.env.cr.execute(
            "SELECT id, name FROM res_partner_category WHERE id = ANY(%s)", [tags.ids]
        )
        names = dict(self.env.cr.fetchall())  # every language stored, as the ORM wrote it
        return {
            to_source[tag.id]: {
                "name": names[tag.id],
                "color": tag.color,
                "active": tag.active,
                "parent": to_source.get(tag.parent_id.id),
                "path": [to_source[int(i)] for i in tag.parent_path.strip("/").split("/")],
                "create_uid": tag.create_uid.id,
            }
            for tag in tags
        }

    def test_sql_mode_writes_what_the_orm_writes(self):
        source_tags = self.client.call(
            "res.partner.category", "search_read", [], ["name", "parent_id"],
            context={"active_test": False},
        )  # fmt: skip
        self.assertTrue(any(tag["parent_id"] for tag in source_tags), "a tree to migrate")
        orm_source, orm_run = self.migrate("orm")
        with patch.object(Writer, "create_batch", side_effect=AssertionError("ORM create")):
            sql_source, sql_run = self.migrate("sql")
        orm, sql = self.snapshot(orm_source), self.snapshot(sql_source)
        self.assertEqual(len(orm), len(source_tags))
        self.assertEqual(sql, orm)
        self.assertEqual(sql_run.model_ids.created_count, len(source_tags))
        # the table's sequence is past the copied ids: the next record takes a new one
        tag = self.env["res.partner.category"].create({"name": "After the copy"})
        self.assertGreater(tag.id, max(self.env["migration.id.map"].search(
            [("source_id", "=", sql_source.id)]).mapped("target_res_id")))  # fmt: skip

    def test_copied_text_is_stored_as_the_orm_stores_it(self):
        names = [
            'tab\there, "quoted", back\\slash',
            "two\nlines\r\nand \\N",
            "accents é ü, emoji 🙂, {braces}",
        ]
        items = [((i, None), {"name": name, "color": i}) for i, name in enumerate(names)]
        copied, _refused = SqlWriter(self.env).create_batch("res.partner.category", items)
        created = self.env["res.partner.category"].create([vals for _key, vals in items])
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, name, color FROM res_partner_category WHERE id = ANY(%s)",
            [list(copied.values()) + created.ids],
        )
        stored = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        self.assertEqual(
            [stored[copied[key]] for key, _vals in items], [stored[tag.id] for tag in created]
        )
        self.assertEqual(stored[created[0].id], ({"en_US": names[0]}, 0))

    def test_copied_rows_carry_their_parent_paths(self):
        orm_source, _orm_run = self.migrate("orm")
        # the paths go in with the COPY: no UPDATE of the new rows afterwards
        Tag = type(self.env["res.partner.category"])
        with patch.object(Tag, "_parent_store_create", side_effect=AssertionError("UPDATE")):
            sql_source, sql_run = self.migrate("sql")
        self.assertFalse(sql_run.log_ids.filtered(lambda log: log.level != "info"))
        orm, sql = self.snapshot(orm_source), self.snapshot(sql_source)
        self.assertTrue(any(len(tag["path"]) > 1 for tag in sql.values()), "children copied")
        self.assertEqual(
            {i: t["path"] for i, t in sql.items()}, {i: t["path"] for i, t in orm.items()}
        )

    def test_a_second_run_in_sql_mode_updates_and_does_not_duplicate(self):
        source, _run = self.migrate("sql")
        Tag = self.env["res.partner.category"].with_context(active_test=False)
        count = Tag.search_count([])
        entry = self.env["migration.id.map"].search([("source_id", "=", source.id)], limit=1)
        drifted = Tag.browse(entry.target_res_id)
        source_color = self.client.call(
            "res.partner.category", "read", [entry.source_res_id], ["color"]
        )[0]["color"]
        self.edit_behind_the_run(drifted, color=(source_color or 0) % 10 + 1)
        plan = self.env["migration.plan"].search([("source_id", "=", source.id)])
        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(Tag.search_count([]), count)
        line = run.model_ids
        self.assertEqual((line.created_count, line.updated_count), (0, 1))
        self.assertEqual(line.unchanged_count, line.read_count - 1)
        self.assertEqual(drifted.color, source_color, "the source's value is back")

    def test_a_row_the_table_refuses_fails_alone(self):
        plan_text = TAGS_PLAN + (
            "    res.partner.category._:\n"
            "      res.partner.category.color: "
            "return 'not a number' if source_row['name'] == 'Prospects' else 4\n"
        )
        plan_text = plan_text.replace("    res.partner.category.color:\n", "")
        source, run = self.migrate("sql", plan_text)
        total = self.client.search_count("res.partner.category", [], {"active_test": False})
        self.assertEqual(run.model_ids.failed_count, 1)
        self.assertEqual(run.model_ids.created_count, total - 1)
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(len(failure), 1)
        self.assertIn("not a number", failure.message + (failure.values or ""))
        (fallback,) = run.log_ids.filtered(lambda log: log.level == "warning")
        self.assertIn("COPY refused this batch", fallback.message)
        self.assertIn("written through the ORM", fallback.message)

    def test_validation_refuses_sql_mode_where_it_is_unsafe(self):
        source = self.make_source("Partners sql")
        plan = self.env["migration.plan"].import_yaml(
            "mapping:\n  '*':\n    res.partner.__mode__: sql\n    res.partner.name:\n",
            source=source,
        )
        findings = plan.validate()
        messages = [f["message"] for f in findings if f["severity"] == "error"]
        self.assertTrue(
            any("__mode__ sql is unsafe for res.partner: its create() is overridden by" in m
                for m in messages), messages,
        )  # fmt: skip
        run = plan.run()
        self.assertEqual(run.state, "failed")
        self.assertFalse(run.model_ids.created_count)
