"""A plan's mapping as plain data: what the YAML file says and what the records store.

The models turn their records into a ``PlanSpec`` and back; the YAML reader and writer,
the validation, the generator and the compiler all work on it, with no Odoo in sight.
"""

from dataclasses import dataclass, field

# The statements of MAPPING.md, by the name the records store.
STATEMENTS = ("copy", "forget", "defer", "fk", "ref", "moved", "python")
STATEMENTS_WITH_ARGUMENT = ("fk", "ref")
WILDCARD = "*"
NO_SOURCE = "_"
ANY_MODULE = "*"

DEFAULT_OPTIONS = {
    "batch_size": 500,
    "on_error": "log",
    "unresolved": "error",
    "active_test": False,
    "duplicates": "update",
    "system_records": "keep",
}
OPTION_CHOICES = {
    "on_error": ("log", "stop"),
    "unresolved": ("error", "null", "skip"),
    "duplicates": ("update", "skip", "update_empty"),
    "system_records": ("keep", "update"),
}
HOOKS = ("pre", "post", "end")


@dataclass
class FieldRule:
    """One statement: a source field (or ``*``, or ``_``) feeding one target field."""

    source_field: str
    target_model: str
    target_field: str | None  # None for the wildcard
    statement: str = "copy"
    argument: str = ""  # the model of __fk__, the field of __ref__
    body: str = ""  # the Python body
    module: str = ANY_MODULE

    def key(self):
        """What identifies the statement, for comparing two plans."""
        return (
            self.module,
            self.source_field,
            self.target_model,
            self.target_field,
            self.statement,
            self.argument,
            self.body.strip(),
        )


@dataclass
class ModelRule:
    """One source model: which records, how to match them, and its statements."""

    source_model: str
    target_model: str
    module: str = ANY_MODULE  # where the model-level keys (__query__...) sit in the file
    domain: list | None = None
    discriminator: list = field(default_factory=list)
    mode: str = "orm"  # how new records are written: orm (create) or sql (COPY)
    duplicates: str | None = None  # the plan's duplicates option for this model; None: the plan's
    unresolved: str | None = None  # the plan's unresolved option for this model; None: the plan's
    finish: str = ""  # a Python body run on each record once it is whole (an entry posted)
    sequence: int | None = None
    fields: list = field(default_factory=list)

    def key(self):
        return (
            self.source_model,
            self.target_model,
            self.module
            if (
                self.domain
                or self.discriminator
                or self.mode != "orm"
                or self.duplicates
                or self.unresolved
                or self.finish
            )
            else ANY_MODULE,
            repr(self.domain or []),
            tuple(self.discriminator),
            self.mode,
            self.duplicates or "",
            self.unresolved or "",
            self.finish.strip(),
            tuple(sorted(rule.key() for rule in self.fields)),
        )

    @property
    def is_reference_only(self):
        """A rule with a discriminator and no statement only resolves references."""
        return not self.fields


@dataclass
class PlanSpec:
    name: str | None = None
    options: dict = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    hooks: dict = field(default_factory=dict)
    models: list = field(default_factory=list)

    def model(self, source_model):
        return next((rule for rule in self.models if rule.source_model == source_model), None)

    def statements(self):
        """Everything that defines the mapping, order-free: equal for equivalent plans."""
        return {
            "options": dict(self.options),
            "hooks": {name: (self.hooks.get(name) or "").strip() for name in HOOKS},
            "models": sorted(rule.key() for rule in self.models),
        }


@dataclass
class Problem:
    """A finding about a mapping: a parse error, or a validation finding."""

    message: str
    key: str = ""
    line: int | None = None
    severity: str = "error"  # error | warning | info
    model: str = ""
    field: str = ""

    def __str__(self):
        where = []
        if self.line:
            where.append(f"line {self.line}")
        if self.key:
            where.append(repr(self.key))
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
