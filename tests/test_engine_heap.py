"""A pass leaves the heap it starts with out of the garbage collector's full collections."""

import gc
from unittest.mock import patch

from odoo.tests import TransactionCase

from ..engine.batch import BatchWork
from ..engine.journal import Journal
from ..engine.run_context import RunContext
from ..engine.runner import Runner
from ..engine.spec import FieldRule, ModelRule, PlanSpec
from .test_engine_counts import MODEL, SOURCE_FIELDS, FakeSource


class TestEngineHeap(TransactionCase):
    def test_batches_run_with_the_heap_frozen_and_leave_it_as_it_was(self):
        source = self.env["migration.source"].create(
            {"name": "Fake", "url": "http://fake.invalid", "database": "fake", "login": "x"}
        )
        rows = [{"id": i, "name": f"Tag {i}", "color": 0, "parent_id": False} for i in (1, 2, 3)]
        spec = PlanSpec(
            name="Heap",
            options={"batch_size": 2, "on_error": "log", "active_test": False},
            models=[ModelRule(MODEL, MODEL, fields=[FieldRule("name", MODEL, "name")])],
        )
        ctx = RunContext(
            self.env, FakeSource(rows, ()), spec, {MODEL: SOURCE_FIELDS}, Journal(),
            source_key=source.id,
        )  # fmt: skip
        frozen = []
        first_pass = BatchWork.first_pass

        def counting(work, page):
            frozen.append(gc.get_freeze_count())
            return first_pass(work, page)

        before = gc.get_freeze_count()
        with patch.object(BatchWork, "first_pass", counting):
            journal = Runner(ctx).run()
        self.assertEqual(journal.counters[MODEL]["created"], 3)
        self.assertEqual(len(frozen), 2, "two batches")
        self.assertTrue(all(count > before for count in frozen), frozen)
        self.assertEqual(gc.get_freeze_count(), before, "collectable again after the pass")
