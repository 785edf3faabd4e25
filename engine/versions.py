"""What changed in Odoo's core apps between versions, as the plan generator applies it.

The facts are data (``data/version_changes.yaml``): renamed, merged or removed models,
renamed or removed fields, and selection values that became others. An entry applies to a
source older than its ``version`` migrated into a target of that version or later; entries
chain in version order (a field renamed in 13.0 then again in 14.0).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CHANGES_FILE = Path(__file__).resolve().parent.parent / "data" / "version_changes.yaml"
KINDS = ("model_renamed", "model_removed", "field_renamed", "field_removed", "selection_changed")


def major(version):
    """12 of "12.0", "saas~12.3", 12, (12, 0, ...)."""
    if isinstance(version, list | tuple):
        version = version[0]
    if isinstance(version, int):
        return version
    match = re.search(r"\d+", str(version).split("~")[-1])
    if not match:
        raise ValueError(f"not an Odoo version: {version!r}")
    return int(match.group())


def load_changes(path=CHANGES_FILE):
    entries = yaml.safe_load(Path(path).read_text()) or []
    for entry in entries:
        if entry.get("kind") not in KINDS:
            raise ValueError(f"{path}: entry {entry.get('id')!r} has an unknown kind")
    # within a version, renamed and removed fields name their model as it was before the
    # version's model renames, changed selections as it is after them
    step = {"field_renamed": 0, "field_removed": 0, "model_renamed": 1, "model_removed": 1}
    return sorted(entries, key=lambda e: (major(e["version"]), step.get(e["kind"], 2)))


@dataclass
class FieldFate:
    """What becomes of one source field on the target."""

    model: str | None  # None: the model is gone
    field: str | None  # None: the field is gone
    values: dict = field(default_factory=dict)  # old value -> {target field: value}
    entries: list = field(default_factory=list)  # the ids of the entries applied


class VersionChanges:
    """The entries that apply between a source and a target version."""

    def __init__(self, entries, source_version, target_version=18):
        low, high = major(source_version), major(target_version)
        self.entries = [e for e in entries if low < major(e["version"]) <= high]

    def model_fate(self, model):
        """``(target model or None, [entry ids])`` of a source model."""
        applied = []
        for entry in self.entries:
            if entry["model"] != model:
                continue
            if entry["kind"] == "model_renamed":
                model = entry["new_model"]
                applied.append(entry["id"])
            elif entry["kind"] == "model_removed":
                return None, applied + [entry["id"]]
        return model, applied

    def field_fate(self, model, name):
        """The ``FieldFate`` of ``model.name`` of the source, every step applied."""
        fate = FieldFate(model, name)
        for entry in self.entries:
            if fate.model is None or fate.field is None:
                break
            kind = entry["kind"]
            if entry["model"] != fate.model:
                continue
            if kind == "model_renamed":
                fate.model = entry["new_model"]
            elif kind == "model_removed":
                fate.model = None
            elif entry.get("field") != fate.field:
                continue
            elif kind == "field_renamed":
                fate.model = entry.get("new_model") or fate.model
                fate.field = entry["new_field"]
            elif kind == "field_removed":
                fate.field = None
            elif kind == "selection_changed":
                fate.values = _compose(fate.values, fate.field, entry["values"])
            else:
                continue
            fate.entries.append(entry["id"])
        return fate

    def entry(self, entry_id):
        return next(e for e in self.entries if e["id"] == entry_id)


def _compose(earlier, name, later):
    """The value map of two selection changes in a row, from the source's values."""
    if not earlier:
        return {value: dict(target) for value, target in later.items()}
    composed = {}
    for value, target in earlier.items():
        composed[value] = dict(target)
        if target.get(name) in later:
            composed[value].update(later[target[name]])
    for value, target in later.items():
        composed.setdefault(value, dict(target))
    return composed
