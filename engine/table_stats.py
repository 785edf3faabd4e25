"""Planner statistics that keep up with what a run writes.

A run fills a target table from a few rows to its whole size in minutes, long before
autovacuum analyzes it. Until then PostgreSQL plans with the statistics of a nearly empty
table: the foreign key checks of each INSERT and Odoo's batched ``UPDATE ... FROM
(VALUES ...)`` scan the table, and each batch is slower than the one before (measured on
10,000 partners: 5 of the 15 s of writing). A run analyzes a table it writes to once the
table has doubled since its statistics, and after its first ``minimum`` rows: a handful of
``ANALYZE`` per table whatever the run's size.
"""

from collections import Counter

from psycopg2 import sql


class TableStats:
    def __init__(self, cr, minimum=500, columns=None):
        self.cr = cr
        self.minimum = minimum
        # table -> the columns worth statistics, for a table only the run queries, by these
        # columns (the id map: half the time of analyzing all of them)
        self.columns = columns or {}
        self.counted = {}  # table -> rows its statistics count
        self.added = Counter()  # table -> rows added since

    def grew(self, table, rows):
        """``rows`` were added to ``table``."""
        if rows:
            self.added[table] += rows

    def refresh(self):
        """Analyze the tables that doubled since their statistics; returns their names."""
        analyzed = []
        for table, added in self.added.items():
            if table not in self.counted:
                self.counted[table] = self._estimate(table)
            if added >= max(self.minimum, self.counted[table]):
                self.cr.execute(self._analyze(table))
                self.counted[table] += added
                analyzed.append(table)
        for table in analyzed:
            self.added[table] = 0
        return analyzed

    def _analyze(self, table):
        query = sql.SQL("ANALYZE {}").format(sql.Identifier(table))
        if table in self.columns:
            names = sql.SQL(", ").join(map(sql.Identifier, self.columns[table]))
            query = sql.SQL("{} ({})").format(query, names)
        return query

    def _estimate(self, table):
        """The rows the statistics of ``table`` count (none before its first analysis)."""
        self.cr.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = self.cr.fetchone()
        return max(0, int(row[0])) if row else 0
