"""A picture of a plan: its models in the order a run writes them, the relations that set
that order, and the fields left to the second pass to break a cycle. Plain SVG, made on the
server, shown in the plan's form."""

from collections import defaultdict
from html import escape

BOX_WIDTH, BOX_HEIGHT, PITCH, MARGIN = 300, 26, 40, 16
ARC_STEP, ARC_MAX = 16, 360
LABEL_FIELDS = 3  # field names written on an arrow, the rest counted


def plan_svg(order, edges, deferred):
    """The SVG text; ``order``: models in run order, ``edges``: ``Edge``s (model.field points
    to target), ``deferred``: ``{(model, field)}`` written by the second pass."""
    row = {model: index for index, model in enumerate(order)}
    arrows = defaultdict(list)  # (model, target, deferred) -> field names
    for edge in edges:
        if edge.model in row and edge.target in row and edge.model != edge.target:
            later = (edge.model, edge.field) in deferred
            arrows[(edge.model, edge.target, later)].append(edge.field)
    selfs = defaultdict(list)
    for model, name in sorted(deferred):
        if model in row and not any(
            key[0] == model and name in names for key, names in arrows.items()
        ):
            selfs[model].append(name)
    left = MARGIN + ARC_MAX + 140  # room for the second pass's arrows and their labels
    right_edge = left + BOX_WIDTH
    width = right_edge + ARC_MAX + 180
    height = MARGIN * 2 + PITCH * max(1, len(order)) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="o_rdm_plan_picture" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<defs>"
        '<marker id="rdm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>'
        '<marker id="rdm-later" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d9822b"/></marker>'
        "</defs>",
        f'<text x="{left}" y="{MARGIN + 4}" fill="#555">written first</text>',
        f'<text x="{MARGIN}" y="{MARGIN + 4}" fill="#d9822b">second pass (breaks a cycle)</text>',
    ]

    def middle(model):
        return MARGIN + 20 + PITCH * row[model] + BOX_HEIGHT / 2

    for (model, target, later), names in sorted(
        arrows.items(), key=lambda i: (row[i[0][0]], row[i[0][1]])
    ):
        y1, y2 = middle(model), middle(target)
        bulge = min(ARC_MAX, ARC_STEP * (abs(row[model] - row[target]) + 1))
        label = ", ".join(names[:LABEL_FIELDS]) + (
            f" +{len(names) - LABEL_FIELDS}" if len(names) > LABEL_FIELDS else ""
        )
        if later:
            x, cx, color, marker, dash = (
                left,
                left - bulge,
                "#d9822b",
                "rdm-later",
                ' stroke-dasharray="5,3"',
            )
            anchor, lx = "end", left - bulge * 0.75 - 4
        else:
            x, cx, color, marker, dash = right_edge, right_edge + bulge, "#555", "rdm-arrow", ""
            anchor, lx = "start", right_edge + bulge * 0.75 + 4
        parts.append(
            f'<path d="M{x},{y1} C{cx},{y1} {cx},{y2} {x},{y2}" fill="none" stroke="{color}" '
            f'stroke-width="1.2"{dash} marker-end="url(#{marker})"><title>{escape(model)}.'
            f"{escape(', '.join(names))} → {escape(target)}</title></path>"
        )
        parts.append(
            f'<text x="{lx}" y="{(y1 + y2) / 2 + 4}" text-anchor="{anchor}" fill="{color}">'
            f"{escape(label)}</text>"
        )
    for index, model in enumerate(order):
        y = MARGIN + 20 + PITCH * index
        later = selfs.get(model)
        parts.append(
            f'<rect x="{left}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="4" '
            f'fill="#f4f6f8" stroke="#71639e"/>'
            f'<text x="{left + 8}" y="{y + 17}" fill="#222">{index + 1}. {escape(model)}</text>'
        )
        if later:
            parts.append(
                f'<text x="{left + BOX_WIDTH - 6}" y="{y + 17}" text-anchor="end" fill="#d9822b">'
                f"↻ {escape(', '.join(later[:LABEL_FIELDS]))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
