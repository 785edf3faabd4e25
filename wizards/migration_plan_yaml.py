import base64

from odoo import api, fields, models
from odoo.exceptions import UserError

from .form_action import open_form


class MigrationPlanYaml(models.TransientModel):
    _name = "migration.plan.yaml"
    _description = "Import or Export a Plan as YAML"

    plan_id = fields.Many2one("migration.plan", help="Empty to import into a new plan")
    source_id = fields.Many2one("migration.source", help="Source of the new plan")
    yaml_file = fields.Binary(string="File", attachment=False)
    yaml_filename = fields.Char()
    yaml_text = fields.Text(string="Text")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "migration.plan" and self.env.context.get(
            "active_id"
        ):
            values.setdefault("plan_id", self.env.context["active_id"])
        return values

    def _text(self):
        if self.yaml_file:
            try:
                return base64.b64decode(self.yaml_file).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UserError(
                    self.env._("%s is not a UTF-8 text file.", self.yaml_filename or "The file")
                ) from exc
        if not (self.yaml_text or "").strip():
            raise UserError(self.env._("Upload a YAML file or paste its text."))
        return self.yaml_text

    def action_import(self):
        self.ensure_one()
        text = self._text()
        if self.plan_id:
            plan = self.plan_id.load_yaml(text)
        else:
            plan = self.env["migration.plan"].import_yaml(text, source=self.source_id or None)
        return open_form(plan)

    def action_export(self):
        self.ensure_one()
        if not self.plan_id:
            raise UserError(self.env._("Choose the plan to export."))
        text = self.plan_id.export_yaml()
        slug = "".join(c if c.isalnum() else "_" for c in self.plan_id.name.lower()).strip("_")
        self.write(
            {
                "yaml_text": text,
                "yaml_file": base64.b64encode(text.encode("utf-8")),
                "yaml_filename": f"{slug or 'plan'}.yaml",
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
