"""Every record accounted for: second-pass failures, on_error stop, retries, start points
of incremental runs per model and by the source's clock, ranges run as separate calls."""

import datetime
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.tools import config

from ..engine.batch import BatchWork
from ..engine.writer import Writer
from ..models.migration_plan import RUN_LOCK_CLASS
from ..models.migration_run import CRON_SLICE_PARAMETER
from .common import RunCase

CYCLE_PLAN = """
format: 1
plan: Parent cycle {name}
options:
  on_error: {on_error}
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "CYCLE-%"]]
    res.partner.name:
    res.partner.email:
    res.partner.ref:
    res.partner.parent_id:
      res.partner.parent_id: __defer__
"""

CATEGORIES_AND_TITLES = """
format: 1
plan: Categories and titles {name}
mapping:
  '*':
    res.partner.category.name:
    res.partner.category.color:
    res.partner.title.name:
    res.partner.title.shortcut:
"""

FAILING_BODY_PLAN = """
format: 1
plan: Failing body {name}
options:
  batch_size: {batch_size}
  on_error: {on_error}
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-000%"]]
    res.partner.ref:
    res.partner.email:
    res.partner.name:
      res.partner.name: "return source_row['name'] if source_row['email'] != 'broken' else 1 / 0"
"""


class TestRunAccounting(RunCase):
    def make_cycle(self):
        """Two source partners, each the other's parent: the ORM refuses to make it, old or
        repaired databases hold it."""
        first, second = self.client.call(
            "res.partner", "create",
            [{"name": "Cycle A", "ref": "CYCLE-A", "email": "a@cycle.example"},
             {"name": "Cycle B", "ref": "CYCLE-B", "email": "b@cycle.example"}],
        )  # fmt: skip
        self.addCleanup(self.client.call, "res.partner", "unlink", [first, second])
        self.addCleanup(
            self.server.sql,
            "UPDATE res_partner SET parent_id = NULL WHERE id = ANY(%s)",
            [[first, second]],
        )
        self.server.sql("UPDATE res_partner SET parent_id = %s WHERE id = %s", [second, first])
        self.server.sql("UPDATE res_partner SET parent_id = %s WHERE id = %s", [first, second])
        return first, second

    def cycle_plan(self, name, on_error="log"):
        source = self.make_source(f"Cycle {name}")
        text = CYCLE_PLAN.format(name=name, on_error=on_error)
        return source, self.env["migration.plan"].import_yaml(text, source=source)

    def parent_of(self, source, source_id):
        target = self.target_of(source, "res.partner", source_id, "res.partner")
        return self.env["res.partner"].browse(target).parent_id

    def test_a_second_pass_refusal_is_a_failed_record_then_retried(self):
        first, second = self.make_cycle()
        source, plan = self.cycle_plan("retry")
        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["read"], counts["created"], counts["failed"]), (2, 1, 1))
        self.assert_balanced(run)
        self.assertFalse(run.clean)
        (failure,) = self.errors(run)
        self.assertEqual(failure.source_res_id, second)
        self.assertIn("recursive", failure.message)
        self.assertIn("second pass", failure.message)
        self.assertIn('"parent_id"', failure.values)
        self.assertFalse(self.env["migration.run.pending"].search([("run_id", "=", run.id)]))

        # repaired on the source, through its API
        self.client.call("res.partner", "write", [second], {"parent_id": False})
        run.retry_failed()
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["read"], counts["failed"]), (2, 0), counts)
        self.assertEqual(counts["created"] + counts["updated"] + counts["unchanged"], 2)
        self.assert_balanced(run)
        self.assertTrue(failure.retried)
        self.assertTrue(run.clean)
        self.assertEqual(self.parent_of(source, first).ref, "CYCLE-B")
        self.assertFalse(self.parent_of(source, second))
        with self.assertRaisesRegex(Exception, "no failed record to retry"):
            run.retry_failed()

    def test_an_incremental_run_after_a_failure_starts_where_the_last_clean_one_did(self):
        first, second = self.client.call(
            "res.partner", "create",
            [{"name": "Cycle C", "ref": "CYCLE-C"}, {"name": "Cycle D", "ref": "CYCLE-D"}],
        )  # fmt: skip
        self.addCleanup(self.client.call, "res.partner", "unlink", [first, second])
        source, plan = self.cycle_plan("incremental")
        clean = plan.run()
        self.assertTrue(clean.clean, clean.log_ids.mapped("message"))
        self.addCleanup(
            self.server.sql,
            "UPDATE res_partner SET parent_id = NULL WHERE id = ANY(%s)",
            [[first, second]],
        )
        self.client.call("res.partner", "write", [second], {"parent_id": first})
        self.server.sql(
            "UPDATE res_partner SET parent_id = %s, write_date = now() at time zone 'UTC'"
            " WHERE id = %s",
            [second, first],
        )
        failed = plan.run(incremental=True)
        self.assertEqual(failed.state, "done")
        self.assertEqual(failed.summary()["res.partner"]["failed"], 1)
        self.assertFalse(failed.clean)

        self.client.call("res.partner", "write", [first], {"parent_id": False})
        level = plan.run(incremental=True)
        line = level.model_ids
        self.assertEqual(line.since, clean.model_ids.next_since, "the failed run did not move it")
        self.assertTrue(level.clean, level.log_ids.mapped("message"))
        self.assertFalse(self.parent_of(source, first))
        self.assertEqual(self.parent_of(source, second).ref, "CYCLE-C")

    def test_on_error_stop_stops_on_any_failure_and_keeps_its_line(self):
        first, second = self.make_cycle()
        _source, plan = self.cycle_plan("stop", on_error="stop")
        run = plan.run()
        self.assertEqual(run.state, "failed")
        self.assertIn("on_error is stop", run.error)
        self.assertIn(f"res.partner {second}", run.error)
        failure = self.errors(run).filtered("source_res_id")
        self.assertEqual(failure.source_res_id, second)
        self.assertEqual(run.model_ids.state, "stopped")

        # a body that raises, in the first of three batches: the two others are not read
        ids = self.client.call(
            "res.partner", "search", [("ref", "=like", "RDM-GEN-000%")], order="id"
        )
        broken = ids[1]
        email = self.client.call("res.partner", "read", [broken], ["email"])[0]["email"]
        self.client.call("res.partner", "write", [broken], {"email": "broken"})
        self.addCleanup(self.client.call, "res.partner", "write", [broken], {"email": email})
        source = self.make_source("Stop on body")
        text = FAILING_BODY_PLAN.format(name="stop", batch_size=4, on_error="stop")
        run = self.env["migration.plan"].import_yaml(text, source=source).run()
        self.assertEqual(run.state, "failed")
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["read"], counts["created"], counts["failed"]), (4, 3, 1))
        (failure,) = self.errors(run).filtered("source_res_id")
        self.assertEqual(failure.source_res_id, broken)
        self.assertIn("ZeroDivisionError", failure.message)

    def test_retry_counts_only_what_it_reads_again(self):
        ids = self.client.call(
            "res.partner", "search", [("ref", "=like", "RDM-GEN-000%")], order="id"
        )
        fixed, still, gone = ids[1], ids[2], ids[3]
        emails = {
            row["id"]: row["email"]
            for row in self.client.call("res.partner", "read", [fixed, still], ["email"])
        }
        self.client.call("res.partner", "write", [fixed, still], {"email": "broken"})
        for partner_id, email in emails.items():
            self.addCleanup(
                self.client.call, "res.partner", "write", [partner_id], {"email": email}
            )
        gone_row = self.client.call("res.partner", "read", [gone], ["name", "ref", "email"])[0]
        self.client.call("res.partner", "write", [gone], {"email": "broken"})
        source = self.make_source("Retry counts")
        text = FAILING_BODY_PLAN.format(name="retry", batch_size=500, on_error="log")
        run = self.env["migration.plan"].import_yaml(text, source=source).run()
        total = len(ids)
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["read"], counts["failed"]), (total, 3))

        self.client.call("res.partner", "write", [fixed], {"email": emails[fixed]})
        # gone from the source before the retry: it stays failed (it was not migrated)
        self.server.sql("UPDATE res_partner SET ref = 'RDM-GONE' WHERE id = %s", [gone])
        self.addCleanup(
            self.server.sql, "UPDATE res_partner SET ref = %s, email = %s WHERE id = %s",
            [gone_row["ref"], gone_row["email"], gone],
        )  # fmt: skip
        run.retry_failed()
        counts = run.summary()["res.partner"]
        self.assertEqual(
            (counts["read"], counts["created"], counts["failed"]), (total, total - 2, 2), counts
        )
        self.assert_balanced(run)
        run.retry_failed()  # the one still broken, again: nothing counted twice
        self.assertEqual(run.summary()["res.partner"], counts)
        errors = self.errors(run).filtered(lambda log: not log.retried)
        self.assertEqual(sorted(errors.mapped("source_res_id")), sorted([still, gone]))

    def test_one_model_as_two_ranges_in_two_calls_gets_what_one_run_gets(self):
        plan_text = """
format: 1
plan: Ranges {name}
options:
  batch_size: 70
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-00%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.email:
    res.partner.parent_id:
"""
        ids = self.client.call(
            "res.partner", "search", [("ref", "=like", "RDM-GEN-00%")], order="id"
        )
        # parents across the cut, both ways: the second pass completes what a range could not
        low, high = ids[5], ids[-5]
        self.client.call("res.partner", "write", [ids[-6]], {"parent_id": low})
        self.client.call("res.partner", "write", [ids[6]], {"parent_id": high})
        self.addCleanup(
            self.client.call, "res.partner", "write", [ids[6], ids[-6]], {"parent_id": False}
        )
        whole_source = self.make_source("One run")
        whole = (
            self.env["migration.plan"]
            .import_yaml(plan_text.format(name="whole"), source=whole_source)
            .run()
        )
        self.assertTrue(whole.clean, whole.error)

        parts_source = self.make_source("Two ranges")
        plan = self.env["migration.plan"].import_yaml(
            plan_text.format(name="parts"), source=parts_source
        )
        run = plan._new_run()
        run._begin()
        middle = ids[len(ids) // 2]
        run._migrate_range("res.partner", 0, middle)
        run._migrate_range("res.partner", middle, None)
        run._second_pass("res.partner")
        run._end()
        self.assertTrue(run.clean, run.log_ids.mapped("message"))
        self.assertEqual(len(run.range_ids), 2)
        self.assertEqual(set(run.range_ids.mapped("state")), {"done"})
        self.assertEqual(run.summary(), whole.summary())
        # each range counted what was read in it (a job writes its own row); the line sums
        low_range, high_range = run.range_ids.sorted("first_id")
        self.assertTrue(low_range.read_count and high_range.read_count)
        self.assertEqual(low_range.read_count + high_range.read_count, run.model_ids.read_count)
        self.assertAlmostEqual(
            low_range.write_seconds + high_range.write_seconds, run.model_ids.write_seconds, 2
        )

        def landed(source):
            entries = self.env["migration.id.map"].search([("source_id", "=", source.id)])
            partners = self.env["res.partner"].browse(entries.mapped("target_res_id"))
            self.assertEqual(len(partners), len(ids))
            return sorted((p.name, p.ref, p.email or "", p.parent_id.ref or "") for p in partners)

        self.assertEqual(landed(parts_source), landed(whole_source))
        self.assertEqual(
            sorted(self.id_map(parts_source)), sorted(self.id_map(whole_source)), "same source ids"
        )

    def test_a_subset_run_moves_only_its_own_start_point(self):
        source = self.make_source("Start points")
        plan = self.env["migration.plan"].import_yaml(
            CATEGORIES_AND_TITLES.format(name="subset"), source=source
        )
        first = plan.run()
        self.assertTrue(first.clean, first.error)
        title = self.client.call("res.partner.title", "create", {"name": "Start point title"})
        self.addCleanup(self.client.call, "res.partner.title", "unlink", [title])
        subset = plan.run(models=["res.partner.category"], incremental=True)
        self.assertTrue(subset.clean)
        self.assertEqual(subset.model_ids.mapped("source_model"), ["res.partner.category"])
        third = plan.run(incremental=True)
        lines = {line.source_model: line for line in third.model_ids}
        first_lines = {line.source_model: line for line in first.model_ids}
        self.assertEqual(
            lines["res.partner.title"].since, first_lines["res.partner.title"].next_since
        )
        self.assertEqual(
            lines["res.partner.category"].since, subset.model_ids.next_since, "its own moved"
        )
        self.assertEqual(third.summary()["res.partner.title"]["created"], 1)
        self.assertTrue(self.target_of(source, "res.partner.title", title, "res.partner.title"))

    def test_a_source_an_hour_behind_the_target_loses_nothing_incrementally(self):
        """The target's clock an hour ahead of the source's (as a source an hour behind):
        the start point comes from the source's clock, so what the source writes after a
        run is read by the next incremental one."""
        source = self.make_source("Clock behind")
        plan = self.env["migration.plan"].import_yaml(
            CATEGORIES_AND_TITLES.format(name="clock"), source=source
        )
        real_now = fields.Datetime.now
        ahead = patch.object(
            fields.Datetime, "now", lambda *a: real_now() + datetime.timedelta(hours=1)
        )
        with ahead:
            first = plan.run()
        self.assertTrue(first.clean, first.error)
        category = self.client.call("res.partner.category", "create", {"name": "Written after"})
        self.addCleanup(self.client.call, "res.partner.category", "unlink", [category])
        with ahead:
            second = plan.run(incremental=True)
        self.assertEqual(second.summary()["res.partner.category"]["created"], 1)
        self.assertTrue(
            self.target_of(source, "res.partner.category", category, "res.partner.category")
        )

    def test_the_run_lock_is_read_in_this_database_only(self):
        """A copy of this database on the same server (a staging copy) has a plan with the
        same id running: that does not hide an interrupted run here."""
        source = self.make_source("Lock")
        plan = self.env["migration.plan"].import_yaml(
            CATEGORIES_AND_TITLES.format(name="lock"), source=source
        )
        run = plan._new_run()
        run.state = "running"  # as a killed process leaves it
        other = psycopg2.connect(dbname="postgres", user=config["db_user"] or None)
        try:
            with other.cursor() as cr:
                cr.execute("SELECT pg_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, plan.id])
            run.invalidate_recordset(["interrupted"])
            self.assertTrue(run.interrupted)
        finally:
            other.close()


POLICY_PLAN = """
format: 1
plan: Policies {name}
options:
  batch_size: 2
  unresolved: {unresolved}
  duplicates: {duplicates}
hooks:
  pre: "env['res.partner.category'].create({{'name': 'pre hook of {name}'}})"
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "POLICY-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.category_id:
"""


class TestRunPolicies(RunCase):
    """What the plan's options do with each record, counted apart."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tag = cls.client.call("res.partner.category", "create", {"name": "Not migrated"})
        cls.partners = cls.client.call(
            "res.partner", "create",
            [{"name": f"Policy {n}", "ref": f"POLICY-{n}"} for n in range(5)]
            + [{"name": "Policy tagged", "ref": "POLICY-T", "category_id": [(6, 0, [tag])]}],
        )  # fmt: skip
        cls.addClassCleanup(cls.client.call, "res.partner", "unlink", cls.partners)
        cls.addClassCleanup(cls.client.call, "res.partner.category", "unlink", [tag])

    def plan(self, name, unresolved="skip", duplicates="update"):
        source = self.make_source(f"Policies {name}")
        text = POLICY_PLAN.format(name=name, unresolved=unresolved, duplicates=duplicates)
        return source, self.env["migration.plan"].import_yaml(text, source=source)

    def test_unresolved_skip_and_duplicates_skip_are_skipped_unchanged_is_unchanged(self):
        source, plan = self.plan("skip")
        run = plan.run()
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["read"], counts["created"], counts["skipped"]), (6, 5, 1))
        self.assert_balanced(run)
        (skipped,) = run.log_ids.filtered(lambda log: log.message.startswith("skipped:"))
        self.assertEqual((skipped.level, skipped.source_res_id), ("info", self.partners[-1]))
        self.assertIn("has no target res.partner.category", skipped.message)

        with patch.object(
            Writer, "update_batch", autospec=True, side_effect=Writer.update_batch
        ) as update:
            again = plan.run()
        self.assertEqual(again.summary()["res.partner"]["unchanged"], 5)
        self.assertEqual(again.summary()["res.partner"]["skipped"], 1)
        self.assertFalse(
            [item for call in update.call_args_list for item in call.args[2]],
            "the values the first run wrote, on records nobody wrote since: neither read nor written",
        )

        target = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", self.partners[0], "res.partner")
        )
        self.edit_behind_the_run(target, name="Changed on the target")
        plan.duplicates = "skip"
        kept = plan.run()
        counts = kept.summary()["res.partner"]
        self.assertEqual((counts["skipped"], counts["unchanged"], counts["updated"]), (6, 0, 0))
        self.assertEqual(target.name, "Changed on the target", "left alone")
        plan.duplicates = "update"
        self.assertEqual(plan.run().summary()["res.partner"]["updated"], 1)
        self.assertEqual(target.name, "Policy 0")

    def test_hooks_run_once_per_run_whatever_the_resumes(self):
        _source, plan = self.plan("hooks", unresolved="null")
        original = BatchWork.first_pass

        def cancel_after_one(work, rows):
            outcomes = original(work, rows)
            self.env.cr.execute(
                "UPDATE migration_run SET state = 'cancelled' WHERE plan_id = %s", [plan.id]
            )
            return outcomes

        with patch.object(BatchWork, "first_pass", cancel_after_one):
            run = plan.run()
        self.assertEqual(run.state, "cancelled")
        self.assertEqual(run.model_ids.state, "stopped", "its line ends with the run")
        self.assertEqual(run.hooks_done, "pre")
        resumed = plan.run(resume=True)
        self.assertEqual((resumed, run.state), (run, "done"))
        self.assertEqual(run.summary()["res.partner"]["created"], 6)
        hook_records = self.env["res.partner.category"].search_count(
            [("name", "=", "pre hook of hooks")]
        )
        self.assertEqual(hook_records, 1)
        self.assertEqual(run.hooks_done, "pre", "the plan has no post nor end hook")

    def test_source_calls_only_reading_methods(self):
        source = self.make_source("Reading only")
        text = """
format: 1
plan: Reading only
mapping:
  '*':
    res.partner.__query__: [["ref", "in", ["POLICY-0", "POLICY-1"]]]
    res.partner.ref:
    res.partner.name:
      res.partner.name: |
        if source_row['ref'] == 'POLICY-1':
            source('res.partner', 'write', [source_row['id']], {'name': 'Changed by a body'})
        return '%s of %s' % (source_row['name'], source('res.partner', 'search_count', []))
"""
        run = self.env["migration.plan"].import_yaml(text, source=source).run()
        counts = run.summary()["res.partner"]
        self.assertEqual((counts["created"], counts["failed"]), (1, 1))
        (failure,) = self.errors(run)
        self.assertEqual(failure.source_res_id, self.partners[1])
        self.assertIn("reading methods only", failure.message)
        self.assertIn("'write'", failure.message)
        name = self.client.call("res.partner", "read", [self.partners[1]], ["name"])[0]["name"]
        self.assertEqual(name, "Policy 1", "the source is never written")

    def test_a_background_run_goes_on_over_several_calls_of_the_scheduled_action(self):
        """Each call of the scheduled action runs a slice of the run, then asks for the next
        call, which resumes from the checkpoint: no call outlives the worker's time limit."""
        _source, plan = self.plan("slices", unresolved="null")
        self.env["ir.config_parameter"].set_param(CRON_SLICE_PARAMETER, "0.001")
        run = plan._queue_run()
        calls = 0
        while run.state in ("draft", "running") and calls < 20:
            self.env["migration.run"]._cron_run_queued()
            calls += 1
        self.assertEqual(run.state, "done", run.error)
        self.assertGreater(calls, 3, "one batch of two per call, at most")
        self.assertEqual(run.summary()["res.partner"]["created"], 6)
        self.assertFalse(run.queued)
        self.assertEqual(
            self.env["res.partner.category"].search_count([("name", "=", "pre hook of slices")]), 1
        )
