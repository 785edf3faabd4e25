import logging
from collections import Counter, namedtuple

from markupsafe import Markup
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import api, fields, models, release
from odoo.exceptions import UserError, ValidationError

from ..engine.apps import app_models
from ..engine.bodies import check_body
from ..engine.generator import Schemas, generate_plan
from ..engine.plan_picture import plan_svg
from ..engine.resolver import IdMap, Resolver
from ..engine.source_probe import SourceProbe
from ..engine.spec import DEFAULT_OPTIONS, FieldRule, ModelRule, PlanSpec
from ..engine.sql_writer import sql_mode_refusal
from ..engine.transport import RemoteError
from ..engine.validation import plan_graph, validate_plan
from ..engine.versions import VersionChanges, load_changes
from ..engine.wildcards import wildcard_left_out
from ..engine.yaml_io import Catalog, dump_plan, parse_plan
from .migration_field_rule import check_body_access

_logger = logging.getLogger(__name__)

PlanFacts = namedtuple("PlanFacts", "source_schema target_schema xmlid_models probe left_out")
RUN_LOCK_CLASS = 0x52444D  # "RDM": the first key of the plans' advisory locks
SCHEMA_ATTRIBUTES = ["type", "relation", "required", "store", "selection", "string"]


# The options a model rule can also set for its own records (empty there: the plan's).
UNRESOLVED_SELECTION = [
    ("error", "Fail the record"),
    ("null", "Leave the field empty"),
    ("skip", "Skip the record"),
]
DUPLICATES_SELECTION = [
    ("update", "Update them"),
    ("skip", "Leave them as they are"),
    ("update_empty", "Fill their empty fields only"),
]

# What a plan maps: changing any of it calls for a new validation.
MAPPING_KEYS = frozenset(
    {"batch_size", "on_error", "unresolved", "duplicates", "system_records", "active_test", "pre_hook",
     "post_hook", "end_hook", "model_rule_ids", "source_id"}
)  # fmt: skip


