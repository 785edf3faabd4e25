"""Property tests of the mapping language: random plans round-trip, random garbage is reported.

Plain Python (no database): the reader and the writer of YAML plans, and the compiler of
Python bodies, against what hypothesis makes up, 200 examples per property.
"""

import string
import unittest

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..engine.bodies import check_body
from ..engine.spec import Problem
from ..engine.yaml_io import Catalog, dump_plan, parse_plan

MODELS = ["res.partner", "res.partner.category", "res.country", "res.users"]
CATALOG = Catalog(
    models=MODELS,
    tables={model.replace(".", "_"): model for model in MODELS},
    modules=["base", "mail", "contacts"],
)
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: f"f_{s}")
models = st.sampled_from(MODELS)
modules = st.sampled_from(["*", "base", "mail", "contacts"])
bodies = st.sampled_from(
    [
        "return source_row['name']",
        "return (source_row['name'] or '').strip().title()",
        "value = source_row.get('ref')\nreturn value and value.upper()",
        "return newid()",
        "return 42",
    ]
)
scalars = st.one_of(st.integers(-(2**40), 2**40), st.booleans(), st.text(max_size=12))


@st.composite
def statements(draw, model):
    """One (key, value) of a module's section: a statement of MAPPING.md."""
    source = draw(names)
    target = f"{model}.{draw(names)}"
    kind = draw(st.sampled_from(["copy", "forget", "defer", "fk", "ref", "python", "split"]))
    key = f"{model}.{source}"
    if kind == "copy":
        return key, None
    if kind == "forget":
        return key, "__forget__"
    if kind == "defer":
        return key, {target: "__defer__"}
    if kind == "fk":
        return key, f"__fk__ {draw(models)}"
    if kind == "ref":
        return key, {target: f"__ref__ {draw(names)}"}
    if kind == "python":
        return f"{model}._" if draw(st.booleans()) else key, {target: draw(bodies)}
    other = draw(models)
    return key, {target: None, f"{other}.{draw(names)}": draw(bodies)}


@st.composite
def model_keys(draw, model):
    """The model-level keys of a model: its domain, discriminator, mode."""
    keys = {}
    if draw(st.booleans()):
        keys[f"{model}.__query__"] = [
            [draw(names), draw(st.sampled_from(["=", "!=", "in"])), draw(scalars)]
        ]
    if draw(st.booleans()):
        keys[f"{model}.__discriminator__"] = draw(
            st.lists(names, min_size=1, max_size=3, unique=True)
        )
    if draw(st.booleans()):
        keys[f"{model}.__mode__"] = draw(st.sampled_from(["orm", "sql"]))
    return keys


@st.composite
def plans(draw):
    """A random plan file that the reader must accept."""
    mapping = {}
    for model in draw(st.lists(models, min_size=1, max_size=4, unique=True)):
        # a model's domain, discriminator and mode sit in one module's section
        mapping.setdefault(draw(modules), {}).update(draw(model_keys(model)))
        for _ in range(draw(st.integers(1, 5))):
            key, value = draw(statements(model))
            section = mapping.setdefault(draw(modules), {})
            section.setdefault(key, value)
    document = {
        "format": 1,
        "plan": draw(st.text(string.ascii_letters + " ", min_size=1, max_size=20)).strip() or "P",
        "options": {
            "batch_size": draw(st.integers(1, 10_000)),
            "on_error": draw(st.sampled_from(["log", "stop"])),
            "duplicates": draw(st.sampled_from(["update", "skip", "update_empty"])),
            "unresolved": draw(st.sampled_from(["error", "null", "skip"])),
            "active_test": draw(st.booleans()),
        },
        "hooks": {"post": draw(st.sampled_from(["", "env['res.partner'].search([])"]))},
        "mapping": mapping,
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=20), children, max_size=4),
    ),
    max_leaves=20,
)


class TestPlanProperties(unittest.TestCase):
    @EXAMPLES
    @given(plans())
    def test_random_plans_round_trip(self, text):
        spec, problems = parse_plan(text, CATALOG)
        self.assertEqual(problems, [], text)
        exported = dump_plan(spec)
        again, problems = parse_plan(exported, CATALOG)
        self.assertEqual(problems, [], exported)
        self.assertEqual(again.statements(), spec.statements())
        self.assertEqual(dump_plan(again), exported, "a second export is the same text")

    @EXAMPLES
    @given(st.one_of(st.text(max_size=300), yaml_values.map(yaml.safe_dump)))
    def test_garbage_gets_a_report_never_an_exception(self, text):
        spec, problems = parse_plan(text, CATALOG)
        self.assertTrue(all(isinstance(p, Problem) and str(p) for p in problems))
        if not problems:  # whatever was accepted exports and reads back the same
            again, problems = parse_plan(dump_plan(spec), CATALOG)
            self.assertEqual((problems, again.statements()), ([], spec.statements()))

    @EXAMPLES
    @given(st.text(max_size=200))
    def test_any_python_body_is_compiled_or_reported(self, body):
        error = check_body(body)
        self.assertTrue(error is None or (isinstance(error, str) and error))

    def test_bodies_that_escape_are_refused(self):
        escapes = [
            "import os",
            "__import__('os')",
            "source_row.__class__",
            "().__class__.__bases__[0].__subclasses__()",
        ]
        for escape in escapes:
            for prefix in ("", "x = 1\n", "if True:\n    pass\n"):
                with self.subTest(escape=escape, prefix=prefix):
                    self.assertTrue(check_body(prefix + escape))
