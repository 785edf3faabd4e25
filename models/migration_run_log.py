from odoo import api, fields, models

from .migration_id_map import BigInteger


class MigrationRunLog(models.Model):
    """A line of a run's log: a milestone, or a record that could not be migrated."""

    _name = "migration.run.log"
    _description = "Data Migration Run Log"
    _order = "run_id, id"
    _rec_name = "message"

    run_id = fields.Many2one("migration.run", required=True, ondelete="cascade", index=True)
    level = fields.Selection(
        selection=[("info", "Info"), ("warning", "Warning"), ("error", "Error")],
        required=True,
        default="info",
    )
    source_model = fields.Char()
    source_res_id = BigInteger(string="Source ID")
    target_model = fields.Char()
    statement = fields.Char(help="The statement or step that failed")
    message = fields.Text(required=True)
    values = fields.Text(help="The values the target refused")
    retried = fields.Boolean(help="Retried since: see the retry's own log lines")
    source_record = fields.Char(
        compute="_compute_records",
        help="The source id, when the line is about one",
    )
    target_ref = fields.Reference(
        selection="_selection_target_model", string="Target Record", compute="_compute_records"
    )

    @api.model
    def _selection_target_model(self):
        return self.env["migration.id.map"]._selection_target_model()

    def _compute_records(self):
        for log in self:
            log.source_record = str(log.source_res_id) if log.source_res_id else False
            log.target_ref = False
            if not log.source_res_id:
                continue
            entry = self.env["migration.id.map"].search(
                [
                    ("source_id", "=", log.run_id.source_id.id),
                    ("source_model", "=", log.source_model),
                    ("source_res_id", "=", log.source_res_id),
                ],
                limit=1,
            )
            log.target_ref = entry.target_ref
