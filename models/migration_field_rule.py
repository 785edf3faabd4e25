from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.bodies import ROW_ARGUMENTS, SYSTEM_NAMES, body_names, check_body
from ..engine.spec import ANY_MODULE, NO_SOURCE, STATEMENTS_WITH_ARGUMENT, WILDCARD


class MigrationFieldRule(models.Model):
    _name = "migration.field.rule"
    _inherit = ["migration.mapping.part"]
    _description = "Data Migration Statement"
    _order = "model_rule_id, sequence, id"
    _rec_name = "source_field"

    model_rule_id = fields.Many2one(
        "migration.model.rule", required=True, ondelete="cascade", index=True
    )
    # deleted with its plan as with its model rule: PostgreSQL refuses to empty the plan of a
    # statement whose model rule the same DELETE removes
    plan_id = fields.Many2one(
        related="model_rule_id.plan_id", store=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    module = fields.Char(
        default=ANY_MODULE,
        required=True,
        help="Applies when this module is installed on the target; * = always",
    )
    source_model = fields.Char(related="model_rule_id.source_model")
    source_field = fields.Char(
        required=True,
        help="A field of the source model, * for every field on both sides, _ for none",
    )
    target_model = fields.Char(
        compute="_compute_target_model", store=True, readonly=False, required=True, precompute=True
    )
    target_field = fields.Char(help="Empty for a wildcard")
    statement = fields.Selection(
        selection=[
            ("copy", "Copy"),
            ("forget", "Forget"),
            ("defer", "Defer"),
            ("fk", "Id of a model (__fk__)"),
            ("ref", "Id of the model named in a field (__ref__)"),
            ("moved", "Moved to another model"),
            ("python", "Python"),
        ],
        required=True,
        default="copy",
    )
    argument = fields.Char(
        help="The source model of __fk__, the field holding the model name of __ref__"
    )
    python_code = fields.Text(
        string="Python Body",
        help="A function body returning the value; names: source_row, target_rows, newid(), ref(), "
        "sql(), source(), env, and the mapper helpers.",
    )

    @api.depends("model_rule_id.target_model")
    def _compute_target_model(self):
        for rule in self:
            if not rule.target_model:
                rule.target_model = rule.model_rule_id.target_model

    @api.depends("source_field", "target_model", "target_field", "statement")
    def _compute_display_name(self):
        for rule in self:
            target = f"{rule.target_model}.{rule.target_field or WILDCARD}"
            rule.display_name = f"{rule.source_field} → {target} ({rule.statement})"

    @api.constrains("statement", "argument", "python_code", "source_field", "target_field")
    def _check_statement(self):
        for rule in self:
            where = f"{rule.source_model}.{rule.source_field}"
            if "." in (rule.source_field or "") or "." in (rule.target_field or ""):
                raise ValidationError(self.env._("%s: a field name cannot contain a dot.", where))
            if rule.statement in STATEMENTS_WITH_ARGUMENT and not (rule.argument or "").strip():
                raise ValidationError(
                    self.env._(
                        "%(where)s: __%(statement)s__ needs its argument.",
                        where=where,
                        statement=rule.statement,
                    )
                )
            if rule.statement == "python":
                error = (
                    check_body(rule.python_code or "")
                    if (rule.python_code or "").strip()
                    else "empty body"
                )
                if error:
                    raise ValidationError(
                        self.env._(
                            "%(where)s: the Python body does not compile: %(error)s",
                            where=where,
                            error=error,
                        )
                    )
            check_body_access(rule.env, rule.python_code or "", where)
            if rule.source_field == WILDCARD and rule.target_field:
                raise ValidationError(
                    self.env._(
                        "%s: a wildcard feeds the same field names; leave the target field empty.",
                        where,
                    )
                )
            if (
                rule.source_field != WILDCARD
                and not rule.target_field
                and rule.statement != "forget"
            ):
                raise ValidationError(
                    self.env._("%s: which target field does this statement feed?", where)
                )
            if rule.source_field == NO_SOURCE and rule.statement in ("copy", "forget", "defer"):
                raise ValidationError(
                    self.env._("%s: '_' has no source value; give a Python body.", where)
                )


def check_body_access(env, body, where, arguments=ROW_ARGUMENTS):
    """Only Settings administrators write a body that reaches past access rights."""
    used = sorted(body_names(body, arguments) & SYSTEM_NAMES)
    if used and not env.is_system():
        raise ValidationError(
            env._(
                "%(where)s: %(name)s is for Settings administrators only; ask one to write "
                "this body.",
                where=where,
                name=used[0],
            )
        )
