"""Propose a plan that runs: the chosen models, and what they need, closed.

For each chosen source model: a wildcard copy; ``__forget__`` for what a copy would get
wrong (one2many, fields the target computes, links to technical models, to documents of
other applications); ``__defer__`` for self-references and for the optional fields that
close a cycle. Then the plan is closed over its relations:

- reference data (countries, currencies, languages...) is matched on the target by a
  natural key, never created;
- configuration (units, categories, taxes, journals, teams, tags, attributes, users...)
  is matched by external id, then by its natural key, and created when the target lacks
  it; what the target has is left as it is (``__duplicates__: skip``);
- master data every application shares (partners, banks) is migrated;
- records the target's ORM makes itself (a template's variants, its attribute values) are
  matched by what identifies them, not created twice; a model that ``_inherits`` another
  one not in the plan writes its parent's fields into it (a user's partner);
- the changes between the source's version and the target's (``versions.py``) become
  statements, each note citing its entry.
"""

from .planner import Edge, plan_order
from .spec import NO_SOURCE, WILDCARD, FieldRule, ModelRule, PlanSpec, Problem
from .validation import compatible

# Reference data: matched on the target by these fields, never created.
REFERENCE_DISCRIMINATORS = {
    "res.country": ["code"],
    "res.country.state": ["country_id", "code"],
    "res.currency": ["name"],
    "res.lang": ["code"],
    "res.country.group": ["name"],
    # made by the target itself with the warehouses (and its modules' data): matched only
    "stock.picking.type": ["warehouse_id", "sequence_code"],
    "stock.route": ["name", "company_id"],
    "stock.rule": ["name", "route_id", "company_id"],
    "product.removal": ["method"],
    # made with the taxes, and the fields tracked values point to
    "account.tax.repartition.line": ["tax_id", "document_type", "repartition_type", "sequence"],
    "ir.model.fields": ["model", "name"],
    "ir.model": ["model"],
}
# Matched on the target by external id only, never proposed: users' groups, message
# subtypes, and what the target's own modules and chart of accounts define (tax reports,
# account groups, reconciliation models).
MATCHED_BY_XMLID = (
    "res.groups",
    "mail.message.subtype",
    "account.report",
    "account.report.line",
    "account.report.expression",
    "account.report.column",
    "account.report.external.value",
    "account.group",
    "account.root",
    "account.reconcile.model",
    "account.reconcile.model.line",
)
# Configuration: matched by external id, then by these fields; created when missing.
CONFIG_DISCRIMINATORS = {
    "res.company": ["name"],
    "uom.category": ["name"],
    "uom.uom": ["name", "category_id"],
    "res.users": ["login"],
    "res.partner.category": ["name"],
    "res.partner.title": ["name"],
    "res.partner.industry": ["name"],
    "res.bank": ["name"],
    "product.category": ["complete_name"],
    "product.attribute": ["name"],
    "product.attribute.value": ["attribute_id", "name"],
    "product.tag": ["name"],
    "product.pricelist": ["name"],
    "crm.team": ["name", "company_id"],
    "crm.tag": ["name"],
    "crm.stage": ["name"],
    "utm.campaign": ["name"],
    "utm.medium": ["name"],
    "utm.source": ["name"],
    "utm.stage": ["name"],
    "utm.tag": ["name"],
    "account.account": ["code"],
    "account.account.tag": ["name"],
    "account.tax": ["name", "type_tax_use", "company_id"],
    "account.tax.group": ["name"],
    "account.journal": ["code", "company_id"],
    "account.fiscal.position": ["name"],
    "account.payment.term": ["name"],
    "account.incoterms": ["code"],
    "account.analytic.plan": ["name"],
    "account.analytic.account": ["name"],
    "account.payment.method": ["code", "payment_type"],
    "account.payment.method.line": ["journal_id", "payment_method_id"],
    "mail.activity.type": ["name"],
    "account.cash.rounding": ["name"],
    "stock.warehouse": ["code", "company_id"],
    "stock.location": ["complete_name", "company_id"],
    "stock.package.type": ["name"],
    "stock.storage.category": ["name"],
    "sale.order.template": ["name"],
    "payment.provider": ["code"],
    "payment.method": ["code"],
    "delivery.carrier": ["name"],
}
# Master data every application shares: migrated whenever the plan points to it.
MASTER_DATA = ("res.partner", "res.partner.bank")
# Records the target's ORM makes itself when their parent is created (a template's variants,
# the values of an attribute line): matched by what identifies them.
CREATED_BY_ORM = {
    "product.product": ["product_tmpl_id", "product_template_attribute_value_ids"],
    "product.template.attribute.value": ["product_tmpl_id", "product_attribute_value_id"],
}
# Fields a copy gets wrong, known by name: the ORM writes them itself.
KNOWN_LEFT_OUT = {
    (
        "product.template.attribute.value",
        "ptav_product_variant_ids",
    ): "the ORM links variants to their values",
    (
        "product.attribute.value",
        "pav_attribute_line_ids",
    ): "the ORM links values to attribute lines",
}
# Models whose create() makes the records their relational fields point to (a company's
# chart of accounts, journals and locations; a warehouse's locations, operation types and
# routes): only these links are copied, the target makes the others.
LINKS_KEPT = {
    "res.company": ("partner_id", "currency_id", "parent_id", "country_id", "state_id"),
    "stock.warehouse": ("company_id", "partner_id"),
}
# Records made with another one's create (locations with their company and warehouse): the
# maker is written first, so that they are found, not created twice.
MADE_WITH = {"stock.location": ("res.company", "stock.warehouse")}
# Records the target derives from others, or whose history it must replay (stock levels,
# moves, valuation): not proposed; a note says why.
DERIVED = {
    "account.bank.statement.line": "their entries are migrated as entries; reconcile statements on the target",
    "account.bank.statement": "their lines' journal entries are migrated as entries",
    "stock.quant": "stock levels are the target's sum of its moves: set them with an inventory adjustment",
    "stock.move": "stock moves are made by confirming and validating transfers on the target",
    "stock.move.line": "stock move lines are made by validating transfers on the target",
    "stock.picking": "transfers are made by confirming orders on the target",
    "stock.valuation.layer": "valuation layers are made by validating stock moves on the target",
    "stock.quant.package": "packages hold quants, which the target makes",
}
# Journal entries as they were: made as drafts (their items written into them batch by
# batch), then posted, or cancelled, under their own name and date by the finish body once
# whole; never rewritten by a later run (a posted entry cannot be). Their reconciliations
# and payments likewise.
POST_AS_ON_SOURCE = (
    "state = {values!r}.get(source_row['state'], source_row['state'])\n"
    "if record.state == 'draft' and state == 'posted':\n"
    "    record.action_post()\n"
    "elif record.state == 'draft' and state == 'cancel':\n"
    "    record.button_cancel()\n"
)
STATE_AS_ON_SOURCE = (
    "state = {values!r}.get(source_row['state'], source_row['state'])\n"
    "if record.state != state:\n"
    "    record.write({{'state': state}})\n"
)
RULE_OPTIONS = {
    "account.move": {"duplicates": "skip", "finish": POST_AS_ON_SOURCE},
    "purchase.order": {"finish": STATE_AS_ON_SOURCE},
    "account.move.line": {"duplicates": "skip"},
    "account.partial.reconcile": {"duplicates": "skip"},
    "account.full.reconcile": {"duplicates": "skip"},
    "account.payment": {"duplicates": "skip"},
    # a group the target no longer has (removed since the source's version) is dropped
    "res.users": {"unresolved": "null"},
}
# Statements known by name: (model, field) -> Python body of the target field.
KNOWN_BODIES = {}
# A full reconciliation is made with its items and partials (its create links them, and
# needs them): its one2many fields are written from its side, theirs point to it by itself.
WRITTEN_FROM_HERE = {
    "account.full.reconcile": ("reconciled_line_ids", "partial_reconcile_ids"),
}
# The fields of an attachment its content makes (file, checksum, size, index).
ATTACHMENT_LEFT_OUT = (
    "raw", "store_fname", "db_datas", "checksum", "file_size", "index_content", "access_token"
)  # fmt: skip
KNOWN_LEFT_OUT.update(
    {
        ("account.move", name): "set by posting"
        for name in ("payment_state", "posted_before", "inalterable_hash", "secure_sequence_number")
    }
    | {
        ("account.move.line", "full_reconcile_id"): "set by the full reconciliation's create",
        (
            "account.partial.reconcile",
            "full_reconcile_id",
        ): "set by the full reconciliation's create",
        ("mail.message", "notified_partner_ids"): "written by mail with its notifications",
        # made as drafts (the default), then posted or confirmed by the rule's finish body
        ("account.move", "state"): "written by the finish body",
        # a confirmed order logs each line added to it
        ("purchase.order", "state"): "written by the finish body",
    }
)
# The history of the migrated documents: their chatter, tracked changes and attachments,
# with model and res_id remapped; those of records not migrated are skipped, counted.
HISTORY = {
    "ir.attachment": ("res_model", "res_id", [("res_field", "=", False)]),
    "mail.message": ("model", "res_id", []),
}
HISTORY_LEFT_OUT = {"ir.attachment": ATTACHMENT_LEFT_OUT}
# Links into these are not data of the migration (attachments, messages, actions, ...).
TECHNICAL_PREFIXES = (
    "ir.",
    "mail.",
    "bus.",
    "discuss.",
    "digest.",
    "web_tour.",
    "auth_totp.",
    "base.",
    "onboarding.",
    "spreadsheet.",
    "iap.",
    "sms.",
    "snailmail.",
    "report.",
    "barcode.",
    "decimal.",
    "res.users.",
    "res.config",
    "account.edi",
)
# Never worth migrating when "every model with records" is asked for.
TECHNICAL_MODEL_PREFIXES = TECHNICAL_PREFIXES + ("_unknown",)
MAGIC = frozenset({"id", "create_uid", "create_date", "write_uid", "write_date", "__last_update"})


