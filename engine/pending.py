"""The records waiting for the second pass of a run, kept in the database.

The first pass adds a batch's records with how it counted them (created, updated...); the
second pass takes them back batch by batch and removes each batch with its writes, in the
same transaction. A resumed run, or another worker, finds exactly what is left; nothing is
held in memory across batches.
"""

from .sql_arrays import pg_array

PENDING_TABLE = "migration_run_pending"


class PendingStore:
    def __init__(self, cr, run_key):
        self.cr = cr
        self.run_key = run_key

    def add(self, source_model, outcomes):
        """``outcomes``: ``{source id: outcome}`` of records the second pass completes."""
        if not outcomes:
            return
        self.cr.execute(
            f"INSERT INTO {PENDING_TABLE} (run_id, source_model, source_res_id, outcome)"
            " SELECT %s, %s, i, o FROM unnest(%s::bigint[], %s::varchar[]) AS p(i, o)"
            " ON CONFLICT (run_id, source_model, source_res_id)"
            " DO UPDATE SET outcome = EXCLUDED.outcome",
            [self.run_key, source_model, pg_array(outcomes), pg_array(outcomes.values())],
        )

    def batches(self, source_model, size):
        """``{source id: outcome}`` batches in id order, each read when the last is done."""
        after = 0
        while True:
            self.cr.execute(
                f"SELECT source_res_id, outcome FROM {PENDING_TABLE}"
                " WHERE run_id = %s AND source_model = %s AND source_res_id > %s"
                " ORDER BY source_res_id LIMIT %s",
                [self.run_key, source_model, after, size],
            )
            batch = dict(self.cr.fetchall())
            if not batch:
                return
            yield batch
            after = max(batch)

    def remove(self, source_model, source_ids):
        self.cr.execute(
            f"DELETE FROM {PENDING_TABLE}"
            " WHERE run_id = %s AND source_model = %s AND source_res_id = ANY(%s::bigint[])",
            [self.run_key, source_model, pg_array(source_ids)],
        )


class MemoryPending:
    """The same, in memory: for engine tests that run with no run record."""

    def __init__(self):
        self.waiting = {}

    def add(self, source_model, outcomes):
        self.waiting.setdefault(source_model, {}).update(outcomes)

    def batches(self, source_model, size):
        waiting, after = self.waiting.get(source_model, {}), 0
        while ids := sorted(i for i in waiting if i > after)[:size]:
            yield {source_id: waiting[source_id] for source_id in ids}
            after = ids[-1]

    def remove(self, source_model, source_ids):
        for source_id in source_ids:
            self.waiting.get(source_model, {}).pop(source_id, None)
