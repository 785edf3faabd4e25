"""Faults during a run, against the live source (through a proxy that misbehaves on demand):
each ends consistent and, after the retry or the resume, with the source's counts, no record
twice."""

from unittest.mock import patch

import requests

from odoo.tests.common import _super_send

from ..engine.batch import BatchWork
from .common import GENERATED, RunCase
from .fault_proxy import FaultProxy
from .target_faults import CONCURRENCY_FAULTS

# a page of the partners: the only request naming their email field
PAGE = b'"email"'

PLAN = """
format: 1
plan: {name}
options:
  batch_size: {batch_size}
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.email:
"""


class TestRunFaults(RunCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expected = cls.client.search_count("res.partner", GENERATED)

    def plan(self, source, name, batch_size=500):
        text = PLAN.format(name=name, batch_size=batch_size)
        return self.env["migration.plan"].import_yaml(text, source=source)

    def assert_complete(self, run, source):
        """Every generated partner once: the counters, the id map and the target agree."""
        counts = run.summary()["res.partner"]
        self.assertEqual(counts["read"], self.expected, counts)
        self.assertEqual(counts["created"], self.expected, counts)
        self.assertEqual(counts["failed"], 0, counts)
        mapped = self.env["migration.id.map"].search(
            [("source_id", "=", source.id), ("source_model", "=", "res.partner")]
        )
        self.assertEqual(len(mapped), self.expected)
        partners = self.env["res.partner"].browse(mapped.mapped("target_res_id"))
        self.assertEqual(len(set(partners.mapped("ref"))), self.expected, "no partner twice")

    def test_slow_source_past_the_timeout_then_normal(self):
        # Odoo's test mode raises every request timeout to 10 s; this test is about ours
        with (
            FaultProxy(self.server.url) as proxy,
            patch.object(requests.Session, "send", _super_send),
        ):
            source = self.make_source("Slow source", url=proxy.url)
            source.write({"timeout": 1.5, "retries": 2})
            # the first page: two answers later than the timeout, then a normal one
            slow = proxy.add(PAGE, "delay", 2.5, times=2)
            run = self.plan(source, "Slow then normal").run()
            self.assertEqual(slow.fired, 2)
            self.assertEqual(run.state, "done", run.error)
            self.assert_complete(run, source)

            # slow for longer than the retries: the run stops, consistent, and resumes
            source2 = self.make_source("Slower source", url=proxy.url)
            source2.write({"timeout": 1.5, "retries": 1})
            plan = self.plan(source2, "Too slow", batch_size=300)
            # the third page: two answers too late, as many as the source has attempts
            slower = proxy.add(PAGE, "delay", 2.5, times=2, after=2)
            run = plan.run()
            self.assertEqual(slower.fired, 2)
            self.assertEqual(run.state, "failed")
            self.assertIn("no answer within 1.5 s (2 attempts)", run.error)
            counts = run.summary()["res.partner"]
            self.assertEqual(counts["created"], 600, "the pages read before are written")
            self.assertEqual(
                self.env["migration.id.map"].search_count([("source_id", "=", source2.id)]), 600
            )
            resumed = plan.run(resume=True)
            self.assertEqual(resumed, run)
            self.assertEqual(run.state, "done", run.error)
            self.assert_complete(run, source2)

    def test_source_error_for_one_page_is_read_again(self):
        with FaultProxy(self.server.url) as proxy:
            source = self.make_source("Failing page", url=proxy.url)
            source.write({"retries": 2})
            gateway = proxy.add(PAGE, "status", 503, times=1)
            run = self.plan(source, "Gateway").run()
            self.assertEqual(gateway.fired, 1)
            self.assertEqual(run.state, "done", run.error)
            self.assert_complete(run, source)

            source2 = self.make_source("Server error", url=proxy.url)
            failing = proxy.add(PAGE, "rpc_error", "out of memory", times=1)
            run = self.plan(source2, "Server error once").run()
            self.assertEqual(failing.fired, 1)
            self.assertEqual(run.state, "done", run.error)
            self.assert_complete(run, source2)

    def test_serialization_failure_and_deadlock_retry_the_batch(self):
        """PostgreSQL refuses two batches for a concurrent transaction: each is rolled back
        and done again, nothing lost, nothing doubled."""
        self.env.cr.execute(CONCURRENCY_FAULTS)
        source = self.make_source("Concurrent target")
        run = self.plan(source, "Concurrency").run()
        self.assertEqual(run.state, "done", run.error)
        self.assert_complete(run, source)
        retries = run.log_ids.filtered(lambda log: "done again" in log.message).mapped("message")
        self.assertEqual(len(retries), 2, retries)
        self.assertIn("SERIALIZATION_FAILURE", retries[0])
        self.assertIn("DEADLOCK_DETECTED", retries[1])

    def test_cancelled_by_the_user_then_resumed(self):
        source = self.make_source("Cancelled")
        plan = self.plan(source, "Cancel", batch_size=200)
        batches = []
        original = BatchWork.first_pass

        def cancel_after_three(work, rows):
            outcomes = original(work, rows)
            batches.append(len(rows))
            if len(batches) == 3:
                # as the Cancel button does, from another request
                self.env.cr.execute(
                    "UPDATE migration_run SET state = 'cancelled' WHERE plan_id = %s", [plan.id]
                )
            return outcomes

        with patch.object(BatchWork, "first_pass", cancel_after_three):
            run = plan.run()
        self.assertEqual(run.state, "cancelled")
        self.assertEqual(run.summary()["res.partner"]["created"], 600, "stopped after its batch")
        self.assertEqual(
            self.env["migration.id.map"].search_count([("source_id", "=", source.id)]), 600
        )
        resumed = plan.run(resume=True)
        self.assertEqual(resumed, run)
        self.assertEqual(run.state, "done", run.error)
        self.assert_complete(run, source)
