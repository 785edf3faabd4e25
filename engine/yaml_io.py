"""The mapping file (MAPPING.md, format 1): YAML text to ``PlanSpec`` and back.

Reading collects every problem of a file, each with its key and line, instead of stopping
at the first: an integrator fixes a file in one pass. Keys are ``<model>.<field>``, split
at the last dot; a model part that is a table name (``res_partner``) is resolved to its model.
"""

import difflib
import re
import textwrap

import yaml

from .bodies import FINISH_ARGUMENTS, check_body
from .spec import (
    ANY_MODULE,
    DEFAULT_OPTIONS,
    HOOKS,
    NO_SOURCE,
    OPTION_CHOICES,
    WILDCARD,
    FieldRule,
    ModelRule,
    PlanSpec,
    Problem,
)

FORMAT = 1
SIMPLE_STATEMENTS = {
    "__copy__": "copy",
    "__forget__": "forget",
    "__defer__": "defer",
    "__moved__": "moved",
}
ARGUMENT_STATEMENTS = {"__fk__": "fk", "__ref__": "ref"}
MODEL_KEYS = (
    "__query__",
    "__discriminator__",
    "__mode__",
    "__duplicates__",
    "__unresolved__",
    "__finish__",
)
MODES = ("orm", "sql")
DOMAIN_OPERATORS = ("&", "|", "!")
TERM_OPERATORS = (
    "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like", "ilike",
    "not ilike", "in", "not in", "child_of", "parent_of", "any", "not any",
)  # fmt: skip


class Catalog:
    """What the reader needs to know of the target database: models, tables, modules."""

    def __init__(self, models=(), tables=None, modules=(), fields=None):
        self.models = set(models)
        self.tables = dict(tables or {})  # table name -> model name
        self.modules = set(modules)
        self.fields = fields or {}  # model -> its field names, when known

    def resolve_model(self, name):
        """The model a key's model part names, or None when neither a model nor a table."""
        if name in self.models:
            return name
        if name in self.tables:
            return self.tables[name]
        if "." in name:
            return name  # a model of the source only (renamed or gone in this version)
        return None

    def field_path(self, name):
        """``(model, path)`` when ``name`` reads as a known model followed by one of its
        fields (``res.partner.parent_id``: a field path, not a model), else None."""
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:end])
            model = (
                self.resolve_model(prefix)
                if (prefix in self.models or prefix in self.tables)
                else None
            )
            if model and parts[end] in self.fields.get(model, ()):
                return prefix, ".".join(parts[end:])
        return None


