"""What the run tests share: one way to make a source on the live source server, and the
test case that runs plans against it."""

from pathlib import Path

from odoo.tests import TransactionCase
from odoo.tools import SQL

from .source_server import get_source_server

CONTACTS = (Path(__file__).parent.parent / "data" / "contacts_plan.yaml").read_text()
GENERATED = [("ref", "=like", "RDM-GEN-%")]


def make_source(env, name, server=None, url=None, **values):
    """A ``migration.source`` of ``server`` (the live source server by default), over
    JSON-RPC, with short timeouts; ``values`` override any of its fields."""
    server = server or get_source_server()
    return env["migration.source"].create(
        {
            "name": name,
            "url": url or server.url,
            "database": server.database,
            "login": server.login,
            "secret": server.password,
            "transport": "jsonrpc",
            "retries": 1,
            "timeout": 10,
            **values,
        }
    )


class RunCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = get_source_server()
        cls.client = cls.server.transport("jsonrpc")

    @classmethod
    def make_source(cls, name, url=None, **values):
        return make_source(cls.env, name, cls.server, url=url, **values)

    def target_of(self, source, model, source_id, target_model):
        entry = self.env["migration.id.map"].search(
            [
                ("source_id", "=", source.id),
                ("source_model", "=", model),
                ("source_res_id", "=", source_id),
                ("target_model", "=", target_model),
            ]
        )
        return entry.target_res_id

    def id_map(self, source):
        """The whole id map of ``source``, read once: {(model, source id, target model): target id}."""
        rows = self.env["migration.id.map"].search_read(
            [("source_id", "=", source.id)],
            ["source_model", "source_res_id", "target_model", "target_res_id"],
        )
        return {
            (r["source_model"], r["source_res_id"], r["target_model"]): r["target_res_id"]
            for r in rows
        }

    def edit_behind_the_run(self, record, **values):
        """Write ``values`` on ``record`` as a user would between two runs. The test is one
        transaction, where every write has the same ``write_date``; a user's edit comes in a
        later transaction, so with a later one, which tells a re-run to look again."""
        record.write(values)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = write_date + interval '1 second' WHERE id = %s",
                SQL.identifier(record._table),
                record.id,
            )
        )

    def assert_balanced(self, run):
        """The count equation of every model, checked here as well as by the run."""
        for model, counts in run.summary().items():
            outcomes = sum(
                counts[n] for n in ("created", "updated", "unchanged", "skipped", "failed")
            )
            self.assertEqual(counts["read"], outcomes, f"{model}: {counts}")
        self.assertTrue(run.balanced)

    def errors(self, run):
        return run.log_ids.filtered(lambda line: line.level == "error")
