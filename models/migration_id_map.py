from odoo import fields, models


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

    _sql_constraints = [
        (
            "source_record_unique",
            "UNIQUE(source_id, source_model, source_res_id, target_model)",
            "A source record maps to one record of each target model.",
        ),
    ]
