"""What keeps a run fast and flat: queries per batch, parents at creation, bounded caches."""

import contextlib
import math
import statistics
import threading
import time
from collections import Counter
from unittest.mock import patch

import odoo.sql_db
from odoo.models import INSERT_BATCH_SIZE

from ..engine import run_context
from ..engine.batch import BatchWork
from ..engine.run_context import RunContext
from ..engine.table_stats import TableStats
from ..engine.writer import Writer
from .common import RunCase

PARTNERS_PLAN = """
format: 1
plan: Generated partners {tag}
options:
  batch_size: {batch_size}
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: {domain}
    res.partner.*:
    res.partner.user_id: __forget__
    res.partner.category_id: __forget__
"""

TWO_MODELS_PLAN = """
format: 1
plan: Titles and partners
options:
  batch_size: 100
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: {domain}
    res.partner.name:
    res.partner.ref:
    res.partner.title.*:
"""


def generated(first, last):
    return f'[["ref", ">=", "RDM-GEN-{first:05d}"], ["ref", "<=", "RDM-GEN-{last:05d}"]]'


class TestRunScale(RunCase):
    def run_plan(self, text):
        source = self.make_source("Scale source")
        plan = self.env["migration.plan"].import_yaml(text, source=source)
        return source, plan.run()

    def queries_per_batch(self, batch_size, first, last):
        """The target's SQL queries of each batch of a run over generated partners.

        Odoo itself writes a multi-row INSERT or UPDATE per 100 records
        (``odoo.models.INSERT_BATCH_SIZE``): such a statement counts once per batch as long as
        it does not come more often than that.
        """
        counts = []
        migrate_batch = BatchWork.first_pass
        odoo_own = self.queries_of_create_per_record()

        def counting(work, rows):
            with _counting_queries() as queries:
                outcomes = migrate_batch(work, rows)
            chunks = math.ceil(len(rows) / INSERT_BATCH_SIZE)
            counts.append(
                sum(
                    math.ceil(count / chunks) if _chunked(query) else count
                    for query, count in queries.items()
                    if query not in odoo_own
                )
            )
            return outcomes

        text = PARTNERS_PLAN.format(
            tag=batch_size, batch_size=batch_size, domain=generated(first, last)
        )
        with patch.object(BatchWork, "first_pass", counting):
            _source, run = self.run_plan(text)
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.model_ids.created_count, last - first + 1)
        return counts

    def queries_of_create_per_record(self):
        """The queries a plain ``create()`` of partners makes once per record, whatever the
        batch (installed modules computing a field each): Odoo's cost, not the run's."""
        made = []
        for number in (1, 3):
            with _counting_queries() as queries, self.env.cr.savepoint(flush=False) as savepoint:
                self.env["res.partner"].create([{"name": f"Plain {i}"} for i in range(number)])
                self.env.flush_all()
                savepoint.rollback()
            made.append(queries)
        self.env.invalidate_all()
        return {query for query, count in made[1].items() if count > made[0][query]}

    def test_queries_per_batch_do_not_grow_with_the_batch(self):
        small = self.queries_per_batch(10, 0, 199)
        large = self.queries_per_batch(500, 1000, 1999)
        self.assertEqual((len(small), len(large)), (20, 2))
        # the first batch of a run warms the caches of reference data: compare the others
        self.assertEqual(
            statistics.median(large[1:]),
            statistics.median(small[1:]),
            f"queries per batch: {small} at 10 records, {large} at 500",
        )

    def test_a_table_is_analyzed_each_time_it_doubles(self):
        cr = self.env.cr
        cr.execute("CREATE TEMP TABLE rdm_stats_probe (id int)")
        stats = TableStats(cr, minimum=10)

        def add(rows):
            cr.execute("INSERT INTO rdm_stats_probe SELECT generate_series(1, %s)", [rows])
            stats.grew("rdm_stats_probe", rows)
            return stats.refresh()

        self.assertEqual(add(5), [], "fewer rows than the minimum")
        self.assertEqual(add(15), ["rdm_stats_probe"])
        cr.execute("SELECT reltuples FROM pg_class WHERE oid = 'rdm_stats_probe'::regclass")
        self.assertEqual(cr.fetchone()[0], 20)
        self.assertEqual(add(10), [], "not doubled since")
        self.assertEqual(add(10), ["rdm_stats_probe"])

    def test_a_table_with_queried_columns_is_analyzed_on_these_only(self):
        cr = self.env.cr
        cr.execute("CREATE TEMP TABLE rdm_stats_columns (id int, note text)")
        cr.execute("INSERT INTO rdm_stats_columns SELECT i, 'n' || i FROM generate_series(1, 50) i")
        stats = TableStats(cr, minimum=10, columns={"rdm_stats_columns": ("id",)})
        stats.grew("rdm_stats_columns", 50)
        self.assertEqual(stats.refresh(), ["rdm_stats_columns"])
        cr.execute("SELECT attname FROM pg_stats WHERE tablename = 'rdm_stats_columns'")
        self.assertEqual([row[0] for row in cr.fetchall()], ["id"])
        cr.execute("SELECT reltuples FROM pg_class WHERE oid = 'rdm_stats_columns'::regclass")
        self.assertEqual(cr.fetchone()[0], 50, "the table's size counted all the same")

    def test_a_run_analyzes_the_tables_it_fills_as_they_double(self):
        """PostgreSQL plans the next batches for the table as it is now (its foreign key
        checks, Odoo's batched updates), not as it was before the run: 4 analyses over
        10 batches of a table starting empty, not one per batch."""
        analyzed = Counter()
        refresh = TableStats.refresh

        def recording(stats):
            tables = refresh(stats)
            analyzed.update(tables)
            return tables

        text = PARTNERS_PLAN.format(tag="stats", batch_size=100, domain=generated(0, 999))
        with (
            patch.object(TableStats, "_estimate", lambda stats, table: 0),
            patch.object(TableStats, "refresh", recording),
        ):
            _source, run = self.run_plan(text)
        self.assertEqual(run.model_ids.created_count, 1000)
        # at 100, 200, 400 and 800 rows
        self.assertEqual(analyzed["res_partner"], 4, analyzed)
        self.assertEqual(analyzed["migration_id_map"], 4, analyzed)

    def test_a_pass_reads_the_external_ids_of_its_model_once_when_they_are_few(self):
        """Partners have a few external ids on the source (its company's, its users'): one
        call for the pass, not one per page. A model with more is asked page by page."""
        text = PARTNERS_PLAN.format(tag="xmlids", batch_size=100, domain=generated(0, 499))
        transport = type(self.make_source("Probe")._transport())
        call = transport.call
        asked = []

        def counting(client, model, method, *args, **kwargs):
            if model == "ir.model.data" and ("model", "=", "res.partner") in args[0]:
                asked.append(args[0])
            return call(client, model, method, *args, **kwargs)

        for at_once, expected in ((run_context.XMLIDS_AT_ONCE, 1), (0, 1 + 5)):
            asked.clear()
            with (
                patch.object(run_context, "XMLIDS_AT_ONCE", at_once),
                patch.object(transport, "call", counting),
            ):
                _source, run = self.run_plan(text)
            self.assertEqual(run.model_ids.created_count, 500)
            self.assertEqual(len(asked), expected, asked)

    def test_a_pass_starts_on_one_call_not_three(self):
        """Before its first page a pass used to wait for three calls in a row: the model's
        external ids, its integer fields (``fields_get``), then the page. The integer
        fields come from the run's schema now, and the external ids are asked for in a
        thread of their own while the reader reads the first page."""
        text = PARTNERS_PLAN.format(tag="one call", batch_size=100, domain=generated(0, 149))
        transport = type(self.make_source("Probe")._transport())
        call = transport.call
        read, xmlids = [], []  # (model, method) the reader asked for; who asked for xmlids

        def recording(client, model, method, *args, **kwargs):
            thread = threading.current_thread().name
            if thread == "rdm-reader":
                read.append((model, method))
            if model == "ir.model.data" and ("model", "=", "res.partner") in args[0]:
                xmlids.append(thread)
            return call(client, model, method, *args, **kwargs)

        with patch.object(transport, "call", recording):
            _source, run = self.run_plan(text)
        self.assertEqual(run.model_ids.created_count, 150)
        self.assertEqual(read, [("res.partner", "search_read")] * 2)
        self.assertEqual(xmlids, ["rdm-call"])

    def test_the_next_pass_is_read_while_this_one_writes(self):
        """Once a pass has its first page, the pass that comes next starts reading: by the
        time it starts, its first pages are there. Nothing is read twice, nothing is left
        reading when the run ends."""
        text = TWO_MODELS_PLAN.format(domain=generated(0, 49))
        transport = type(self.make_source("Probe")._transport())
        call = transport.call
        searched = []  # the model of each page asked for
        next_read = threading.Event()  # a page of the second model was asked for
        first_pass = BatchWork.first_pass
        writing = []

        def recording(client, model, method, *args, **kwargs):
            if method == "search_read" and model != "ir.model.data":
                searched.append(model)
                if model != searched[0]:
                    next_read.set()
            return call(client, model, method, *args, **kwargs)

        def waiting(work, rows):
            if not writing:  # the run's first batch waits for the next pass's read, or 5 s
                writing.append(next_read.wait(timeout=5))
            return first_pass(work, rows)

        with (
            patch.object(transport, "call", recording),
            patch.object(BatchWork, "first_pass", waiting),
        ):
            _source, run = self.run_plan(text)
        self.assertEqual(writing, [True], searched)  # read before the first batch was written
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            {line.source_model: line.read_count for line in run.model_ids},
            {"res.partner": 50, "res.partner.title": self.client.search_count("res.partner.title")},
        )
        self.assertEqual(sorted(searched), ["res.partner", "res.partner.title"])
        time.sleep(0.3)
        self.assertFalse([t for t in threading.enumerate() if t.name == "rdm-reader"])

    def test_parents_are_written_with_their_children(self):
        """A contact whose company comes before it is created with its parent; one whose
        company comes after it gets it in the second pass."""
        company = self.client.call(
            "res.partner", "create", {"name": "Scale company", "is_company": True, "ref": "SCALE-1"}
        )
        early = self.client.call(
            "res.partner", "create", {"name": "Scale early", "ref": "SCALE-2", "parent_id": company}
        )
        late = self.client.call("res.partner", "create", {"name": "Scale late", "ref": "SCALE-3"})
        later_company = self.client.call(
            "res.partner", "create", {"name": "Scale later", "is_company": True, "ref": "SCALE-4"}
        )
        self.client.call("res.partner", "write", [late], {"parent_id": later_company})
        self.addCleanup(
            self.client.call, "res.partner", "unlink", [early, late, company, later_company]
        )
        # one record per batch: the late contact's company is not there when it is created
        text = PARTNERS_PLAN.format(
            tag="parents", batch_size=1, domain='[["ref", "=like", "SCALE-%"]]'
        )
        write_grouped = Writer.write_grouped
        second_pass = []

        def recording(writer, model_name, writes):
            second_pass.extend(writes)
            return write_grouped(writer, model_name, writes)

        with patch.object(Writer, "write_grouped", recording):
            source, run = self.run_plan(text)
        self.assertEqual(run.state, "done", run.error)
        ids = {
            source_id: self.target_of(source, "res.partner", source_id, "res.partner")
            for source_id in (company, early, late, later_company)
        }
        partners = self.env["res.partner"].browse
        self.assertEqual(partners(ids[early]).parent_id.id, ids[company])
        self.assertEqual(partners(ids[late]).parent_id.id, ids[later_company])
        self.assertEqual(second_pass, [ids[late]], "only the late contact waits for its parent")

    def test_a_parent_later_in_the_same_batch_is_written_first(self):
        contact = self.client.call(
            "res.partner", "create", {"name": "Scale child", "ref": "SCALE-5"}
        )
        company = self.client.call(
            "res.partner", "create", {"name": "Scale parent", "is_company": True, "ref": "SCALE-6"}
        )
        self.client.call("res.partner", "write", [contact], {"parent_id": company})
        self.addCleanup(self.client.call, "res.partner", "unlink", [contact, company])
        text = PARTNERS_PLAN.format(
            tag="waves", batch_size=500, domain='[["ref", "in", ["SCALE-5", "SCALE-6"]]]'
        )
        with patch.object(Writer, "write_grouped", side_effect=AssertionError("second pass")):
            source, run = self.run_plan(text)
        self.assertEqual(run.state, "done", run.error)
        child = self.target_of(source, "res.partner", contact, "res.partner")
        parent = self.target_of(source, "res.partner", company, "res.partner")
        self.assertEqual(self.env["res.partner"].browse(child).parent_id.id, parent)

    def test_caches_do_not_grow_with_the_records(self):
        runners = []
        init = RunContext.__init__

        def keeping(ctx, *args, **kwargs):
            init(ctx, *args, **kwargs)
            runners.append(ctx)

        text = PARTNERS_PLAN.format(tag="cache", batch_size=50, domain=generated(300, 699))
        with patch.object(RunContext, "__init__", keeping):
            _source, run = self.run_plan(text)
        self.assertEqual(run.model_ids.created_count, 400)
        resolver = runners[0].resolver
        migrated = [key for key in resolver.cache if key[0] == "res.partner"]
        self.assertLessEqual(len(migrated), 50, "the partners of one batch at most")
        self.assertLessEqual(len(resolver.source_xmlids), 50)
        self.assertLessEqual(
            len(self.env.cache._data.get(self.env["res.partner"]._fields["name"], {})), 100
        )

    def test_links_to_archived_records_are_written_and_compared_as_they_are(self):
        Tag = self.env["res.partner.category"]
        tags = Tag.create([{"name": "RDM kept tag"}, {"name": "RDM archived tag", "active": False}])
        tags.invalidate_recordset()
        writer = Writer(self.env)
        with _counting_queries() as queries:
            created, refused = writer.create_batch(
                "res.partner",
                [
                    (i, {"name": f"RDM tagged {i}", "category_id": [(6, 0, tags.ids)]})
                    for i in range(20)
                ],
            )
        self.assertFalse(refused)
        # Odoo filters a new record's many2many through the comodel's active flag unless told
        # not to: one read of the tags per new partner
        tag_reads = [q for q in queries if 'SELECT "res_partner_category"' in q]
        self.assertFalse(tag_reads, queries)
        partner = self.env["res.partner"].browse(created[0])
        self.assertEqual(partner.with_context(active_test=False).category_id, tags)
        self.env.invalidate_all()
        # a link to an archived tag is a value like any other: the same again is no change
        updated, unchanged, _kept, refused = writer.update_batch(
            "res.partner", [("again", partner.id, {"category_id": [(6, 0, tags.ids)]})]
        )
        self.assertEqual((updated, unchanged, refused), ([], ["again"], {}))

    def test_progress_is_told_to_the_browser_once_a_second_at_most_and_at_the_end(self):
        Run = type(self.env["migration.run"])
        told = []
        notify = Run._notify_progress

        def telling(run):
            told.append(time.monotonic())
            return notify(run)

        text = PARTNERS_PLAN.format(tag="progress", batch_size=10, domain=generated(700, 899))
        started = time.monotonic()
        with patch.object(Run, "_notify_progress", telling):
            _source, run = self.run_plan(text)
        ended = time.monotonic()
        self.assertEqual(run.model_ids.created_count, 200)
        batches = 20
        self.assertLess(len(told), batches, "not one notice per batch")
        self.assertLessEqual(len(told), math.ceil(ended - started) + 2)
        # the end is always told, whenever the notice before it was
        self.assertGreater(told[-1], ended - 0.5)


@contextlib.contextmanager
def _counting_queries():
    """``Counter`` of the queries run inside, by their first 60 characters."""
    queries = Counter()
    execute = odoo.sql_db.Cursor.execute

    def spy(cr, query, params=None, log_exceptions=True):
        queries[str(query)[:60]] += 1
        return execute(cr, query, params, log_exceptions)

    with patch.object(odoo.sql_db.Cursor, "execute", spy):
        yield queries


def _chunked(query):
    return query.startswith(("SQL('INSERT INTO", "SQL(' UPDATE"))
