from odoo import api, fields, models


class BigInteger(fields.Integer):
    """An integer stored as int8: source ids may be beyond 32 bits."""

    column_type = ("int8", "int8")


class LooseMany2one(fields.Many2one):
    """A many2one that PostgreSQL does not check: no foreign key.

    A run inserts id map entries by the thousand, and PostgreSQL checks each foreign key of
    each row with a query of its own (the run and the source: 28 of 82 ms per 2,000 entries,
    measured). The comodel keeps the links to its records right itself (``ondelete`` is
    not enforced here)."""

    def update_db_foreign_key(self, model, column):
        return


class MigrationIdMap(models.Model):
    """Which target record each source record became: re-runs update instead of duplicating.

    Filled and read in bulk by the engine (``engine/resolver.py``), one query per batch.
    """

    _name = "migration.id.map"
    _description = "Data Migration Identity Map"
    _order = "source_id, source_model, source_res_id"
    _rec_name = "source_model"

    # the unique constraint's first column: that index serves the searches by source. A
    # source with entries is not deleted (no foreign key: see LooseMany2one)
    source_id = LooseMany2one("migration.source", required=True)
    source_model = fields.Char(required=True)
    source_res_id = BigInteger(string="Source ID", required=True)
    target_model = fields.Char(required=True)
    target_res_id = fields.Integer(string="Target ID", required=True, index=True)
    # emptied by the run's unlink (no foreign key: see LooseMany2one)
    run_id = LooseMany2one("migration.run", string="Last Run", index="btree_not_null")
    values_digest = fields.Char(
        readonly=True,
        help="A digest of the values the last run wrote from this source record: a re-run "
        "that would write the same values leaves the record alone, unread",
    )
    target_ref = fields.Reference(
        selection="_selection_target_model", string="Target Record", compute="_compute_target_ref"
    )

    @api.model
    def _forget_runs(self, run_ids):
        """Runs ``run_ids`` are deleted: their entries keep their target, and no run."""
        if run_ids:
            self.env.cr.execute(
                "UPDATE migration_id_map SET run_id = NULL WHERE run_id = ANY(%s)", [list(run_ids)]
            )
            self.invalidate_model(["run_id"])

    @api.model
    def _selection_target_model(self):
        return [(model.model, model.name) for model in self.env["ir.model"].sudo().search([])]

    @api.depends("target_model", "target_res_id")
    def _compute_target_ref(self):
        existing = set()  # (model, id) still there: a record deleted since shows empty
        for model, entries in self.grouped("target_model").items():
            if model in self.env:
                ids = self.env[model].browse(entries.mapped("target_res_id")).exists().ids
                existing.update((model, res_id) for res_id in ids)
        for entry in self:
            known = (entry.target_model, entry.target_res_id) in existing
            entry.target_ref = f"{entry.target_model},{entry.target_res_id}" if known else False

    _sql_constraints = [
        (
            "source_record_unique",
            "UNIQUE(source_id, source_model, source_res_id, target_model)",
            "A source record maps to one record of each target model.",
        ),
    ]
