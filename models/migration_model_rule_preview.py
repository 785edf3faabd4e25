"""What a model rule's form offers its author: the fields to pick from, on both sides, and
a preview of what the rule makes of real source rows."""

import contextlib
import dataclasses
import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.journal import Journal
from ..engine.preview import preview
from ..engine.run_context import RunContext
from ..engine.transport import RemoteError


class _Rollback(Exception):
    """Leaves a savepoint, undoing whatever a body did while previewing."""


class MigrationModelRule(models.Model):
    _inherit = "migration.model.rule"

    source_fields_json = fields.Text(
        readonly=True,
        help="The source model's fields as the last validation read them: "
        "[[name, label], ...], offered when typing a statement",
    )
    target_fields_json = fields.Text(compute="_compute_target_fields_json")

    @api.depends("target_model")
    def _compute_target_fields_json(self):
        for rule in self:
            rule.target_fields_json = json.dumps(field_choices(rule._target_description()))

    def _target_description(self):
        if not self.target_model or self.target_model not in self.env:
            return {}
        return self.env[self.target_model].fields_get(attributes=["type", "string", "relation"])

    def action_preview(self):
        self.ensure_one()
        return self.env["migration.rule.preview"]._open_for(self)

    def _remember_source_fields(self, source_schema):
        """Keep the source fields a validation read, for the field picker."""
        for rule in self:
            described = source_schema.get(rule.source_model)
            if described is not None:
                choices = json.dumps(field_choices(described))
                if rule.source_fields_json != choices:
                    rule.source_fields_json = choices

    def _preview(self, limit=5):
        """``[PreviewRow]`` of the rule's first ``limit`` source records; nothing is written."""
        self.ensure_one()
        plan = self.plan_id
        spec = plan._to_spec()
        # the schemas and the wildcards of this rule only: the rest of the plan is not read
        only_this = [rule for rule in spec.models if rule.source_model == self.source_model]
        facts = plan._facts(dataclasses.replace(spec, models=only_this))
        ctx = RunContext(
            self.env,
            plan.source_id._remote_call(lambda t: t),
            spec,
            facts.source_schema,
            Journal(),
            source_key=plan.source_id.id,
            modules=plan._installed_modules(),
            left_out=facts.left_out,
        )
        self._remember_source_fields(facts.source_schema)
        rows = []
        # the rows are kept; what making them wrote goes with the savepoint
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            try:
                rows = preview(ctx, self.source_model, limit)
            except RemoteError as exc:
                raise UserError(plan.source_id._remote_failure_message(exc)) from exc
            except ValueError as exc:  # a statement the target cannot take
                raise UserError(
                    self.env._(
                        "%(model)s cannot be previewed: %(error)s",
                        model=self.source_model,
                        error=exc,
                    )
                ) from exc
            self.env.flush_all()
            raise _Rollback()
        return rows


def field_choices(described):
    """``[[name, "Label (type)"], ...]`` of a ``fields_get`` answer, by name."""
    return [
        [name, f"{desc.get('string') or name} ({desc.get('type')}"
         + (f" → {desc['relation']}" if desc.get("relation") else "") + ")"]
        for name, desc in sorted(described.items())
    ]  # fmt: skip


class MigrationFieldRule(models.Model):
    _inherit = "migration.field.rule"

    source_fields_json = fields.Text(related="model_rule_id.source_fields_json")
    target_fields_json = fields.Text(compute="_compute_target_fields_json")

    @api.depends("target_model")
    def _compute_target_fields_json(self):
        for statement in self:
            model = statement.target_model
            described = (
                self.env[model].fields_get(attributes=["type", "string", "relation"])
                if model and model in self.env
                else {}
            )
            statement.target_fields_json = json.dumps(field_choices(described))