def is_technical_model(model):
    return model.startswith(TECHNICAL_MODEL_PREFIXES) or model in (
        "res.users.log",
        "res.users.settings",
    )


class Schemas:
    """What the generator asks of both databases; the models layer answers (cached).

    ``source_fields(model)`` and ``target_fields(model)``: ``fields_get``-like descriptions,
    None when the database has no such model (the target: no table of its own);
    ``target_inherits(model)``: ``{parent model: link field}``; ``has_records(model)``: how
    many, None when the source's user cannot read them;
    ``unresolved(model, field, relation, discriminator)``: how many source records point
    through ``field`` to records the target does not have (by external id or
    ``discriminator``).
    """

    def __init__(self, source_fields, target_fields, target_inherits, has_records, unresolved):
        self.source_fields = source_fields
        self.target_fields = target_fields
        self.target_inherits = target_inherits
        self.has_records = has_records
        self.unresolved = unresolved


def generate_plan(models, schemas, changes=None, name=None, history=False):
    """``(PlanSpec, notes)`` for the source ``models``: notes are Problems (info, warning).
    ``history``: with the messages and attachments of the documents migrated."""
    return _Generator(schemas, changes).generate(models, name, history)


class _Generator:
    def __init__(self, schemas, changes):
        self.schemas = schemas
        self.changes = changes
        self.rules = {}
        self.edges = []
        self.notes = []
        self.chosen = []
        self.queued = set()
        self.splits = set()  # models whose rows also make their _inherits parent record
        self.tables = {}  # many2many relation table -> [(model, field)] writing it
        self.dropped = {}  # model -> why it cannot be proposed after all

    def note(self, message, model, field="", severity="info"):
        key = f"{model}.{field}" if field else model
        self.notes.append(Problem(message, key=key, severity=severity, model=model, field=field))

    def generate(self, models, name, history=False):
        self.chosen = [m for m in models if self.schemas.source_fields(m) is not None]
        self.close(self.chosen)
        if history:
            documents = [m for m, rule in self.rules.items() if not rule.is_reference_only]
            self.close([m for m in HISTORY if self.schemas.source_fields(m) is not None])
            for model in HISTORY:
                if model in self.rules:
                    self.history_rule(self.rules[model], documents)
        return self.spec(name), self.notes

    def close(self, models):
        """Propose ``models``, then every model they need, until none is missing."""
        queue = [m for m in models if m not in self.queued]
        self.queued |= set(queue)
        while queue:
            model = queue.pop(0)
            for relation in self.propose(model):
                if relation not in self.queued:
                    self.queued.add(relation)
                    queue.append(relation)

    def history_rule(self, rule, documents):
        """Messages or attachments of the migrated documents only, each remapped to its
        document; those of a document not migrated are skipped."""
        model_field, id_field, domain = HISTORY[rule.source_model]
        rule.domain = [(model_field, "in", sorted(documents))] + domain
        rule.unresolved = "skip"
        rule.fields = [f for f in rule.fields if f.source_field != id_field]
        rule.fields.append(
            FieldRule(id_field, rule.target_model, id_field, "ref", argument=model_field)
        )
        for name in HISTORY_LEFT_OUT.get(rule.source_model, ()):
            self.forget(rule, name)
        if rule.source_model == "ir.attachment":  # the content, not stored as a field
            rule.fields.append(FieldRule("datas", rule.target_model, "datas"))
        for document in documents:  # after every document, which their res_id points to
            self.edges.append(Edge(rule.source_model, "", document, required=True))

    # -- one model ------------------------------------------------------------------------------

    def target_model_of(self, model):
        if self.changes is None:
            return model
        target, entries = self.changes.model_fate(model)
        for entry_id in entries:
            self.note(f"{model} -> {target or 'nothing'}: {self.changes.entry(entry_id)['note']}"
                      f" [{entry_id}]", model)  # fmt: skip
        return target

    def propose(self, model):
        """Add the rule of ``model``; return the models it needs that are not proposed yet."""
        target_model = self.target_model_of(model)
        if target_model is None:
            return []
        target_fields = self.schemas.target_fields(target_model)
        if target_fields is None:
            self.note(
                f"{model} does not exist on the target: map it by hand", model, severity="warning"
            )
            return []
        if model in DERIVED:
            self.note(f"{model} is not proposed: {DERIVED[model]}", model, severity="warning")
            return []
        if model in REFERENCE_DISCRIMINATORS or model in MATCHED_BY_XMLID:
            discriminator = list(REFERENCE_DISCRIMINATORS.get(model, []))
            self.rules[model] = ModelRule(model, target_model, discriminator=discriminator)
            return []
        source_fields = self.schemas.source_fields(model)
        rule = ModelRule(model, target_model)
        if target_model != model:  # renamed since the source's version
            rule.fields.append(FieldRule("id", target_model, "id", "moved"))
        rule.discriminator = list(
            CONFIG_DISCRIMINATORS.get(model) or CREATED_BY_ORM.get(model) or []
        )
        rule.discriminator = [name for name in rule.discriminator if name in target_fields]
        if model in CONFIG_DISCRIMINATORS:
            rule.duplicates = "skip"  # what the target has stays as it is
        options = RULE_OPTIONS.get(model, {})
        rule.duplicates = options.get("duplicates", rule.duplicates)
        rule.unresolved = options.get("unresolved", rule.unresolved)
        if options.get("finish"):
            fate = self.changes.field_fate(model, "state") if self.changes else None
            values = {
                old: new["state"]
                for old, new in (fate.values if fate else {}).items()
                if "state" in new
            }
            rule.finish = options["finish"].format(values=values)
        rule.fields.append(FieldRule(WILDCARD, target_model, None))
        self.rules[model] = rule
        for maker in MADE_WITH.get(model, ()):
            self.edges.append(Edge(model, "", maker, required=True))  # order only
        needed = self.inherited_parents(rule, source_fields, target_fields)
        for field_name, source_desc in sorted(source_fields.items()):
            if field_name in MAGIC:
                continue
            if not source_desc.get("store", True):
                self.from_related(rule, field_name, source_desc, target_fields)
                continue
            needed += self.field_statements(rule, field_name, source_desc, target_fields)
        for name in WRITTEN_FROM_HERE.get(model, ()):
            relation = source_fields.get(name, {}).get("relation")
            if relation and name in target_fields:
                rule.fields = [f for f in rule.fields if f.source_field != name]
                rule.fields.append(FieldRule(name, target_model, name))
                self.edges.append(Edge(model, name, relation, required=True))
                needed.append(relation)
        return needed

    def from_related(self, rule, field_name, source_desc, target_fields):
        """A field the source holds only through a related field that the target stores
        itself (a payment's journal, date, memo and state were its entry's, through
        _inherits, before 18.0): copied when the target requires it or the version table
        changed it."""
        fate = self.changes.field_fate(rule.source_model, field_name) if self.changes else None
        target_name = fate.field if fate else field_name
        desc = target_fields.get(target_name) or {}
        writable = (
            desc.get("store", True) and not desc.get("compute") and desc.get("type") != "one2many"
        )
        if (
            not desc
            or not writable
            or desc.get("inherited")
            or source_desc.get("type") == "one2many"
        ):
            return
        if not (desc.get("required") and not desc.get("has_default")) and not (
            fate and fate.entries
        ):
            return
        if any(f.source_field == field_name for f in rule.fields):
            return
        if fate and fate.values:
            self.value_map(rule, field_name, fate, target_fields)
        else:
            rule.fields.append(FieldRule(field_name, rule.target_model, target_name))

    def field_statements(self, rule, field_name, source_desc, target_fields):
        """Statements of one source field; returns the models it needs that are new."""
        model, target_model = rule.source_model, rule.target_model
        if (model, field_name) in KNOWN_BODIES:
            body = KNOWN_BODIES[(model, field_name)]
            rule.fields.append(FieldRule(field_name, target_model, field_name, "python", body=body))
            return []
        if (model, field_name) in KNOWN_LEFT_OUT:
            self.forget(rule, field_name)
            return []
        fate = self.changes.field_fate(model, field_name) if self.changes else None
        target_name = fate.field if fate else field_name
        if fate and fate.entries:
            self.cite(model, field_name, fate)
        if target_name is None:
            return []
        target_desc = target_fields.get(target_name)
        if fate and fate.values:
            self.value_map(rule, field_name, fate, target_fields)
            return []
        if target_desc is None or target_desc.get("inherited") and model not in self.splits:
            return []
        if target_name != field_name:
            rule.fields.append(FieldRule(field_name, target_model, target_name))
        reason = self.left_out(model, dict(source_desc, name=field_name), target_desc)
        if not reason and not compatible(source_desc.get("type"), target_desc.get("type")):
            reason = "type changed"
            self.note(
                f"left out: its type changed ({source_desc.get('type')} on the source, "
                f"{target_desc.get('type')} on the target); convert it with a Python body",
                model, field_name, severity="warning",
            )  # fmt: skip
        kept = LINKS_KEPT.get(target_model)
        if reason or kept is not None and field_name not in kept and source_desc.get("relation"):
            self.forget(rule, field_name)
            return []
        model_field = target_desc.get("model_field")
        if target_desc.get("type") == "many2one_reference" and model_field:
            # an id of the model its sibling field names: remapped, not copied
            rule.fields = [f for f in rule.fields if f.source_field != field_name]
            rule.fields.append(
                FieldRule(field_name, target_model, target_name, "ref", argument=model_field)
            )
            return []
        relation = source_desc.get("relation")
        if not relation or source_desc.get("type") not in ("many2one", "many2many"):
            return []
        if relation == model and source_desc.get("type") == "many2one":
            rule.fields.append(FieldRule(field_name, target_model, target_name, "defer"))
            return []
        return self.relation_statement(rule, field_name, relation, target_desc)

    def relation_statement(self, rule, field_name, relation, target_desc):
        model = rule.source_model
        verdict = self.relation_verdict(relation)
        if verdict == "follow" and self.schemas.has_records(relation) is None:
            if target_desc.get("required"):  # its records cannot be made: not proposed
                self.dropped[model] = (
                    f"its required {field_name} points to {relation}, which the source's user cannot read"
                )
            self.forget(rule, field_name)
            self.note(f"left out: the source's user cannot read {relation}", model, field_name,
                      severity="warning")  # fmt: skip
            return []
        if (
            verdict == "follow"
            and relation in MASTER_DATA
            and target_desc.get("type") == "many2many"
        ):
            # a tag's partners: the record does not need them, they come with their own plan
            self.forget(rule, field_name)
            self.note(f"left out: {relation} is not in the plan (not needed by these records)",
                      model, field_name)  # fmt: skip
            return []
        if verdict is None:
            self.forget(rule, field_name)
            self.note(
                f"left out: {relation} is a document outside the chosen applications",
                model, field_name,
            )  # fmt: skip
            return []
        if relation in REFERENCE_DISCRIMINATORS and not target_desc.get("required"):
            names = REFERENCE_DISCRIMINATORS[relation]
            unresolved = self.schemas.unresolved(model, field_name, relation, names)
            if unresolved:
                self.forget(rule, field_name)
                self.note(
                    f"left out: {unresolved} records point to {relation} records the target "
                    f"does not have (matched by external id, then by {', '.join(names)})",
                    model, field_name,
                )  # fmt: skip
                return [relation] if verdict == "follow" else []
        many = target_desc.get("type") == "many2many"
        required = bool(target_desc.get("required"))
        self.edges.append(Edge(model, field_name, relation, required, many))
        if many and target_desc.get("relation_table"):
            self.tables.setdefault(target_desc["relation_table"], []).append((model, field_name))
        return [relation] if verdict == "follow" else []

    def left_out(self, model, source_desc, target_desc):
        if (model, source_desc.get("name")) in KNOWN_LEFT_OUT:
            return KNOWN_LEFT_OUT[(model, source_desc["name"])]
        if target_desc.get("type") == "one2many":
            return "one2many"
        if target_desc.get("compute"):
            return "computed"
        relation = source_desc.get("relation")
        known = (REFERENCE_DISCRIMINATORS, CONFIG_DISCRIMINATORS, MATCHED_BY_XMLID)
        if (
            relation
            and relation.startswith(TECHNICAL_PREFIXES)
            and relation not in self.queued
            and not any(relation in table for table in known)
        ):
            return "technical"
        return None

    def relation_verdict(self, relation):
        """ "in plan", "follow" (add it), or None (a document of another application)."""
        if relation in self.queued:
            return "in plan"
        if relation in REFERENCE_DISCRIMINATORS or relation in CONFIG_DISCRIMINATORS:
            return "follow"
        if relation in MATCHED_BY_XMLID:
            return "follow"
        if relation in MASTER_DATA or relation in CREATED_BY_ORM:
            return "follow"
        return None

    def forget(self, rule, field_name):
        if not any(f.source_field == field_name for f in rule.fields):
            rule.fields.append(FieldRule(field_name, rule.target_model, field_name, "forget"))

    def cite(self, model, field_name, fate):
        for entry_id in fate.entries:
            entry = self.changes.entry(entry_id)
            if entry["kind"] == "model_renamed":
                continue
            where = f"{fate.model}.{fate.field}" if fate.field else "nothing"
            self.note(
                f"{model}.{field_name} -> {where}: {entry['note']} [{entry_id}]", model, field_name
            )

    def value_map(self, rule, field_name, fate, target_fields):
        """Statements writing what each old value of ``field_name`` became (a selection value
        the target lacks, or a field whose type changed)."""
        targets = sorted({name for values in fate.values.values() for name in values})
        for target_name in targets:
            if target_name not in target_fields:
                continue
            mapping = {
                old: new[target_name] for old, new in fate.values.items() if target_name in new
            }
            if target_name == fate.field:
                fallback = f"source_row['{field_name}']"
            elif target_name in self.schemas.source_fields(rule.source_model):
                fallback = f"source_row.get('{target_name}')"
            else:
                fallback = repr(_default(target_fields[target_name]))
            body = f"return {mapping!r}.get(source_row['{field_name}'], {fallback})"
            rule.fields.append(
                FieldRule(field_name, rule.target_model, target_name, "python", body=body)
            )
        if fate.field in self.schemas.source_fields(rule.source_model) and fate.field != field_name:
            self.forget(rule, fate.field)  # written by the map, not by the wildcard

    def inherited_parents(self, rule, source_fields, target_fields):
        """A model that ``_inherits`` another: when the parent is in the plan, the record is
        created with it (its link); otherwise the parent's fields go into a parent record
        made for the row (a split, as a user and its partner)."""
        needed = []
        for parent, link in self.schemas.target_inherits(rule.target_model).items():
            if (
                parent in self.queued
                or parent in MASTER_DATA
                or rule.source_model in CREATED_BY_ORM
            ):
                needed.append(parent)
                continue
            self.splits.add(rule.source_model)
            rule.fields.append(FieldRule(link, parent, "id", "copy"))
            rule.fields.append(FieldRule(NO_SOURCE, rule.target_model, link, "python",
                                         body=f"return target_rows['{parent}']['id']"))  # fmt: skip
            for name, desc in sorted(target_fields.items()):
                made = parent == "ir.attachment" and name in ATTACHMENT_LEFT_OUT
                if desc.get("inherited") and name in source_fields and not desc.get("compute"):
                    if made:
                        continue
                    if desc.get("type") == "many2one_reference" and desc.get("model_field"):
                        ref = FieldRule(name, parent, name, "ref", argument=desc["model_field"])
                        rule.fields.append(ref)
                    else:
                        rule.fields.append(FieldRule(name, parent, name))
        return needed

    # -- the plan -------------------------------------------------------------------------------

    def forget_what_is_not_proposed(self):
        """A relation to a model no rule proposes (not on the target, not readable, not
        migrated for a reason noted): left out, else every record would fail on it."""
        for edge in list(self.edges):
            if edge.field and edge.target not in self.rules and edge.model in self.rules:
                self.forget(self.rules[edge.model], edge.field)
                self.edges.remove(edge)
                self.note(
                    f"left out: {edge.target} is not migrated (see its note)",
                    edge.model,
                    edge.field,
                )

    def one_side_of_each_table(self, migrated):
        """``{(model, field, kept side)}``: the sides of many2many tables written twice, but
        one. The table is written from the side whose model comes later; which one comes
        later is decided without the pair's own edges."""
        pairs = {t: s for t, s in self.tables.items() if len({m for m, _f in s}) > 1}
        if not pairs:
            return set()
        paired = {side for sides in pairs.values() for side in sides}
        edges = [e for e in self.edges if (e.model, e.field) not in paired]
        position = {
            m: i for i, m in enumerate(plan_order(migrated, edges, break_cycles=True).models)
        }
        left = set()
        for sides in pairs.values():
            kept = max(sides, key=lambda side: position.get(side[0], -1))
            left |= {(m, f, f"{kept[0]}.{kept[1]}") for m, f in sides if m != kept[0]}
        return left

    def spec(self, name):
        spec = PlanSpec(name=name)
        for model, why in self.dropped.items():
            self.rules.pop(model, None)
            self.note(f"{model} is not proposed: {why}", model, severity="warning")
        self.forget_what_is_not_proposed()
        migrated = [model for model, rule in self.rules.items() if not rule.is_reference_only]
        sides = self.one_side_of_each_table(migrated)
        dropped = {(model, field_name) for model, field_name, _kept in sides}
        edges = [e for e in self.edges if (e.model, e.field) not in dropped]
        order = plan_order(migrated, edges, break_cycles=True)
        for model, field_name, kept in sorted(sides):
            self.forget(self.rules[model], field_name)
            self.note(
                f"left out: the other side of a many2many table, written from {kept}",
                model,
                field_name,
            )
        for model, field_name in sorted(order.deferred):
            rule = self.rules[model]
            if any(f.source_field == field_name for f in rule.fields):
                continue
            rule.fields.append(FieldRule(field_name, rule.target_model, field_name, "defer"))
            self.note(
                f"deferred to break a cycle: {model}.{field_name} is written after every model",
                model,
                field_name,
            )
        for cycle in order.cycles:
            self.note(
                "a cycle of required fields: no field can be deferred, split the records by hand",
                cycle[0].model,
                severity="warning",
            )
        position = 0
        for model in order.models:
            position += 10
            self.rules[model].sequence = position
            spec.models.append(self.rules[model])
        for _model, rule in sorted(self.rules.items()):
            if rule.is_reference_only:
                position += 10
                rule.sequence = position
                spec.models.append(rule)
        return spec


def _default(desc):
    return False if desc.get("type") in ("boolean", "many2one") else None
