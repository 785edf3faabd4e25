from markupsafe import Markup

from odoo import api, fields, models

from ..engine.journal import OUTCOMES, PHASES

PHASE_LABELS = {
    "read": "Reading (waiting for the source)",
    "resolve": "Resolving references",
    "transform": "Transforming",
    "write": "Writing (ORM)",
    "id_map": "Id map",
    "second_pass": "Second pass",
    "checkpoint": "Checkpoints and commits",
}
PHASE_COLORS = {
    "read": "#5b8def",
    "resolve": "#9c6ade",
    "transform": "#e2a03f",
    "write": "#3aa876",
    "id_map": "#d9534f",
    "second_pass": "#8a6d3b",
    "checkpoint": "#777777",
}


class MigrationRunModel(models.Model):
    """The counters of one model in one run, its incremental start point and its ranges.

    Counters add up: read = created + updated + unchanged + skipped + failed; the rows the
    source could not send are counted apart (unreadable).
    """

    _name = "migration.run.model"
    _inherit = ["migration.run.tally"]
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
    balanced = fields.Boolean(
        compute="_compute_balanced",
        help="read = created + updated + unchanged + skipped + failed",
    )
    phase_bar = fields.Html(
        string="Where the Time Goes", compute="_compute_phase_bar", sanitize=False
    )
    rate = fields.Float(string="Records/s", compute="_compute_rate", digits=(16, 1))
    time_left = fields.Char(compute="_compute_rate", help="At the rate so far")
    range_ids = fields.One2many(
        "migration.run.range",
        compute="_compute_range_ids",
        string="Ranges",
    )

    @api.depends("read_count", "seconds")
    def _compute_rate(self):
        for line in self:
            line.rate = line.read_count / line.seconds if line.seconds else 0.0
            left = max(0, line.source_count - line.read_count)
            line.time_left = _duration(left / line.rate) if line.rate and left else False

    @api.depends("seconds", *(f"{phase}_seconds" for phase in PHASES))
    def _compute_phase_bar(self):
        """A bar per line: the share of each phase in the model's time."""
        for line in self:
            total = max(line.seconds, sum(line[f"{phase}_seconds"] for phase in PHASES))
            if not total:
                line.phase_bar = False
                continue
            parts = [
                Markup(
                    '<div title="%s: %.2f s" style="width:%.1f%%;background:%s;height:12px"></div>'
                )
                % (PHASE_LABELS[phase], line[f"{phase}_seconds"],
                   100 * line[f"{phase}_seconds"] / total, PHASE_COLORS[phase])
                for phase in PHASES
                if line[f"{phase}_seconds"]
            ]  # fmt: skip
            line.phase_bar = Markup(
                '<div class="d-flex o_rdm_phase_bar" style="min-width:12rem">%s</div>'
            ) % Markup("").join(parts)

    def phase_seconds(self):
        """``{phase: seconds}`` of this line."""
        self.ensure_one()
        return {phase: self[f"{phase}_seconds"] for phase in PHASES}

    @api.depends(*(f"{name}_count" for name in ("read", *OUTCOMES)))
    def _compute_balanced(self):
        for line in self:
            line.balanced = line.read_count == sum(line[f"{name}_count"] for name in OUTCOMES)

    def _compute_range_ids(self):
        for line in self:
            line.range_ids = line.run_id.range_ids.filtered(
                lambda r, model=line.source_model: r.source_model == model
            )


def _duration(seconds):
    """A duration as people read it: 45 s, 3 min 20 s, 1 h 05 min."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
