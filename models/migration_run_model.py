from odoo import api, fields, models

from .migration_id_map import BigInteger


class MigrationRunModel(models.Model):
    """The counters and the checkpoint of one model in one run."""

    _name = "migration.run.model"
    _description = "Data Migration Run Model"
    _order = "run_id, sequence, id"
    _rec_name = "source_model"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    source_model = fields.Char(required=True)
    target_model = fields.Char()
    state = fields.Selection(
        selection=[("pending", "Pending"), ("running", "Running"), ("done", "Done")],
        default="pending",
        required=True,
    )
    checkpoint = BigInteger(help="Highest source id written and committed: a resume reads after it")
    source_count = fields.Integer(string="To Read")
    read_count = fields.Integer(string="Read")
    created_count = fields.Integer(string="Created")
    updated_count = fields.Integer(string="Updated")
    skipped_count = fields.Integer(string="Skipped")
    failed_count = fields.Integer(string="Failed")
    seconds = fields.Float(digits=(16, 2))
    rate = fields.Float(string="Records/s", compute="_compute_rate", digits=(16, 1))

    @api.depends("read_count", "seconds")
    def _compute_rate(self):
        for line in self:
            line.rate = line.read_count / line.seconds if line.seconds else 0.0
