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
    many: bool = False  # a many2many: the first to wait for the second pass when breaking a cycle


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
        # the first model of the given order whose needs are met: the order is kept wherever
        # no relation forces another
        ready = next((model for model in remaining if not needs[model]), None)
        if ready:
            result.models.append(ready)
            remaining.remove(ready)
            continue
        # Every remaining model waits on another: a cycle.
        cycle = _find_cycle(remaining, needs)
        breakable = [edge for edge in cycle if not edge.required]
        if break_cycles and breakable:
            # one edge of the cycle waits for the second pass: a many2many first (a many2one
            # may be needed by a constraint of its record), then the field of the model with
            # the fewest needs
            edge = min(
                breakable, key=lambda e: (not e.many, len(needs[e.model]), remaining.index(e.model))
            )
            result.deferred.add((edge.model, edge.field))
            active.remove(edge)
            continue
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
