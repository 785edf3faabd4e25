import ast

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.bodies import FINISH_ARGUMENTS, check_body
from ..engine.mapping import LOG_ACCESS_FIELDS
from ..engine.planner import Edge, plan_order
from ..engine.spec import ANY_MODULE
from ..engine.yaml_io import domain_error
from .migration_field_rule import check_body_access
from .migration_plan import DUPLICATES_SELECTION, UNRESOLVED_SELECTION


class MigrationModelRule(models.Model):
    _name = "migration.model.rule"
    _inherit = ["migration.mapping.part"]
    _not_mapping_fields = frozenset({"sequence", "source_fields_json"})
    _description = "Data Migration Model Rule"
    _order = "plan_id, sequence, id"
    _rec_name = "source_model"

    plan_id = fields.Many2one("migration.plan", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(
        compute="_compute_sequence",
        store=True,
        readonly=False,
        help="Order of writing: computed from the relational fields (a model after those it "
        "points to); drag to override.",
    )
    source_model = fields.Char(required=True, help="Technical name of the model on the source")
    target_model = fields.Char(
        compute="_compute_target_model",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
        help="Model the records go into (another one than the source's when __moved__)",
    )
    module = fields.Char(
        default=ANY_MODULE,
        required=True,
        help="The domain and discriminator apply when this module is installed on the target; * = always",
    )
    domain = fields.Char(
        string="Source Domain",
        help="__query__: which source records to migrate, as an Odoo domain, e.g. [('customer_rank', '>', 0)]",
    )
    discriminator = fields.Char(
        help="__discriminator__: comma-separated target fields; a target record with equal "
        "values is updated instead of a new one created",
    )
    mode = fields.Selection(
        [("orm", "ORM"), ("sql", "SQL (bulk COPY)")],
        default="orm",
        required=True,
        help="__mode__: how new records are written. ORM: create() in batches. SQL: COPY "
        "straight into the table, then parent paths, computed fields and constraints, for "
        "plain models only (the validation says why a model is not one).",
    )
    duplicates = fields.Selection(
        selection=DUPLICATES_SELECTION,
        string="Records Migrated Before",
        help="__duplicates__: what a run does with the records of this model migrated before "
        "or matched on the target; empty: the plan's option. 'Leave them as they are' keeps "
        "the target's own configuration (its taxes, units, users...) untouched.",
    )
    unresolved = fields.Selection(
        selection=UNRESOLVED_SELECTION,
        string="Unresolved References",
        help="__unresolved__: what a reference of this model's records that cannot be resolved "
        "does; empty: the plan's option. 'Skip' leaves out, counted, the messages and "
        "attachments of records that are not migrated.",
    )
    finish_code = fields.Text(
        string="Finish",
        help="__finish__: a Python body run on each target record once the run wrote it whole "
        "(its second pass included), with `record` and `source_row`; e.g. post the entries the "
        "source had posted. A record it refuses fails, with its source id.",
    )
    field_rule_ids = fields.One2many(
        "migration.field.rule", "model_rule_id", string="Statements", copy=True
    )
    field_rule_count = fields.Integer(compute="_compute_field_rule_count")

    @api.depends("source_model")
    def _compute_target_model(self):
        for rule in self:
            if not rule.target_model:
                rule.target_model = rule.source_model

    @api.depends(
        "plan_id.model_rule_ids.target_model",
        "plan_id.model_rule_ids.field_rule_ids.statement",
        "plan_id.model_rule_ids.field_rule_ids.source_field",
    )
    def _compute_sequence(self):
        for plan in self.plan_id:
            rules = plan.model_rule_ids.sorted(lambda r: (r.sequence or 0, r.id or 0))
            # which rules write records of each target model (their own, or by a split)
            providers = {}
            for rule in rules:
                for target_model in {rule.target_model} | set(
                    rule.field_rule_ids.mapped("target_model")
                ):
                    providers.setdefault(target_model, []).append(rule)
            edges = []
            for rule in rules:
                skipped = {
                    f.source_field
                    for f in rule.field_rule_ids
                    if f.statement in ("forget", "defer")
                }
                for target_model in {rule.target_model} | set(
                    rule.field_rule_ids.mapped("target_model")
                ):
                    if target_model not in self.env:
                        continue
                    for name, field in self.env[target_model]._fields.items():
                        if (
                            field.type not in ("many2one", "many2many")
                            or not field.store
                            or field.inherited
                            or name in skipped
                            or name in LOG_ACCESS_FIELDS
                        ):
                            continue
                        for provider in providers.get(field.comodel_name, []):
                            if provider != rule:
                                edges.append(Edge(rule, name, provider, field.required))
            order = plan_order(list(rules), edges, break_cycles=True)
            for position, rule in enumerate(order.models, start=1):
                rule.sequence = position * 10
        for rule in self.filtered(lambda r: not r.plan_id):
            rule.sequence = rule.sequence or 0

    def _compute_field_rule_count(self):
        for rule in self:
            rule.field_rule_count = len(rule.field_rule_ids)

    @api.depends("source_model", "target_model")
    def _compute_display_name(self):
        for rule in self:
            if rule.target_model and rule.target_model != rule.source_model:
                rule.display_name = f"{rule.source_model} → {rule.target_model}"
            else:
                rule.display_name = rule.source_model or ""

    @api.constrains("finish_code")
    def _check_finish_code(self):
        for rule in self.filtered("finish_code"):
            where = self.env._("%s: the finish body", rule.source_model)
            error = check_body(rule.finish_code, FINISH_ARGUMENTS)
            if error:
                raise ValidationError(
                    self.env._("%(where)s does not compile: %(error)s", where=where, error=error)
                )
            check_body_access(self.env, rule.finish_code, where, FINISH_ARGUMENTS)

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self.filtered("domain"):
            try:
                value = ast.literal_eval(rule.domain)
            except (ValueError, SyntaxError) as exc:
                raise ValidationError(
                    self.env._(
                        "The domain of %(model)s is not a literal list: %(error)s",
                        model=rule.source_model,
                        error=exc,
                    )
                ) from exc
            error = domain_error(list(map(_listify, value)) if isinstance(value, list) else value)
            if error:
                raise ValidationError(
                    self.env._(
                        "The domain of %(model)s is not valid: %(error)s",
                        model=rule.source_model,
                        error=error,
                    )
                )

    def _domain_list(self):
        """The domain as a list of lists, or None when the rule has none."""
        self.ensure_one()
        if not self.domain:
            return None
        return [_listify(item) for item in ast.literal_eval(self.domain)]

    def _discriminator_list(self):
        self.ensure_one()
        return [name.strip() for name in (self.discriminator or "").split(",") if name.strip()]


def _listify(item):
    return list(item) if isinstance(item, tuple) else item
