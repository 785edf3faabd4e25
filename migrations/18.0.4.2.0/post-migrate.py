"""18.0.4.2.0, after the module is upgraded: the id map's run and source are no longer
foreign keys, and its source has no index of its own.

PostgreSQL checked the run and the source of each entry a run inserted, row by row, and
kept an index on ``source_id`` beside the unique constraint that starts with it. Runs
deleted now empty the run of their entries themselves; a source with entries refuses to
be deleted. Odoo keeps constraints and indexes its fields no longer ask for: they are
dropped here.
"""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    for name in ("migration_id_map_run_id_fkey", "migration_id_map_source_id_fkey"):
        cr.execute(f"ALTER TABLE migration_id_map DROP CONSTRAINT IF EXISTS {name}")
        cr.execute("DELETE FROM ir_model_constraint WHERE name = %s", [name])
    cr.execute("DROP INDEX IF EXISTS migration_id_map__source_id_index")
    _logger.info(
        "remote_data_migration: the id map's foreign keys on runs and sources, and its"
        " source index, are dropped"
    )
