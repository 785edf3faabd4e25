"""Python bodies of statements and hooks, compiled once through Odoo's ``safe_eval``.

A body is the inside of a function that ``return``s the value. It is wrapped into a
function definition which ``safe_eval`` checks (no imports, no dunder names, only safe
opcodes) and runs once; the defined function is then called per record, so a run pays
for the check once per statement, not once per row.
"""

import re
import textwrap
from dataclasses import dataclass

from odoo.tools.safe_eval import safe_eval, test_python_expr

from .spec import ANY_MODULE, NO_SOURCE, WILDCARD

BODY_FUNCTION = "_rdm_body"
# What a statement's body sees as arguments; hooks get none of the row names.
ROW_ARGUMENTS = ("source_row", "target_rows")
# The other names of MAPPING.md, provided per run by the runner (see ``body_globals``).
RUN_NAMES = ("newid", "ref", "sql", "source", "env")
HELPER_NAMES = ("concat", "const", "val", "map_val", "num", "bool_val", "cond", "split")


# What no body may reach, whoever wrote it: the run owns the transaction (it commits once per
# batch, so that a batch is kept whole or not at all) and the cursor it runs on.
TRANSACTION_NAMES = frozenset({"commit", "rollback", "cursor", "_cnx", "_obj", "connection"})
# What goes past the access rights of the user running the plan: for Settings
# administrators (base.group_system) only, when they write the body and when they run it.
SYSTEM_NAMES = frozenset({"sql", "execute", "sudo", "with_user"})


def _wrap(body, arguments):
    return f"def {BODY_FUNCTION}({', '.join(arguments)}):\n{textwrap.indent(body, '    ')}\n    return None\n"


def check_body(body, arguments=ROW_ARGUMENTS):
    """None when ``body`` compiles under safe_eval's rules, else the reason (with its line)."""
    if not body.strip():
        return None
    text = textwrap.dedent(body).strip("\n")
    try:
        error = test_python_expr(_wrap(text, arguments), mode="exec")
    except NameError as exc:  # a forbidden (dunder) name
        error = str(exc)
    if not error:
        return _refused_names(text, arguments)
    # Line numbers count from the wrapper's "def" line: bring them back to the body's.
    error = re.sub(r"at line (\d+)", lambda m: f"at line {int(m.group(1)) - 1}", error)
    return error.replace("'lambda'", "the body").strip()


def body_names(body, arguments=ROW_ARGUMENTS):
    """Every global and attribute name ``body`` uses (a body that does not compile: none)."""
    try:
        code = compile(_wrap(textwrap.dedent(body).strip("\n"), arguments), "<body>", "exec")
    except (SyntaxError, ValueError):
        return set()
    names, codes = set(), [code]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(const for const in code.co_consts if hasattr(const, "co_names"))
    return names


def _refused_names(text, arguments):
    refused = sorted(body_names(text, arguments) & TRANSACTION_NAMES)
    if refused:
        return (
            f"{refused[0]!r} is refused: a body cannot commit, roll back or reach the cursor; "
            "the run commits after each batch"
        )
    return None


def compile_body(body, names, arguments=ROW_ARGUMENTS, filename="<statement>"):
    """A function of ``arguments`` running ``body``, with ``names`` as its globals."""
    refusal = _refused_names(textwrap.dedent(body).strip("\n"), arguments)
    if refusal:
        raise ValueError(f"{filename}: {refusal}")
    scope = {}
    global_names = dict(names)
    safe_eval(
        _wrap(textwrap.dedent(body).strip("\n"), arguments),
        global_names,
        scope,
        mode="exec",
        nocopy=True,
        filename=filename,
    )
    return scope[BODY_FUNCTION]


