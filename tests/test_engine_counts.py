"""A property of the engine: whatever the plan, the source and the failures, every record is
accounted for.

Random tag trees (``res.partner.category``: parents, cycles, parents that are not there) are
read from a fake source that cannot send some rows, through random plans (a parent copied
or deferred, ``unresolved`` error, null or skip, ``duplicates``) whose bodies fail some rows
on purpose and feed others a value the target refuses; runs are repeated on the same id map.
Each run must keep, per model, read = created + updated + unchanged + skipped + failed,
count each source row once as read or unreadable, and give every failed or unreadable
record a log line with its source id (first pass or second pass alike).
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import TransactionCase

from ..engine.journal import OUTCOMES, Journal
from ..engine.run_context import RunContext
from ..engine.runner import Runner
from ..engine.spec import FieldRule, ModelRule, PlanSpec
from ..engine.transport import Batch

MODEL = "res.partner.category"
SOURCE_FIELDS = {
    "name": {"type": "char", "string": "Name", "store": True},
    "color": {"type": "integer", "string": "Color", "store": True},
    "parent_id": {"type": "many2one", "relation": MODEL, "string": "Parent", "store": True},
}
FAILING_NAME = (
    "color = source_row['color']\n"
    "if color == 1:\n"
    "    raise ValueError('a body refuses this row')\n"
    "return False if color == 2 else source_row['name']\n"
)  # 1: the body fails the row; 2: a name the target refuses (required)


class FakeSource:
    """Rows of one model, paged by id; ``unreadable`` rows fail when read, as a source with
    a broken value does (a page holds them apart)."""

    def __init__(self, rows, unreadable):
        self.rows = {row["id"]: row for row in rows}
        self.unreadable = set(unreadable)

    def clone(self):
        return self

    def source_clock(self):
        return "2026-01-01 00:00:00"

    def read_batches(
        self, model, fields, domain=None, batch_size=500, context=None, after_id=0,
        integer_fields=None,
    ):  # fmt: skip
        ids = sorted(i for i in set(self.rows) | self.unreadable if i > after_id)
        for term in domain or []:
            if term[0] == "id" and term[1] == "in":
                ids = [i for i in ids if i in term[2]]
            elif term[0] == "id" and term[1] == "<=":
                ids = [i for i in ids if i <= term[2]]
        for start in range(0, len(ids), batch_size):
            page = Batch(self._read(ids[start : start + batch_size], fields))
            page.unreadable = {
                i: "year 12345 is out of range" for i in ids[start : start + batch_size]
                if i in self.unreadable
            }  # fmt: skip
            yield page

    def _read(self, ids, fields):
        return [
            {"id": i, **{name: self.rows[i][name] for name in fields if name != "id"}}
            for i in ids
            if i in self.rows
        ]

    def call(self, model, method, *args, **kwargs):
        if model == "ir.model.data":
            return []
        if method == "read":
            return self._read(args[0], args[1])
        raise AssertionError(f"unexpected call {model}.{method}")


@st.composite
def sources(draw):
    size = draw(st.integers(1, 24))
    ids = sorted(draw(st.sets(st.integers(1, 60), min_size=size, max_size=size)))
    rows = []
    for source_id in ids:
        parent = draw(st.one_of(st.none(), st.sampled_from(ids), st.integers(61, 70)))
        rows.append(
            {
                "id": source_id,
                "name": f"Tag {source_id}",
                "color": draw(st.integers(0, 5)),
                "parent_id": [parent, f"Tag {parent}"] if parent else False,
            }
        )
    unreadable = draw(st.sets(st.sampled_from(ids), max_size=3))
    return [row for row in rows if row["id"] not in unreadable], unreadable


@st.composite
def plans(draw):
    parent = draw(st.sampled_from(["copy", "defer", "forget"]))
    fields = [
        FieldRule("name", MODEL, "name", "python", body=FAILING_NAME),
        FieldRule("color", MODEL, "color"),
        FieldRule("parent_id", MODEL, "parent_id", parent),
    ]
    options = {
        "batch_size": draw(st.integers(1, 10)),
        "on_error": "log",
        "unresolved": draw(st.sampled_from(["error", "null", "skip"])),
        "active_test": False,
        "duplicates": draw(st.sampled_from(["update", "skip", "update_empty"])),
    }
    return PlanSpec(name="Random", options=options, models=[ModelRule(MODEL, MODEL, fields=fields)])


class TestEngineCounts(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env["migration.source"].create(
            {"name": "Fake", "url": "http://fake.invalid", "database": "fake", "login": "x"}
        )

    def run_plan(self, spec, fake):
        journal = Journal()
        ctx = RunContext(
            self.env, fake, spec, {MODEL: SOURCE_FIELDS}, journal, source_key=self.source.id
        )
        Runner(ctx).run()
        return journal

    def check(self, journal, fake):
        counts = journal.counters.get(MODEL, {})
        read = counts.get("read", 0)
        self.assertEqual(read, sum(counts.get(name, 0) for name in OUTCOMES), counts)
        self.assertEqual(read, len(fake.rows), "each readable row read once")
        self.assertEqual(counts.get("unreadable", 0), len(fake.unreadable))
        self.assertTrue(all(value >= 0 for value in counts.values()), counts)
        failed_lines = {
            log["source_res_id"]
            for log in journal.logs
            if log["level"] == "error" and log["source_res_id"]
        }
        self.assertEqual(
            len(failed_lines), counts.get("failed", 0) + counts.get("unreadable", 0), journal.logs
        )
        for source_id in failed_lines:
            self.assertIn(source_id, set(fake.rows) | fake.unreadable)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(plans(), sources(), st.integers(1, 2))
    def test_every_record_is_accounted_for(self, spec, source, runs):
        rows, unreadable = source
        fake = FakeSource(rows, unreadable)
        with self.env.cr.savepoint(flush=False) as savepoint:
            for _run in range(runs):
                self.check(self.run_plan(spec, fake), fake)
                self.env.invalidate_all()
            savepoint.rollback()
        self.env.invalidate_all()
