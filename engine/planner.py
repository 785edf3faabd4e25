"""The order in which models are written, and the relational fields left for a second pass.

A model comes after the models its relational fields point to. A self-reference is always
written in the second pass (deferred); any other cycle needs one of its fields deferred,
either by the plan (``__defer__``) or, for the plan generator, by ``break_cycles``, which
defers optional fields only: a required field must be written with its record.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edge:
    """``model.field`` points to ``target``: ``model`` needs ``target`` written first."""

    model: str
    field: str
    target: str
    required: bool = False


@dataclass
class Order:
    models: list = field(default_factory=list)
    deferred: set = field(default_factory=set)  # (model, field) written in the second pass
    cycles: list = field(default_factory=list)  # lists of edges no deferral breaks


def plan_order(models, edges, deferred=(), break_cycles=False):
    """Order ``models`` (a list, whose order breaks ties) along ``edges``."""
    result = Order(deferred=set(deferred))
    for edge in edges:
        if edge.model == edge.target:
            result.deferred.add((edge.model, edge.field))
    active = [
        edge
        for edge in edges
        if (edge.model, edge.field) not in result.deferred and edge.target in models
    ]
    remaining = list(models)
    while remaining:
        pending = set(remaining)
        needs = {
            model: [e for e in active if e.model == model and e.target in pending]
            for model in remaining
        }
        ready = [model for model in remaining if not needs[model]]
        if ready:
            result.models.extend(ready)
            remaining = [model for model in remaining if model not in ready]
            continue
        # Every remaining model waits on another: a cycle.
        breakable = [model for model in remaining if not any(e.required for e in needs[model])]
        if break_cycles and breakable:
            model = min(breakable, key=lambda m: (len(needs[m]), remaining.index(m)))
            result.deferred.update((e.model, e.field) for e in needs[model])
        else:
            cycle = _find_cycle(remaining, needs)
            result.cycles.append(cycle)
            model = cycle[0].model
        result.models.append(model)
        remaining.remove(model)
    return result


def _find_cycle(remaining, needs):
    """One cycle among ``remaining`` models, as its edges."""
    path, seen_at = [], {}
    model = remaining[0]
    while model not in seen_at:
        seen_at[model] = len(path)
        edge = needs[model][0]
        path.append(edge)
        model = edge.target
    return path[seen_at[model] :]


def describe_cycle(cycle):
    return " -> ".join(f"{edge.model}.{edge.field}" for edge in cycle) + f" -> {cycle[0].model}"