class _Reader:
    def __init__(self, catalog):
        self.catalog = catalog
        self.problems = []
        self.spec = PlanSpec()
        self._loader = yaml.SafeLoader("")

    def problem(self, message, key="", node=None):
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(message, key=key, line=line))

    def value(self, node):
        return self._loader.construct_object(node, deep=True)

    def pairs(self, node, where):
        """The (key, key node, value node) of a mapping node; duplicate keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{where} must be a mapping", where, node)
            return []
        seen = set()
        result = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem("a key must be a plain string", where, key_node)
                continue
            key = key_node.value
            if key in seen:
                self.problem("duplicate key", key, key_node)
                continue
            seen.add(key)
            result.append((key, key_node, value_node))
        return result

    # -- file ---------------------------------------------------------------------------------

    def read_file(self, text):
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(f"not valid YAML: {reason}", line=line))
            return
        if root is None:
            self.problems.append(Problem("the file is empty"))
            return
        sections = {
            "format": self.read_format,
            "plan": self.read_name,
            "options": self.read_options,
            "hooks": self.read_hooks,
            "mapping": self.read_mapping,
        }
        for key, key_node, value_node in self.pairs(root, "the file"):
            if key not in sections:
                self.problem(f"unknown top-level key: use {', '.join(sections)}", key, key_node)
                continue
            sections[key](value_node)
        for rule in self.spec.models:
            # a model moved into another: its plain statements feed the other model
            for field_rule in rule.fields:
                if (
                    rule.target_model != rule.source_model
                    and field_rule.target_model == rule.source_model
                ):
                    field_rule.target_model = rule.target_model

    def read_format(self, node):
        if self.value(node) != FORMAT:
            self.problem(
                f"unsupported format {self.value(node)!r}: this reader knows {FORMAT}",
                "format",
                node,
            )

    def read_name(self, node):
        name = self.value(node)
        if not isinstance(name, str) or not name.strip():
            self.problem("the plan name must be a non-empty string", "plan", node)
        else:
            self.spec.name = name.strip()

    def read_options(self, node):
        for key, key_node, value_node in self.pairs(node, "options"):
            value = self.value(value_node)
            if key == "unresolved" and value is None:
                value = "null"  # an unquoted `null` is YAML's null: the user meant the choice
            if key not in DEFAULT_OPTIONS:
                self.problem(f"unknown option: use {', '.join(DEFAULT_OPTIONS)}", key, key_node)
            elif key == "batch_size":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    self.problem(
                        f"batch_size must be a positive integer, not {value!r}", key, value_node
                    )
                else:
                    self.spec.options[key] = value
            elif key == "active_test":
                if not isinstance(value, bool):
                    self.problem(
                        f"active_test must be true or false, not {value!r}", key, value_node
                    )
                else:
                    self.spec.options[key] = value
            elif value not in OPTION_CHOICES[key]:
                choices = " | ".join(OPTION_CHOICES[key])
                self.problem(f"{key} must be one of {choices}, not {value!r}", key, value_node)
            else:
                self.spec.options[key] = value

    def read_hooks(self, node):
        for key, key_node, value_node in self.pairs(node, "hooks"):
            body = self.value(value_node)
            if key not in HOOKS:
                self.problem(f"unknown hook: use {', '.join(HOOKS)}", key, key_node)
            elif body is not None and not isinstance(body, str):
                self.problem("a hook must be a Python body (a string)", f"hooks.{key}", value_node)
            elif body and body.strip():
                error = check_body(body)
                if error:
                    self.problem(
                        f"Python body does not compile: {error}", f"hooks.{key}", value_node
                    )
                else:
                    self.spec.hooks[key] = body

    # -- mapping ------------------------------------------------------------------------------

    def read_mapping(self, node):
        for module, module_node, section in self.pairs(node, "mapping"):
            if module != ANY_MODULE and self.catalog.modules and module not in self.catalog.modules:
                self.problem(f"unknown module {module!r}", module, module_node)
                continue
            if section.tag == "tag:yaml.org,2002:null":
                continue
            for key, key_node, value_node in self.pairs(section, f"mapping.{module}"):
                self.read_statement(module, key, key_node, value_node)

    def split_key(self, key, key_node):
        """``(model, field)`` of a key, or None after reporting why not."""
        model_part, dot, field_name = key.rpartition(".")
        if not dot or not model_part or not field_name:
            self.problem("a key without a field: write <model>.<field>", key, key_node)
            return None
        model = self.catalog.resolve_model(model_part)
        if model is None:
            self.problem(f"unknown model or table {model_part!r}", key, key_node)
            return None
        if model not in self.catalog.models and model_part not in self.catalog.tables:
            # a model the target does not have: one of the source only (renamed or gone),
            # unless it reads as a field path of a known model
            path = self.catalog.field_path(model_part)
            if path:
                prefix, fields = path
                self.problem(
                    f"a field name cannot contain a dot ({fields}.{field_name!s} of model {prefix})",
                    key,
                    key_node,
                )
                return None
        return model, field_name

    def model_rule(self, model):
        rule = self.spec.model(model)
        if rule is None:
            rule = ModelRule(source_model=model, target_model=model)
            self.spec.models.append(rule)
        return rule

    def read_statement(self, module, key, key_node, value_node):
        split = self.split_key(key, key_node)
        if split is None:
            return
        model, field_name = split
        if field_name in MODEL_KEYS:
            self.read_model_key(module, model, field_name, key, value_node)
            return
        if field_name.startswith("__"):
            self.problem(f"unknown model-level key {field_name!r}", key, key_node)
            return
        rule = self.model_rule(model)
        if isinstance(value_node, yaml.MappingNode):
            targets = []
            for target_key, target_key_node, statement_node in self.pairs(value_node, key):
                target = self.split_key(target_key, target_key_node)
                if target is not None:
                    targets.append((target, statement_node, target_key_node))
        elif isinstance(value_node, yaml.ScalarNode):
            targets = [((model, field_name), value_node, key_node)]
        else:
            self.problem(
                "a statement must be empty, a string, or a mapping of target keys", key, value_node
            )
            return
        for (target_model, target_field), statement_node, where in targets:
            parsed = self.parse_statement(key, statement_node)
            if parsed is None:
                continue
            statement, argument, body = parsed
            if field_name == NO_SOURCE and statement in ("copy", "forget", "defer"):
                self.problem(
                    f"'_' has no source value to {statement}: give a Python body", key, where
                )
                continue
            if statement == "moved":
                if field_name != "id" or target_field != "id":
                    self.problem("__moved__ belongs on <model>.id: <other model>.id", key, where)
                    continue
                rule.target_model = target_model
            if field_name == WILDCARD and target_field != WILDCARD:
                self.problem("a wildcard feeds the same names: <model>.*", key, where)
                continue
            rule.fields.append(
                FieldRule(
                    source_field=field_name,
                    target_model=target_model,
                    target_field=None if target_field == WILDCARD else target_field,
                    statement=statement,
                    argument=argument,
                    body=body,
                    module=module,
                )
            )

    def parse_statement(self, key, node):
        value = self.value(node)
        if value is None or value == "":
            return "copy", "", ""
        if not isinstance(value, str):
            self.problem(f"a statement must be a string, not {value!r}", key, node)
            return None
        text = value.strip()
        if text in SIMPLE_STATEMENTS:
            return SIMPLE_STATEMENTS[text], "", ""
        word, _space, argument = text.partition(" ")
        if word in ARGUMENT_STATEMENTS:
            argument = argument.strip()
            if not argument:
                what = "model" if word == "__fk__" else "field holding the model name"
                self.problem(f"{word} needs its argument: {word} <{what}>", key, node)
                return None
            if word == "__ref__" and "." in argument:
                self.problem(f"__ref__ takes a field of the same row, not {argument!r}", key, node)
                return None
            return ARGUMENT_STATEMENTS[word], argument, ""
        if re.fullmatch(r"__\w+", word):  # a statement's name mistyped, not a Python body
            known = [*SIMPLE_STATEMENTS, *ARGUMENT_STATEMENTS]
            close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.problem(f"unknown statement {word!r}{hint}", key, node)
            return None
        error = check_body(value)
        if error:
            self.problem(f"Python body does not compile: {error}", key, node)
            return None
        return "python", "", textwrap.dedent(value).strip("\n")

    def read_model_key(self, module, model, name, key, node):
        value = self.value(node)
        rule = self.model_rule(model)
        if name == "__query__":
            error = domain_error(value)
            if error:
                self.problem(f"not a valid domain: {error}", key, node)
                return
            rule.domain = value
        elif name == "__mode__":
            if value not in MODES:
                self.problem(f"__mode__ is one of {', '.join(MODES)}, not {value!r}", key, node)
                return
            rule.mode = value
        elif name in ("__duplicates__", "__unresolved__"):
            option = name.strip("_")
            value = "null" if value is None and option == "unresolved" else value
            choices = OPTION_CHOICES[option]
            if value not in choices:
                self.problem(f"{name} is one of {', '.join(choices)}, not {value!r}", key, node)
                return
            setattr(rule, option, value)
        elif name == "__finish__":
            error = check_body(value, FINISH_ARGUMENTS) if isinstance(value, str) else "not a body"
            if error:
                self.problem(f"__finish__, a body of record and source_row: {error}", key, node)
                return
            rule.finish = textwrap.dedent(value).strip("\n")
        else:
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                self.problem("__discriminator__ takes a list of field names", key, node)
                return
            dotted = [v for v in value if "." in v]
            if dotted:
                self.problem(f"a field name cannot contain a dot: {', '.join(dotted)}", key, node)
                return
            rule.discriminator = value
        rule.module = module


def domain_error(domain):
    """Why ``domain`` is not an Odoo domain (a list of terms and operators), or None."""
    if not isinstance(domain, list):
        return f"a domain is a list, not {type(domain).__name__}"
    expected_terms = 1
    for item in domain:
        if isinstance(item, str):
            if item not in DOMAIN_OPERATORS:
                return f"{item!r} is not an operator ({', '.join(DOMAIN_OPERATORS)})"
            expected_terms += 1 if item != "!" else 0
            continue
        if not isinstance(item, list | tuple) or len(item) != 3:
            return f"{item!r} is not a term [field, operator, value]"
        field_name, operator, _value = item
        if not isinstance(field_name, str) or not field_name:
            return f"{item!r}: the field must be a name"
        if operator not in TERM_OPERATORS:
            return f"{item!r}: unknown operator {operator!r}"
        expected_terms -= 1
    if domain and expected_terms > 0:
        return "an operator lacks its terms"
    return None


def parse_plan(text, catalog):
    """``(PlanSpec, problems)``; the spec is only meaningful when ``problems`` is empty."""
    reader = _Reader(catalog)
    reader.read_file(text)
    return reader.spec, reader.problems


# -- writing ------------------------------------------------------------------------------------


class _Literal(str):
    """A multi-line Python body, written as a ``|`` block."""


class _Flow(list):
    """A list written on one line: ``[a, b]``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Literal, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
)
_Dumper.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True),
)
_Dumper.add_representer(
    type(None), lambda dumper, _data: dumper.represent_scalar("tag:yaml.org,2002:null", "")
)


