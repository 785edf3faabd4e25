from markupsafe import Markup

from odoo import api, fields, models

from .form_action import open_form

PREVIEW_ROWS = 5


class MigrationRulePreview(models.TransientModel):
    _name = "migration.rule.preview"
    _description = "Preview of a Model Rule"

    model_rule_id = fields.Many2one("migration.model.rule", required=True, ondelete="cascade")
    limit = fields.Integer(string="Rows", default=PREVIEW_ROWS)
    preview_html = fields.Html(string="Preview", readonly=True, sanitize=False)

    @api.model
    def _open_for(self, rule):
        wizard = self.create({"model_rule_id": rule.id})
        wizard.action_refresh()
        return dict(
            open_form(wizard), target="new", name=self.env._("Preview of %s", rule.source_model)
        )

    def action_refresh(self):
        self.ensure_one()
        rows = self.model_rule_id._preview(max(1, min(self.limit, 50)))
        self.preview_html = self._render(rows)
        return dict(open_form(self), target="new")

    def _render(self, rows):
        """A table per source row: the source values read, the target values a run writes."""
        if not rows:
            return Markup("<p>%s</p>") % self.env._("The source has no record for this rule.")
        parts = []
        for row in rows:
            status = {"written": "", "skipped": " — skipped", "fails": " — fails"}[row.outcome]
            parts.append(
                Markup('<h5 class="mt-3">%s #%s%s</h5>')
                % (self.model_rule_id.source_model, row.source_id, status)
            )
            if row.message:
                parts.append(Markup('<p class="text-warning">%s</p>') % row.message)
            lines = [
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (target_model, name, self._shown(target_model, name, value))
                for target_model, vals in row.targets.items()
                for name, value in sorted(vals.items())
            ]
            parts.append(
                Markup(
                    '<table class="table table-sm o_rdm_preview"><thead><tr><th>%s</th><th>%s</th>'
                    "<th>%s</th></tr></thead><tbody>%s</tbody></table>"
                )
                % (
                    self.env._("Target model"),
                    self.env._("Field"),
                    self.env._("Value written"),
                    Markup("").join(lines),
                )
            )
        return Markup("").join(parts)

    def _shown(self, target_model, name, value):
        """A target value as a person reads it: a record by its name, a set by its names."""
        field = self.env[target_model]._fields.get(name) if target_model in self.env else None
        if field is not None and field.type == "many2one" and isinstance(value, int) and value:
            record = self.env[field.comodel_name].browse(value).exists()
            return f"{record.display_name} ({value})" if record else value
        if field is not None and field.type in ("many2many", "one2many") and value:
            ids = [i for command in value for i in (command[2] if len(command) > 2 else [])]
            ids = [i for i in ids if isinstance(i, int)]
            return ", ".join(
                self.env[field.comodel_name].browse(ids).exists().mapped("display_name")
            )
        return repr(value) if not isinstance(value, str) else value