class RowHelpers:
    """odoo-data-flow's mapper names, applied to the row being transformed.

    In odoo-data-flow ``concat(" ", "a", "b")`` returns a function of the row; in a body the
    row is already there, so here it returns the value. ``row`` is set before each call.
    """

    def __init__(self):
        self.row = {}

    def _get(self, field_name, default=""):
        value = self.row.get(field_name)
        return default if value in (None, False, "") else value

    def const(self, value):
        return value

    def val(self, field_name, default="", postprocess=None):
        value = self._get(field_name, default)
        return postprocess(value) if postprocess else value

    def concat(self, separator, *field_names):
        values = (self._get(name) for name in field_names)
        return separator.join(str(value) for value in values if value != "")

    def map_val(self, field_name, mapping, default=""):
        return mapping.get(self.row.get(field_name), default)

    def num(self, field_name, default=0.0):
        value = self._get(field_name, None)
        if value is None:
            return default
        if isinstance(value, int | float):
            return value
        return float(str(value).replace(",", "."))

    def bool_val(self, field_name, true_values=(), false_values=()):
        value = self.row.get(field_name)
        if value in true_values:
            return True
        if value in false_values:
            return False
        return bool(value)

    def cond(self, field_name, true_value, false_value):
        return true_value if self.row.get(field_name) else false_value

    def split(self, field_name, separator=","):
        value = self._get(field_name)
        return [part.strip() for part in str(value).split(separator)] if value != "" else []

    def names(self):
        return {name: getattr(self, name) for name in HELPER_NAMES}


# -- statements, with wildcards expanded against both schemas -------------------------------------

# Set by the target's ORM on create and write, whatever the values say.
LOG_ACCESS_FIELDS = frozenset(
    {"create_uid", "create_date", "write_uid", "write_date", "parent_path"}
)
# Never copied by a wildcard: the record's identity and what the writing itself sets.
WILDCARD_EXCLUDED = LOG_ACCESS_FIELDS | {"id", "__last_update", "display_name"}
RELATIONAL_TYPES = ("many2one", "many2many", "one2many")


@dataclass
class Statement:
    """One statement of a model rule once its wildcards are expanded."""

    source_field: str
    target_model: str
    target_field: str | None
    statement: str = "copy"
    argument: str = ""
    body: str = ""
    from_wildcard: bool = False


def wildcard_fields(source_fields, target_fields):
    """The names a wildcard copies: stored on both sides, and the target's own (not inherited)."""
    return [
        name
        for name, desc in source_fields.items()
        if name not in WILDCARD_EXCLUDED
        and desc.get("store", True)
        and name in target_fields
        and target_fields[name].get("store", True)
        and not target_fields[name].get("inherited")
    ]


def active_field_rules(rule, modules=None):
    """The statements whose module condition holds (``modules``: installed on the target)."""
    return [
        field_rule
        for field_rule in rule.fields
        if modules is None or field_rule.module in (ANY_MODULE, *modules)
    ]


def expand_rule(rule, source_fields, target_schema, modules=None):
    """The statements of ``rule``, a wildcard replaced by one copy per field it covers.

    A source field named by a statement of its own is left out of the wildcard, whatever
    that statement does (forget, defer, a body feeding another field...).
    """
    field_rules = active_field_rules(rule, modules)
    explicit = {f.source_field for f in field_rules if f.source_field not in (WILDCARD, NO_SOURCE)}
    statements = []
    for field_rule in field_rules:
        if field_rule.source_field != WILDCARD:
            statements.append(
                Statement(
                    field_rule.source_field,
                    field_rule.target_model,
                    field_rule.target_field,
                    field_rule.statement,
                    field_rule.argument,
                    field_rule.body,
                )
            )
            continue
        target_fields = target_schema.get(field_rule.target_model, {})
        for name in wildcard_fields(source_fields, target_fields):
            if name not in explicit:
                statements.append(
                    Statement(name, field_rule.target_model, name, "copy", from_wildcard=True)
                )
    return statements


def system_only_uses(spec):
    """``[(where, name)]``: the bodies of ``spec`` using a name of ``SYSTEM_NAMES``."""
    uses = []
    for hook, body in sorted(spec.hooks.items()):
        uses += [(f"{hook} hook", n) for n in sorted(body_names(body or "", ()) & SYSTEM_NAMES)]
    for rule in spec.models:
        for statement in rule.fields:
            if statement.statement == "python" and statement.body:
                where = f"{rule.source_model}.{statement.source_field}"
                uses += [(where, n) for n in sorted(body_names(statement.body) & SYSTEM_NAMES)]
    return uses
