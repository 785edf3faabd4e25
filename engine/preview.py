"""What a rule makes of the first rows of its model, without writing anything.

The rows are read and transformed as a run would (references resolved through the id map,
bodies run), and nothing is written: the caller rolls back whatever a body might do.
"""

from dataclasses import dataclass, field

from .transformer import RowFailure, RowSkipped


@dataclass
class PreviewRow:
    source_id: int
    source: dict  # the source row as read, minus its id
    targets: dict = field(default_factory=dict)  # {target model: vals}
    outcome: str = "written"  # written | skipped | fails
    message: str = ""


def preview(ctx, model, limit=5):
    """``[PreviewRow]`` of the first ``limit`` records of ``model`` the rule reads."""
    compiled = ctx.compiled(model)
    domain = list(compiled.rule.domain or [])
    pages = ctx.transport.read_batches(
        model, compiled.read_fields, domain, batch_size=limit, context=ctx.source_context()
    )
    rows = next(iter(pages), [])[:limit]
    ctx.resolver.resolve(compiled.references(rows))
    previews = []
    for row in rows:
        shown = PreviewRow(row["id"], {k: v for k, v in row.items() if k != "id"})
        try:
            shown.targets = compiled.transform(row)
        except RowSkipped as exc:
            shown.outcome, shown.message = "skipped", str(exc)
        except RowFailure as exc:
            shown.outcome, shown.message = "fails", str(exc)
        if shown.outcome == "written" and compiled.deferred:
            try:  # what the second pass adds, when it can be told already
                for target_model, vals in compiled.transform(row, compiled.deferred).items():
                    shown.targets.setdefault(target_model, {}).update(vals)
            except (RowSkipped, RowFailure) as exc:
                shown.message = f"second pass: {exc}"
        previews.append(shown)
    return previews
