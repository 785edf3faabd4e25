from odoo import fields, models

from .migration_id_map import BigInteger


class MigrationRunRange(models.Model):
    """One source id range of one model in one run: the unit of work, with its checkpoint
    and what was counted in it.

    A run done in one process has one range per model, from 0 with no upper bound. What a
    model's second pass or a retry counts goes to the range from 0.
    """

    _name = "migration.run.range"
    _inherit = ["migration.run.tally"]
    _description = "Data Migration Run Range"
    _order = "run_id, source_model, first_id"
    _rec_name = "source_model"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade", index=True)
    source_model = fields.Char(required=True)
    first_id = BigInteger(default=0, help="The range starts after this source id")
    last_id = BigInteger(default=0, help="The range ends at this source id; 0: no end")
    checkpoint = BigInteger(
        default=0, help="Highest source id written and committed: a resume reads after it"
    )
    state = fields.Selection(
        selection=[("pending", "Pending"), ("running", "Running"), ("done", "Done")],
        default="pending",
        required=True,
    )

    _sql_constraints = [
        (
            "range_unique",
            "UNIQUE(run_id, source_model, first_id)",
            "A run has one range of a model starting at a given id.",
        ),
    ]