def _statement_text(rule):
    if rule.statement == "python":
        body = rule.body.strip("\n")
        return _Literal(textwrap.dedent(body) + "\n") if "\n" in body else body
    if rule.statement == "copy":
        return None
    if rule.statement in ("fk", "ref"):
        return f"__{rule.statement}__ {rule.argument}"
    return f"__{rule.statement}__"


def _flow(value):
    if isinstance(value, list | tuple):
        return _Flow(_flow(item) for item in value)
    return value


def _rule_sections(rule):
    """``{module: {key: statement}}`` of one model rule, as the file writes them."""
    sections = {}
    model_keys = (
        rule.discriminator,
        rule.mode != "orm",
        rule.duplicates,
        rule.unresolved,
        rule.finish,
    )
    if rule.domain is not None or any(model_keys):
        section = sections.setdefault(rule.module or ANY_MODULE, {})
        if rule.domain is not None:
            section[f"{rule.source_model}.__query__"] = _Flow(_flow(term) for term in rule.domain)
        if rule.discriminator:
            section[f"{rule.source_model}.__discriminator__"] = _Flow(rule.discriminator)
        if rule.mode != "orm":
            section[f"{rule.source_model}.__mode__"] = rule.mode
        if rule.duplicates:
            section[f"{rule.source_model}.__duplicates__"] = rule.duplicates
        if rule.unresolved:
            section[f"{rule.source_model}.__unresolved__"] = rule.unresolved
        if rule.finish:
            body = rule.finish.strip("\n")
            section[f"{rule.source_model}.__finish__"] = (
                _Literal(body + "\n") if "\n" in body else body
            )
    for field_rule in rule.fields:
        section = sections.setdefault(field_rule.module or ANY_MODULE, {})
        source_key = f"{rule.source_model}.{field_rule.source_field}"
        target_key = f"{field_rule.target_model}.{field_rule.target_field or WILDCARD}"
        statement = _statement_text(field_rule)
        entry = section.get(source_key, ...)
        if entry is ...:
            if target_key == source_key and field_rule.statement != "python":
                section[source_key] = statement  # the short form: same model, same field
            else:
                section[source_key] = {target_key: statement}
            continue
        if not isinstance(entry, dict):
            entry = section[source_key] = {source_key: entry}
        entry[target_key] = statement
    return sections


