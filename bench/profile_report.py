"""Where the time goes: py-spy's collapsed stacks (``--format raw``) made into a flame graph
(SVG) and a table of the functions that hold the most samples.

    python bench/profile_report.py .build/profile.txt .build/profile.svg

The table counts, per function, the samples whose stack holds it (inclusive, once per
stack) and the samples it was running itself (self), in percent of all samples.
"""

import argparse
import re
from collections import Counter
from html import escape

FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
WIDTH, ROW = 1400, 17
TOP = 20


def read_stacks(path):
    stacks = Counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            stack, _space, count = line.rstrip("\n").rpartition(" ")
            if stack and count.isdigit():
                stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def function_of(frame):
    """``name (short/file.py)`` of a py-spy frame, its line number dropped."""
    match = FRAME.match(frame)
    if not match:
        return frame
    parts = match["file"].split("/")
    return f"{match['name']} ({'/'.join(parts[-2:])})"


def table(stacks):
    total = sum(stacks.values()) or 1
    inclusive, own = Counter(), Counter()
    for stack, count in stacks.items():
        functions = [function_of(frame) for frame in stack]
        for function in set(functions):
            inclusive[function] += count
        own[functions[-1]] += count
    return total, inclusive, own


def flame_svg(stacks, title):
    """A flame graph: the root at the bottom, each frame as wide as its samples."""
    tree = {}
    for stack, count in stacks.items():
        node = tree
        for frame in stack:
            entry = node.setdefault(frame, [0, {}])
            entry[0] += count
            node = entry[1]
    total = sum(stacks.values()) or 1
    depth = max((len(stack) for stack in stacks), default=1)
    height = (depth + 2) * ROW
    boxes = []

    def draw(node, x, level):
        for frame, (count, children) in sorted(node.items()):
            width = WIDTH * count / total
            if width >= 0.5:
                y = height - (level + 1) * ROW
                hue = 20 + hash(function_of(frame)) % 40
                label = escape(function_of(frame))
                boxes.append(
                    f'<g><title>{escape(frame)} ({count} samples, {100 * count / total:.1f}%)</title>'
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 1}" '
                    f'fill="hsl({hue},85%,60%)"/>'
                    + (f'<text x="{x + 3:.1f}" y="{y + ROW - 5}" font-size="11">'
                       f"{label[: int(width / 7)]}</text>" if width > 40 else "")
                    + "</g>"
                )  # fmt: skip
                draw(children, x, level + 1)
            x += width

    draw(tree, 0.0, 0)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="monospace"><text x="4" y="14" font-size="13">{escape(title)}</text>'
        + "".join(boxes)
        + "</svg>"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", help="py-spy record --format raw output")
    parser.add_argument("svg", help="the flame graph to write")
    args = parser.parse_args()
    stacks = read_stacks(args.stacks)
    total, inclusive, own = table(stacks)
    with open(args.svg, "w", encoding="utf-8") as handle:
        handle.write(flame_svg(stacks, f"{args.stacks}: {total} samples"))
    print(f"{total} samples; flame graph: {args.svg}\n")
    print(f"| {'function':<70} | inclusive | self |")
    print(f"|{'-' * 72}|-----------|------|")
    # the process's own entry points hold every sample: left out
    shown = [(f, count) for f, count in inclusive.most_common() if count < total][:TOP]
    for function, count in shown:
        print(
            f"| {function[:70]:<70} | {100 * count / total:8.1f}% | {100 * own[function] / total:4.1f}% |"
        )


if __name__ == "__main__":
    main()