class MigrationPlan(models.Model):
    _name = "migration.plan"
    _description = "Data Migration Plan"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, tracking=True)
    source_id = fields.Many2one("migration.source", ondelete="restrict", tracking=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
        tracking=True,
        help="Who sees the plan and its runs, and the company its runs write as. "
        "Empty: shared by every company.",
    )
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("validated", "Validated"),
            ("ran", "Ran"),
            ("clean", "Last Run Clean"),
        ],
        default="draft",
        required=True,
        tracking=True,
        help="Validated: the last validation against both schemas found no error. Ran: its "
        "last run ended with failed records, or failed. Last Run Clean: its last run read "
        "every record and wrote or skipped each.",
    )
    active = fields.Boolean(default=True)
    # options (MAPPING.md)
    batch_size = fields.Integer(default=DEFAULT_OPTIONS["batch_size"], required=True)
    on_error = fields.Selection(
        selection=[("log", "Log the record and go on"), ("stop", "Stop the run")],
        default=DEFAULT_OPTIONS["on_error"],
        required=True,
    )
    unresolved = fields.Selection(
        selection=UNRESOLVED_SELECTION,
        string="Unresolved References",
        default=DEFAULT_OPTIONS["unresolved"],
        required=True,
    )
    duplicates = fields.Selection(
        selection=DUPLICATES_SELECTION,
        string="Records Migrated Before",
        default=DEFAULT_OPTIONS["duplicates"],
        required=True,
        help="What a run does with a source record an earlier run (or a discriminator) already "
        "matched to a target record.",
    )
    system_records = fields.Selection(
        selection=[("keep", "Match, never overwrite"), ("update", "Overwrite like the others")],
        string="Target's System Records",
        default=DEFAULT_OPTIONS["system_records"],
        required=True,
        help="The target's own administrator, superuser and public user (and their partners): "
        "a source record matched to one of them keeps the target's values unless told here.",
    )
    active_test = fields.Boolean(
        string="Active Source Records Only",
        default=DEFAULT_OPTIONS["active_test"],
        help="Off: archived source records are migrated too.",
    )
    picture = fields.Html(
        readonly=True,
        sanitize=False,  # an SVG made here from escaped names
        help="The models in the order a run writes them, their relations, and the fields "
        "the second pass writes: drawn by the last validation",
    )
    # hooks
    pre_hook = fields.Text(help="Python run on the target before any model")
    post_hook = fields.Text(help="Python run after the deferred fields")
    end_hook = fields.Text(help="Python run after the recomputations")
    model_rule_ids = fields.One2many("migration.model.rule", "plan_id", string="Models", copy=True)
    finding_ids = fields.One2many("migration.plan.finding", "plan_id", string="Findings")
    error_count = fields.Integer(compute="_compute_finding_counts")
    warning_count = fields.Integer(compute="_compute_finding_counts")
    run_ids = fields.One2many("migration.run", "plan_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")
    scheduled = fields.Boolean(
        help="Run incrementally by the scheduled action 'Data Migration: scheduled sync', at its interval",
        tracking=True,
    )

    _sql_constraints = [
        ("batch_size_positive", "CHECK(batch_size > 0)", "The batch size must be positive."),
    ]

    def _compute_run_count(self):
        counts = dict(
            self.env["migration.run"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.run_count = counts.get(plan, 0)

    @api.depends("finding_ids.severity")
    def _compute_finding_counts(self):
        for plan in self:
            severities = plan.finding_ids.mapped("severity")
            plan.error_count = severities.count("error")
            plan.warning_count = severities.count("warning")

    # -- records <-> spec -----------------------------------------------------------------------

    @api.constrains("pre_hook", "post_hook", "end_hook")
    def _check_hooks(self):
        for plan in self:
            for name in ("pre", "post", "end"):
                body = plan[f"{name}_hook"] or ""
                where = self.env._("%(plan)s: the %(hook)s hook", plan=plan.name, hook=name)
                error = check_body(body, arguments=())
                if error:
                    raise ValidationError(
                        self.env._(
                            "%(where)s does not compile: %(error)s", where=where, error=error
                        )
                    )
                check_body_access(self.env, body, where, arguments=())

    def _to_spec(self):
        self.ensure_one()
        spec = PlanSpec(
            name=self.name,
            options={
                "batch_size": self.batch_size,
                "on_error": self.on_error,
                "unresolved": self.unresolved,
                "active_test": self.active_test,
                "duplicates": self.duplicates,
                "system_records": self.system_records,
            },
            hooks={
                name: self[f"{name}_hook"]
                for name in ("pre", "post", "end")
                if self[f"{name}_hook"]
            },
        )
        for rule in self.model_rule_ids.sorted(lambda r: (r.sequence, r.id)):
            spec.models.append(
                ModelRule(
                    source_model=rule.source_model,
                    target_model=rule.target_model,
                    module=rule.module,
                    domain=rule._domain_list(),
                    discriminator=rule._discriminator_list(),
                    mode=rule.mode,
                    duplicates=rule.duplicates or None,
                    unresolved=rule.unresolved or None,
                    finish=rule.finish_code or "",
                    sequence=rule.sequence,
                    fields=[
                        FieldRule(
                            source_field=f.source_field,
                            target_model=f.target_model,
                            target_field=f.target_field or None,
                            statement=f.statement,
                            argument=f.argument or "",
                            body=f.python_code or "",
                            module=f.module,
                        )
                        for f in rule.field_rule_ids.sorted(lambda f: (f.sequence, f.id))
                    ],
                )
            )
        return spec

    @api.model
    def _values_from_spec(self, spec):
        """Values of a plan holding ``spec``'s options, hooks and rules (as commands)."""
        values = {
            "batch_size": spec.options["batch_size"],
            "on_error": spec.options["on_error"],
            "unresolved": spec.options["unresolved"],
            "active_test": spec.options["active_test"],
            "duplicates": spec.options["duplicates"],
            "system_records": spec.options["system_records"],
            "state": "draft",
            "model_rule_ids": [fields.Command.clear()],
        }
        for name in ("pre", "post", "end"):
            values[f"{name}_hook"] = spec.hooks.get(name) or False
        for rule in spec.models:
            values["model_rule_ids"].append(
                fields.Command.create(
                    {
                        "source_model": rule.source_model,
                        "target_model": rule.target_model,
                        "module": rule.module,
                        "domain": repr(rule.domain) if rule.domain is not None else False,
                        "discriminator": ", ".join(rule.discriminator) or False,
                        "mode": rule.mode,
                        "duplicates": rule.duplicates or False,
                        "unresolved": rule.unresolved or False,
                        "finish_code": rule.finish or False,
                        **({"sequence": rule.sequence} if rule.sequence is not None else {}),
                        "field_rule_ids": [
                            fields.Command.create(
                                {
                                    "sequence": position,
                                    "module": f.module,
                                    "source_field": f.source_field,
                                    "target_model": f.target_model,
                                    "target_field": f.target_field or False,
                                    "statement": f.statement,
                                    "argument": f.argument or False,
                                    "python_code": f.body or False,
                                }
                            )
                            for position, f in enumerate(rule.fields, start=1)
                        ],
                    }
                )
            )
        return values

    # -- YAML -----------------------------------------------------------------------------------

    @api.model
    def _target_catalog(self):
        registry = self.env.registry
        tables = {
            model._table: name
            for name, model in registry.items()
            if not model._abstract and model._table
        }
        modules = self.env["ir.module.module"].sudo().search_fetch([], ["name"]).mapped("name")
        fields_ = {name: set(model._fields) for name, model in registry.items()}
        return Catalog(
            models=registry.models.keys(), tables=tables, modules=modules, fields=fields_
        )

    @api.model
    def _parse_yaml(self, text):
        spec, problems = parse_plan(text, self._target_catalog())
        if problems:
            report = "\n".join(f"- {problem}" for problem in problems)
            raise UserError(
                self.env._(
                    "The mapping file has %(count)s problem(s):\n%(report)s",
                    count=len(problems),
                    report=report,
                )
            )
        return spec

    @api.model
    def import_yaml(self, text, source=None):
        """A new plan from a mapping file (MAPPING.md); nothing is created if it has a problem."""
        spec = self._parse_yaml(text)
        values = self._values_from_spec(spec)
        values["name"] = spec.name or self.env._("Imported plan")
        if source:
            values["source_id"] = source.id
        return self.create(values)

    def load_yaml(self, text):
        """Replace this plan's options, hooks and rules by those of a mapping file."""
        self.ensure_one()
        spec = self._parse_yaml(text)
        values = self._values_from_spec(spec)
        self.finding_ids.unlink()
        self.write(values)
        return self

    def export_yaml(self):
        """The plan as a mapping file. The source's credentials are never part of it."""
        self.ensure_one()
        return dump_plan(self._to_spec())

    # -- schemas ---------------------------------------------------------------------------------

    @api.model
    def _target_schema(self, model_names):
        schema = {}
        for name in model_names:
            if name not in self.env:
                continue
            model = self.env[name].sudo()
            descriptions = model.fields_get(attributes=SCHEMA_ATTRIBUTES)
            # fields_get also describes virtual fields (res.users' group checkboxes): not data
            descriptions = {
                name: desc for name, desc in descriptions.items() if name in model._fields
            }
            for field_name, description in descriptions.items():
                field = model._fields[field_name]
                # computed and not writable (a computed field with readonly=False takes values)
                description["compute"] = bool(field.compute) and field.readonly
                description["inherited"] = bool(field.inherited)
                description["has_default"] = field.default is not None
                if field.type == "many2many":
                    description["relation_table"] = field.relation
                if field.type == "many2one_reference":
                    description["model_field"] = field.model_field
            schema[name] = descriptions
        return schema

    @api.model
    def _target_xmlid_models(self, model_names):
        if not model_names:
            return set()
        self.env.cr.execute(
            "SELECT DISTINCT model FROM ir_model_data WHERE model IN %s", [tuple(model_names)]
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _schemas(self, spec):
        """``(source schema, target schema, models with external ids on both sides)``."""
        self.ensure_one()
        if not self.source_id:
            raise UserError(
                self.env._("The plan %s has no source to read the schema from.", self.name)
            )
        source_models = [rule.source_model for rule in spec.models]
        source_schema = self.source_id._fetch_schema(source_models, SCHEMA_ATTRIBUTES)
        relations = {
            desc["relation"]
            for fields_ in source_schema.values()
            for desc in fields_.values()
            if desc.get("relation")
        }
        target_models = {rule.target_model for rule in spec.models} | {
            f.target_model for rule in spec.models for f in rule.fields
        }
        target_schema = self._target_schema(target_models | relations)
        xmlid_models = self.source_id._xmlid_models(sorted(relations)) & self._target_xmlid_models(
            sorted(relations)
        )
        return source_schema, target_schema, xmlid_models

    def _target_xmlids(self, target_model, names):
        """The external ids among ``names`` ([(module, name)]) the target has for records of
        ``target_model``."""
        if not names:
            return set()
        self.env.cr.execute(
            "SELECT module, name FROM ir_model_data WHERE model = %s"
            " AND (module, name) IN (SELECT * FROM unnest(%s::varchar[], %s::varchar[]))",
            [target_model, [m for m, _n in names], [n for _m, n in names]],
        )
        return set(self.env.cr.fetchall())

    def _facts(self, spec, transport=None):
        """What the checks of ``spec`` need: both schemas, the models with external ids on
        both sides, the source's data (a ``SourceProbe``), and what its wildcards leave out."""
        self.ensure_one()
        source_schema, target_schema, xmlid_models = self._schemas(spec)
        if transport is None:
            transport = self.source_id._remote_call(lambda t: t)
        probe = SourceProbe(transport, self._target_xmlids, spec.options["active_test"])
        try:
            left_out = wildcard_left_out(spec, source_schema, target_schema, probe, xmlid_models)
        except RemoteError as exc:
            raise UserError(self.source_id._remote_failure_message(exc)) from exc
        return PlanFacts(source_schema, target_schema, xmlid_models, probe, left_out)

    def _problems(self, spec, facts):
        try:
            return validate_plan(
                spec,
                facts.source_schema,
                facts.target_schema,
                facts.xmlid_models,
                self._installed_modules(),
                sql_refusals=self._sql_refusals(spec),
                probe=facts.probe,
                left_out=facts.left_out,
            )
        except RemoteError as exc:
            raise UserError(self.source_id._remote_failure_message(exc)) from exc

    def _sql_refusals(self, spec):
        """{target model: why sql mode is unsafe for it} of the rules in sql mode."""
        return {
            rule.target_model: sql_mode_refusal(self.env[rule.target_model])
            for rule in spec.models
            if rule.mode == "sql" and rule.target_model in self.env
        }

    # -- validation -------------------------------------------------------------------------------

    def _installed_modules(self):
        installed = (
            self.env["ir.module.module"]
            .sudo()
            .search_fetch([("state", "=", "installed")], ["name"])
        )
        return installed.mapped("name")

    def validate(self):
        """Check the plan against both schemas; the findings are also kept on the plan.

        Returns a list of dicts with ``severity``, ``model``, ``field`` and ``message``.
        """
        self.ensure_one()
        spec = self._to_spec()
        facts = self._facts(spec)
        problems = self._problems(spec, facts)
        self._store_findings(problems, origin="validation")
        self.model_rule_ids._remember_source_fields(facts.source_schema)
        # the rules show the order a run writes them in, and the picture draws it
        order, edges, deferred = plan_graph(
            spec,
            facts.source_schema,
            facts.target_schema,
            self._installed_modules(),
            facts.left_out,
        )
        self.picture = Markup(plan_svg(order, edges, deferred))
        for rule in self.model_rule_ids:
            if rule.source_model in order:
                rule.sequence = (order.index(rule.source_model) + 1) * 10
        has_error = any(problem.severity == "error" for problem in problems)
        self.state = "draft" if has_error else "validated"
        return [
            {"severity": p.severity, "model": p.model, "field": p.field, "message": p.message}
            for p in problems
        ]

    def _store_findings(self, problems, origin):
        self.finding_ids.filtered(lambda f: f.origin == origin).unlink()
        self.env["migration.plan.finding"].create(
            [
                {
                    "plan_id": self.id,
                    "origin": origin,
                    "severity": problem.severity,
                    "model": problem.model,
                    "field": problem.field,
                    "message": problem.message,
                }
                for problem in problems
            ]
        )

    def write(self, vals):
        if not MAPPING_KEYS.isdisjoint(vals) and "state" not in vals:
            vals = dict(vals, state="draft")  # changed since its validation
        return super().write(vals)

    def unlink(self):
        # their runs go with them (ondelete cascade), in SQL: their id map entries stay
        runs = self.env["migration.run"].sudo().search([("plan_id", "in", self.ids)])
        self.env["migration.id.map"]._forget_runs(runs.ids)
        return super().unlink()

    def _mapping_changed(self):
        """A plan whose mapping changed is a draft until validated again."""
        self.filtered(lambda plan: plan.state != "draft").write({"state": "draft"})

    def action_validate(self):
        self.ensure_one()
        problems = self.validate()
        counts = Counter(problem["severity"] for problem in problems)
        if counts["error"]:
            message = self.env._(
                "%(errors)s error(s) to fix, %(warnings)s warning(s): see the Validation tab.",
                errors=counts["error"],
                warnings=counts["warning"],
            )
        else:
            message = self.env._(
                "No error, %(warnings)s warning(s), %(infos)s note(s): the plan can run.",
                warnings=counts["warning"],
                infos=counts["info"],
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Validation of %s", self.name),
                "message": message,
                "type": "danger" if counts["error"] else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _check_runnable(self):
        """A run from the screens starts only from a valid plan: validated now when it
        changed since, refused with its first errors otherwise."""
        self.ensure_one()
        if not self.source_id:
            raise UserError(self.env._("The plan %s has no source.", self.name))
        if self.state != "draft":
            return
        errors = [p for p in self.validate() if p["severity"] == "error"]
        if errors:
            first = "\n".join(
                f"- {p['model']}{'.' + p['field'] if p['field'] else ''}: {p['message']}"
                for p in errors[:3]
            )
            raise UserError(
                self.env._(
                    "The plan %(plan)s has %(count)s error(s) to fix before a run (its "
                    "Validation tab lists them):\n%(first)s",
                    plan=self.name,
                    count=len(errors),
                    first=first,
                )
            )

    # -- runs -------------------------------------------------------------------------------------

    def _lock_for_run(self):
        """A plan never runs twice at once: a PostgreSQL session lock, held while it runs.

        The lock dies with the process holding it, so a run left ``running`` by a process
        that died is recognised as interrupted, and can be resumed.
        """
        self.ensure_one()
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_LOCK_CLASS, self.id])
        if not self.env.cr.fetchone()[0]:
            running = self.run_ids.filtered(lambda r: r.state == "running")[:1]
            raise UserError(
                self.env._(
                    "The plan %(plan)s is already running (run %(run)s): wait for it to end, or cancel it.",
                    plan=self.name,
                    run=running.id or "?",
                )
            )
        # the lock is ours: a run shown as running is not running (a background run waiting
        # for its next slice is resumed, not failed)
        interrupted = self.run_ids.filtered(lambda r: r.state == "running" and not r.queued)
        if interrupted:
            interrupted.write(
                {
                    "state": "failed",
                    "error": self.env._("Interrupted: the process running it stopped. Resume it."),
                }
            )

    def _run_lock_free(self):
        """No process holds this plan's run lock: a run it shows as running is interrupted.

        Advisory locks are the cluster's: only those taken in this database count (a copy of
        it on the same server has plans with the same ids)."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s AND objsubid = 2)",
            [RUN_LOCK_CLASS, self.id],
        )
        return self.env.cr.fetchone()[0]

    def _run_to_resume(self):
        """The last run that stopped before its end: failed, cancelled, or interrupted."""
        self.ensure_one()
        run = self.run_ids.filtered(
            lambda r: not r.dry_run and (r.state in ("failed", "cancelled") or r.interrupted)
        ).sorted("id", reverse=True)[:1]
        if not run:
            raise UserError(
                self.env._(
                    "The plan %s has no failed, cancelled or interrupted run to resume.", self.name
                )
            )
        return run

    def _unlock_for_run(self):
        """Release the run lock, even after a failure left the transaction aborted: a
        session lock outlives rollbacks, and a pooled connection would keep it for good."""
        cr = self.env.cr
        if cr._cnx.info.transaction_status == TRANSACTION_STATUS_INERROR:
            cr.rollback()
        cr.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_LOCK_CLASS, self.id])

    def _new_run(self, dry_run=False, models=None, incremental=False):
        Run = self.env["migration.run"]
        unknown = set(models or ()) - set(self.model_rule_ids.mapped("source_model"))
        if unknown:
            raise UserError(
                self.env._(
                    "The plan %(plan)s has no model %(unknown)s; its models: %(known)s",
                    plan=self.name,
                    unknown=", ".join(sorted(unknown)),
                    known=", ".join(self.model_rule_ids.mapped("source_model")),
                )
            )
        return Run.create(
            {
                "plan_id": self.id,
                "source_id": self.source_id.id,
                "dry_run": dry_run,
                "incremental": incremental,
                "model_names": ",".join(models) if models else False,
            }
        )

    def _incremental_starts(self):
        """``{source model: start}``: where an incremental run of each model starts, the
        source's clock when its last clean pass started. A pass is clean when its model is
        done with no record failed in a run that ended done; the runs of other models, or
        of other subsets, do not move it."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT line.source_model, MAX(line.next_since) FROM migration_run_model line"
            " JOIN migration_run run ON run.id = line.run_id"
            " WHERE run.plan_id = %s AND run.state = 'done' AND NOT COALESCE(run.dry_run, FALSE)"
            " AND line.state = 'done' AND COALESCE(line.failed_count, 0) = 0"
            " AND COALESCE(line.unreadable_count, 0) = 0 AND line.next_since IS NOT NULL"
            " GROUP BY line.source_model",
            [self.id],
        )
        return dict(self.env.cr.fetchall())

    def _queue_run(self, dry_run=False, models=None, incremental=False):
        """A run for the scheduled action to do in the background, triggered now."""
        self.ensure_one()
        run = self._new_run(dry_run=dry_run, models=models, incremental=incremental)
        run.write({"queued": True, "background": True})
        self.env.ref("remote_data_migration.ir_cron_migration_run_queued")._trigger()
        return run

    @api.model
    def _cron_sync_scheduled(self):
        """The scheduled sync: every plan flagged as scheduled, incrementally."""
        for plan in self.search([("scheduled", "=", True), ("source_id", "!=", False)]):
            try:
                plan.run(incremental=True)
            except UserError as exc:
                _logger.info("scheduled plan %s not run: %s", plan.name, exc)

    def action_view_runs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Runs of %s", self.name),
            "res_model": "migration.run",
            "view_mode": "list,form",
            "domain": [("plan_id", "=", self.id)],
        }

    def run(self, dry_run=False, models=None, resume=False, incremental=False):
        """Run the plan now; the ``migration.run`` record says how it went.

        ``models``: a subset of source models; ``resume``: continue the last failed or
        cancelled run from its checkpoints; ``incremental``: only the source records written
        since the start of the last clean run.
        """
        self.ensure_one()
        if not self.source_id:
            raise UserError(self.env._("The plan %s has no source.", self.name))
        if resume:
            return self._run_to_resume()._execute(resume=True)
        return self._new_run(dry_run=dry_run, models=models, incremental=incremental)._execute()

    # -- generation -------------------------------------------------------------------------------

    @api.model
    def generate(self, source, model_names=None, name=None, apps=None):
        """A new plan proposed for ``model_names``, or for the models of ``apps`` (module
        names: each app's models that hold records on the source), or for every source model
        with records; closed over its relations (see ``engine/generator.py``), then validated."""
        transport = source._remote_call(lambda t: t)
        try:
            if apps:
                model_names = app_models(transport, apps)
            elif not model_names:
                model_names = source._models_with_records()
            schemas = self._generator_schemas(transport, source)
            if apps:  # with records, and not a report (a view on the target)
                model_names = [
                    m
                    for m in model_names
                    if schemas.has_records(m) and (m not in self.env or _has_table(self.env[m]))
                ]
            version = source._read_remote_version(transport) or "18.0"
            changes = VersionChanges(load_changes(), version, release.version_info[0])
            spec, notes = generate_plan(
                model_names, schemas, changes, name=name, history=bool(apps)
            )
        except RemoteError as exc:
            raise UserError(source._remote_failure_message(exc)) from exc
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        values = self._values_from_spec(spec)
        values.update(name=name or self.env._("Plan from %s", source.name), source_id=source.id)
        plan = self.create(values)
        plan._store_findings(notes, origin="generator")
        plan.validate()
        return plan

    @api.model
    def _generator_schemas(self, transport, source):
        """What the generator asks of both databases, asked once per model."""
        source_fields, counts = {}, {}
        probe = SourceProbe(transport, self._target_xmlids)

        def source_fields_of(model):
            if model not in source_fields:
                try:
                    source_fields[model] = transport.fields_get(model, SCHEMA_ATTRIBUTES)
                except RemoteError as exc:
                    if exc.kind != "server":
                        raise
                    source_fields[model] = None
            return source_fields[model]

        def target(model):
            if model not in self.env or not _has_table(self.env[model]):
                return None
            return self._target_schema([model])[model]

        def inherits(model):
            return dict(self.env[model]._inherits) if model in self.env else {}

        def has_records(model):
            if model not in counts:
                try:
                    counts[model] = transport.search_count(
                        model, [], context={"active_test": False}
                    )
                except RemoteError as exc:
                    if exc.kind != "server":
                        raise
                    # not a model of the source, or one its user may not read
                    counts[model] = None if "AccessError" in exc.server_message else 0
            return counts[model]

        def unresolved(model, field_name, relation, names):
            used = probe.values_used(model, field_name)
            if not used:  # none, or the source cannot tell: nothing to leave out
                return 0
            id_map = IdMap(self.env.cr, source.id)
            discriminators = {relation: (relation, names)} if relation in self.env else {}
            resolver = Resolver(self.env, transport, id_map, discriminators, {})
            resolver.resolve({(relation, source_id, relation) for source_id in used})
            return sum(n for i, n in used.items() if not resolver.get(relation, i, relation))

        return Schemas(source_fields_of, target, inherits, has_records, unresolved)


def _has_table(model):
    """A model whose records are rows of a table of its own (not a report's view)."""
    return (
        model._auto
        and not model._abstract
        and not model._transient
        and not getattr(model, "_table_query", None)
    )
