"""The id map's writes: new entries inserted, known ones updated, neither duplicated."""

from odoo.tests import TransactionCase

from ..engine.resolver import IdMap


class TestIdMap(TransactionCase):
    def setUp(self):
        super().setUp()
        source = self.env["migration.source"].create(
            {"name": "Id map source", "url": "http://127.0.0.1:9", "database": "x", "login": "a"}
        )
        self.id_map = IdMap(self.env.cr, source.id)

    def targets(self, source_ids):
        found = self.id_map.lookup("res.partner", source_ids, "res.partner")
        return [found.get((source_id, "res.partner")) for source_id in source_ids]

    def test_new_entries_are_added_and_known_ones_updated(self):
        self.id_map.add([("res.partner", 1, "res.partner", 11, "d1")])
        self.id_map.store(
            [("res.partner", 1, "res.partner", 12), ("res.partner", 2, "res.partner", 21)]
        )
        self.assertEqual(self.targets([1, 2]), [12, 21])

    def test_an_entry_added_meanwhile_is_updated_not_refused(self):
        # another transaction added it after the batch looked: the plain INSERT is refused
        # by the unique constraint, and the batch's entries go in as an upsert
        self.id_map.store([("res.partner", 3, "res.partner", 31)])
        self.id_map.add(
            [("res.partner", 3, "res.partner", 32), ("res.partner", 4, "res.partner", 41)]
        )
        self.assertEqual(self.targets([3, 4]), [32, 41])
        self.env.cr.execute(
            "SELECT count(*) FROM migration_id_map WHERE source_id = %s", [self.id_map.source_key]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 2)