def dump_plan(spec):
    """The YAML text of ``spec``; reading it back gives the same statements."""
    document = {"format": FORMAT}
    if spec.name:
        document["plan"] = spec.name
    document["options"] = {
        name: spec.options.get(name, default) for name, default in DEFAULT_OPTIONS.items()
    }
    hooks = {name: spec.hooks[name] for name in HOOKS if (spec.hooks.get(name) or "").strip()}
    if hooks:
        document["hooks"] = {
            name: _Literal(body.strip("\n") + "\n") if "\n" in body.strip() else body.strip()
            for name, body in hooks.items()
        }
    sections = [_rule_sections(rule) for rule in spec.models]
    # One order whatever the order the rules came in, so that an export read back exports
    # the same text: '*' then the modules by name, a rule under the first section it is in.
    modules = sorted(
        {m for by_module in sections for m in by_module}, key=lambda m: (m != ANY_MODULE, m)
    )
    first = [min(modules.index(m) for m in by_module) if by_module else 0 for by_module in sections]
    ordered = [sections[i] for i in sorted(range(len(sections)), key=first.__getitem__)]
    mapping = {}
    for module in modules:
        for by_module in ordered:
            if module in by_module:
                mapping.setdefault(module, {}).update(by_module[module])
    document["mapping"] = mapping
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
