from odoo import api, fields, models

from ..engine.journal import OUTCOMES


class MigrationRunModel(models.Model):
    """The counters of one model in one run, its incremental start point and its ranges.

    Counters add up: read = created + updated + unchanged + skipped + failed; the rows the
    source could not send are counted apart (unreadable).
    """

    _name = "migration.run.model"
    _description = "Data Migration Run Model"
    _order = "run_id, sequence, id"
    _rec_name = "source_model"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    source_model = fields.Char(required=True)
    target_model = fields.Char()
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("running", "Running"),
            ("second_pass", "Second Pass"),
            ("done", "Done"),
            ("stopped", "Stopped"),
        ],
        default="pending",
        required=True,
        help="Stopped: the run ended (failed, cancelled) before this model was done",
    )
    since = fields.Datetime(
        readonly=True, help="Incremental: source records written since then (the source's clock)"
    )
    next_since = fields.Datetime(
        string="Source Clock",
        readonly=True,
        help="The source's time when this model's pass started: where the next incremental "
        "run starts, once this line is done with no failure",
    )
    source_count = fields.Integer(string="To Read", default=0)
    read_count = fields.Integer(string="Read", default=0)
    created_count = fields.Integer(string="Created", default=0)
    updated_count = fields.Integer(string="Updated", default=0)
    unchanged_count = fields.Integer(string="Unchanged", default=0)
    skipped_count = fields.Integer(string="Skipped", default=0)
    failed_count = fields.Integer(string="Failed", default=0)
    unreadable_count = fields.Integer(
        string="Unreadable", default=0, help="Rows the source could not send (not counted as read)"
    )
    balanced = fields.Boolean(
        compute="_compute_balanced",
        help="read = created + updated + unchanged + skipped + failed",
    )
    seconds = fields.Float(digits=(16, 2), default=0.0)
    rate = fields.Float(string="Records/s", compute="_compute_rate", digits=(16, 1))
    range_ids = fields.One2many(
        "migration.run.range",
        compute="_compute_range_ids",
        string="Ranges",
    )

    @api.depends("read_count", "seconds")
    def _compute_rate(self):
        for line in self:
            line.rate = line.read_count / line.seconds if line.seconds else 0.0

    @api.depends(*(f"{name}_count" for name in ("read", *OUTCOMES)))
    def _compute_balanced(self):
        for line in self:
            line.balanced = line.read_count == sum(line[f"{name}_count"] for name in OUTCOMES)

    def _compute_range_ids(self):
        for line in self:
            line.range_ids = line.run_id.range_ids.filtered(
                lambda r, model=line.source_model: r.source_model == model
            )
