from odoo import api, fields, models


class BigInteger(fields.Integer):
    """An integer stored as int8: source ids may be beyond 32 bits."""

    column_type = ("int8", "int8")


class MigrationIdMap(models.Model):
    """Which target record each source record became: re-runs update instead of duplicating.

    Filled and read in bulk by the engine (``engine/resolver.py``), one query per batch.
    """

    _name = "migration.id.map"
    _description = "Data Migration Identity Map"
    _order = "source_id, source_model, source_res_id"
    _rec_name = "source_model"

    source_id = fields.Many2one("migration.source", required=True, ondelete="restrict", index=True)
    source_model = fields.Char(required=True)
    source_res_id = BigInteger(string="Source ID", required=True)
    target_model = fields.Char(required=True)
    target_res_id = fields.Integer(string="Target ID", required=True, index=True)
    run_id = fields.Many2one(
        "migration.run", string="Last Run", ondelete="set null", index="btree_not_null"
    )
    values_digest = fields.Char(
        readonly=True,
        help="A digest of the values the last run wrote from this source record: a re-run "
        "that would write the same values leaves the record alone, unread",
    )
    target_ref = fields.Reference(
        selection="_selection_target_model", string="Target Record", compute="_compute_target_ref"
    )

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
