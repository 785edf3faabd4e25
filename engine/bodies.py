"""Python bodies of statements and hooks, and the names they see. Odoo-facing.

This is the engine module that reaches into Odoo on purpose: bodies are checked and run by
Odoo's ``safe_eval``, and their names (``ref``, ``sql``, ``source``, ``env``) act on the
target's environment and the source's client.

A body is the inside of a function that ``return``s the value. It is wrapped into a
function definition which ``safe_eval`` checks (no imports, no dunder names, only safe
opcodes) and runs once; the defined function is then called per record, so a run pays
for the check once per statement, not once per row.
"""

import ast
import re
import textwrap
from collections import OrderedDict

from odoo.tools.safe_eval import safe_eval, test_python_expr

BODY_FUNCTION = "_rdm_body"
# What a statement's body sees as arguments; hooks get none of the row names; a model's
# finish body gets the target record and the source row.
ROW_ARGUMENTS = ("source_row", "target_rows")
FINISH_ARGUMENTS = ("record", "source_row")
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


def source_keys(body):
    """The source fields a body names as ``source_row['x']`` or ``source_row.get('x')``."""
    try:
        tree = ast.parse(textwrap.dedent(body))
    except SyntaxError:
        return set()
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_source_row(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_source_row(node.func.value)
            and node.args
        ):
            key = node.args[0]
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
    return keys


def _is_source_row(node):
    return isinstance(node, ast.Name) and node.id == "source_row"


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


class NewId:
    """``newid()``: a record to create for this row; its id is known once it is created.

    A copy into ``<model>.id`` gives a handle with an ``identity``: the source record
    ``(model, id)`` this target record stands for, so that references to it resolve.
    """

    __slots__ = ("identity", "model")

    def __init__(self, model=None, identity=None):
        self.model = model
        self.identity = identity

    def __repr__(self):
        return f"newid({self.model or '?'})"


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


def system_only_uses(spec):
    """``[(where, name)]``: the bodies of ``spec`` using a name of ``SYSTEM_NAMES``."""
    uses = []
    for hook, body in sorted(spec.hooks.items()):
        uses += [(f"{hook} hook", n) for n in sorted(body_names(body or "", ()) & SYSTEM_NAMES)]
    for rule in spec.models:
        if rule.finish:
            where = f"{rule.source_model}.__finish__"
            names = body_names(rule.finish, FINISH_ARGUMENTS) & SYSTEM_NAMES
            uses += [(where, name) for name in sorted(names)]
        for statement in rule.fields:
            if statement.statement == "python" and statement.body:
                where = f"{rule.source_model}.{statement.source_field}"
                uses += [(where, n) for n in sorted(body_names(statement.body) & SYSTEM_NAMES)]
    return uses


# sql() shares the run's transaction, which commits once per batch: never a statement ending it
TRANSACTION_CONTROL = re.compile(
    r"(^|;)\s*(commit|rollback|abort|end|begin|start\s+transaction|savepoint|release|"
    r"prepare\s+transaction)\b",
    re.IGNORECASE,
)
# What source() may call: the ORM's reading methods. A body never changes the source, not
# even in a dry run (which rolls back the target only).
SOURCE_READ_METHODS = frozenset(
    {
        "search_read",
        "read",
        "search",
        "search_count",
        "fields_get",
        "read_group",
        "name_search",
        "default_get",
    }
)
SOURCE_CACHE_SIZE = 256  # answers of source() kept per run, the least recently used dropped


class BodyNames:
    """The names of MAPPING.md a run gives its bodies: ``ref``, ``sql``, ``source``, ``env``,
    ``newid`` and the mapper helpers."""

    def __init__(self, env, transport, resolver):
        self.env = env
        self.transport = transport
        self.resolver = resolver
        self.helpers = RowHelpers()
        self._source_answers = OrderedDict()

    def names(self):
        return {
            **self.helpers.names(),
            "env": self.env,
            "newid": NewId,
            "ref": self.ref,
            "sql": self.sql,
            "source": self.source,
        }

    def ref(self, model, source_id):
        target_model = self.resolver.target_model_of(model)
        self.resolver.resolve({(model, source_id, target_model)})
        return self.resolver.get(model, source_id, target_model)

    def sql(self, db, query, args=None):
        if db != "target":
            raise ValueError(
                "sql() runs on the target only: the source is reached over RPC, use source()"
            )
        control = TRANSACTION_CONTROL.search(query)
        if control:
            raise ValueError(
                f"sql() refuses {control.group(2).upper()!r}: the run commits after each batch"
            )
        self.env.cr.execute(query, args)
        return self.env.cr.fetchall() if self.env.cr.description else None

    def source(self, model, method, *args, **kwargs):
        if method not in SOURCE_READ_METHODS:
            raise ValueError(
                f"source() calls reading methods only ({', '.join(sorted(SOURCE_READ_METHODS))}),"
                f" not {method!r}"
            )
        key = (model, method, repr(args), repr(sorted(kwargs.items())))
        answers = self._source_answers
        if key in answers:
            answers.move_to_end(key)
            return answers[key]
        answer = answers[key] = self.transport.call(model, method, *args, **kwargs)
        if len(answers) > SOURCE_CACHE_SIZE:
            answers.popitem(last=False)
        return answer
