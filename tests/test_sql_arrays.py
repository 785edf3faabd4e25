"""Batches of ids and values sent as one array literal read back by PostgreSQL unchanged."""

import datetime

from odoo.tests import TransactionCase

from ..engine.sql_arrays import pg_array


class TestSqlArrays(TransactionCase):
    def read_back(self, values, sql_type):
        self.env.cr.execute(f"SELECT %s::{sql_type}[]", [pg_array(values)])
        return self.env.cr.fetchone()[0]

    def test_ids_come_back_as_sent(self):
        ids = [1, 2, 2**40, 7]
        self.assertEqual(self.read_back(ids, "bigint"), ids)
        self.assertEqual(self.read_back(iter(ids[:2]), "int"), ids[:2])

    def test_texts_with_the_characters_of_the_syntax_come_back_as_sent(self):
        texts = ["a,b", "{x}", 'say "hi"', "back\\slash", "NULL", "", " padded ", "é€", None]
        self.assertEqual(self.read_back(texts, "varchar"), texts)

    def test_times_and_an_empty_list(self):
        at = datetime.datetime(2026, 12, 2, 4, 10, 43, 123456)
        self.assertEqual(self.read_back([at, None], "timestamp"), [at, None])
        self.assertEqual(self.read_back([], "int"), [])

    def test_one_literal_not_one_parameter_per_element(self):
        # what makes it cheaper: the query carries one constant, not ARRAY[...] of 2,000
        query = self.env.cr.mogrify("SELECT %s::int[]", [pg_array(range(2000))]).decode()
        self.assertNotIn("ARRAY[", query)
        self.assertEqual(query.count("'"), 2)
