"""The order lifecycle drawn as SVG from `GET /lifecycle` (states and transitions as data).

Main stages run left to right on the top row, side states sit on a lower row under the
stages they connect to; each (source, destination) pair is one arrow. Arrows along a row
carry their triggers (and guards); arrows between the rows are many, so each side state
lists under it the triggers that lead in and out (every arrow also has a tooltip). The
drawing is made from the service's declaration, so it always matches it.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

BOX_W, BOX_H, GAP = 104, 34, 150
TOP, SIDE = 70, 300
MIN_WIDTH = 1000
Pairs = dict[tuple[str, str], list[str]]


def _pairs(transitions: list[dict[str, Any]]) -> Pairs:
    """(source, dest) → its trigger labels, `trigger [guard]`."""
    pairs: Pairs = defaultdict(list)
    for t in transitions:
        guard = t.get("conditions") or t.get("guard")
        guards = guard if isinstance(guard, list) else [guard] if guard else []
        label = t["trigger"] + (f" [{', '.join(map(str, guards))}]" if guards else "")
        src = t.get("source")
        for source in src if isinstance(src, list | tuple) else [src]:
            if label not in pairs[(str(source), t["dest"])]:
                pairs[(str(source), t["dest"])].append(label)
    return pairs


def _layout(main: list[str], side: list[str], pairs: Pairs) -> dict[str, tuple[float, float]]:
    pos: dict[str, tuple[float, float]] = {s: (20.0 + i * GAP, TOP) for i, s in enumerate(main)}
    wanted: dict[str, float] = {}
    for _ in range(2):  # a side state tied only to side states is placed on the 2nd pass
        for s in side:
            near = {o for a, b in pairs if s in (a, b) for o in (a, b) if o != s}
            on_top = [pos[o][0] for o in near if o in pos]
            beside = [wanted[o] + GAP / 2 for o in near if o not in pos and o in wanted]
            if on_top or beside:
                xs = on_top or beside
                wanted[s] = sum(xs) / len(xs)
    x_min = 20.0
    for s in sorted(side, key=lambda s: (wanted.get(s, 1e9), s)):
        x = max(wanted.get(s, x_min), x_min)
        pos[s] = (x, SIDE)
        x_min = x + GAP
    return pos


def _edge(a: tuple[float, float], b: tuple[float, float], label: str) -> str:
    (ax, ay), (bx, by) = a, b
    text = ""
    if ay == by and 0 < bx - ax <= GAP + 1:  # neighbours on a row, going right
        x1, y, x2 = ax + BOX_W, ay + BOX_H / 2, bx
        path = f"M{x1},{y} L{x2},{y}"
        text = f'<text x="{(x1 + x2) / 2:.0f}" y="{y - 6:.0f}">{escape(label)}</text>'
    elif ay == by:  # farther along a row, or backwards: an arc above (top) or below (side)
        up = ay == TOP
        edge_y = ay if up else ay + BOX_H
        bend = (30 + abs(bx - ax) / 10) * (-1 if up else 1)
        x1, x2 = ax + BOX_W / 2, bx + BOX_W / 2
        path = f"M{x1},{edge_y} Q{(x1 + x2) / 2},{edge_y + 2 * bend} {x2},{edge_y}"
        ty = edge_y + bend + (10 if not up else -2)
        text = f'<text x="{(x1 + x2) / 2:.0f}" y="{ty:.0f}">{escape(label)}</text>'
    else:  # between the rows: named under the side state instead
        down = by > ay
        x1, y1 = ax + BOX_W / 2 + (-8 if down else 8), ay + (BOX_H if down else 0)
        x2, y2 = bx + BOX_W / 2 + (8 if down else -8), by + (0 if down else BOX_H)
        path = f"M{x1},{y1} L{x2},{y2}"
    return (
        f'<g class="edge"><title>{escape(label)}</title><path d="{path}" fill="none" '
        f'stroke="#8a94a3" marker-end="url(#arrow)"/>{text}</g>'
    )


def _box(state: str, x: float, y: float, main: bool, terminal: bool) -> str:
    fill = "#e8ecf2" if main else "#fff4d6"
    return (
        f'<g class="state" data-state="{escape(state)}"><rect x="{x}" y="{y}" width="{BOX_W}" '
        f'height="{BOX_H}" rx="6" fill="{fill}" stroke="#1d2430" '
        f'stroke-width="{3 if terminal else 1}"/><text x="{x + BOX_W / 2}" y="{y + 22}" '
        f'font-size="13" fill="#1d2430">{escape(state)}</text></g>'
    )


def _caption(state: str, x: float, pairs: Pairs, main: set[str]) -> str:
    """Under a side state: the triggers leading in from / out to the main stages."""
    into = sorted({lb for (a, b), lbs in pairs.items() if b == state and a in main for lb in lbs})
    out = sorted({lb for (a, b), lbs in pairs.items() if a == state and b in main for lb in lbs})
    lines = [f"in: {', '.join(into)}"] if into else []
    lines += [f"out: {', '.join(out)}"] if out else []
    tspans = "".join(
        f'<tspan x="{x}" dy="{12 if i else 0}">{escape(line)}</tspan>'
        for i, line in enumerate(_wrap(lines))
    )
    return (
        f'<text class="caption" x="{x}" y="{SIDE + BOX_H + 16}" text-anchor="start">{tspans}</text>'
    )


def _wrap(lines: list[str], width: int = 26) -> list[str]:
    out: list[str] = []
    for line in lines:
        current = ""
        for word in line.split(" "):
            if current and len(current) + len(word) > width:
                out.append(current)
                current = "  "
            current += word + " "
        out.append(current.rstrip())
    return out


def lifecycle_svg(lifecycle: dict[str, Any]) -> str:
    states = list(lifecycle.get("states") or [])
    main = list(lifecycle.get("main_stages") or states)
    side = [s for s in states if s not in main]
    terminal = set(lifecycle.get("terminal") or [])
    pairs = _pairs(lifecycle.get("transitions") or [])
    pos = _layout(main, side, pairs)
    width = max(MIN_WIDTH, max(x for x, _ in pos.values()) + BOX_W + 20)
    height = SIDE + BOX_H + 110 if side else TOP + BOX_H + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height}" '
        f'role="img" aria-label="lifecycle" font-family="system-ui, sans-serif" '
        f'font-size="10" fill="#4a5563" text-anchor="middle">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#8a94a3"/></marker></defs>',
    ]
    parts += [
        _edge(pos[a], pos[b], ", ".join(lb)) for (a, b), lb in pairs.items() if {a, b} <= set(pos)
    ]
    parts += [_box(s, x, y, s in main, s in terminal) for s, (x, y) in pos.items()]
    parts += [_caption(s, pos[s][0], pairs, set(main)) for s in side]
    if hold := lifecycle.get("hold"):
        parts.append(
            f'<text x="20" y="{height - 8}" text-anchor="start">{escape(str(hold))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
