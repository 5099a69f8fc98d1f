"""The order lifecycle drawn as SVG from `GET /lifecycle` (states and transitions as data).

Main stages run left to right on the top row, side states sit on a lower row under the
stages they connect to; each (source, destination) pair is one arrow labelled with its
triggers (and guards), so the drawing always matches the service's declaration.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

BOX_W, BOX_H, GAP = 104, 34, 126
TOP, SIDE = 70, 300


def _sources(t: dict[str, Any]) -> list[str]:
    src = t.get("source")
    return list(src) if isinstance(src, list | tuple) else [str(src)]


def _layout(main: list[str], side: list[str], pairs: dict) -> dict[str, tuple[float, float]]:
    pos: dict[str, tuple[float, float]] = {s: (20.0 + i * GAP, TOP) for i, s in enumerate(main)}
    wanted = []
    for s in side:
        xs = [pos[o][0] for a, b in pairs for o in (a, b) if s in (a, b) and o in pos]
        wanted.append((sum(xs) / len(xs) if xs else 20, s))
    x_min = 20.0
    for x, s in sorted(wanted):
        x = max(x, x_min)
        pos[s] = (x, SIDE)
        x_min = x + GAP
    return pos


def _edge(a: tuple[float, float], b: tuple[float, float], label: str) -> str:
    (ax, ay), (bx, by) = a, b
    if ay == by:  # same row: straight when neighbours going right, else an arc
        forward = bx > ax and bx - ax <= GAP + 1
        if forward:
            x1, y1, x2, y2 = ax + BOX_W, ay + BOX_H / 2, bx, by + BOX_H / 2
            path, lx, ly = f"M{x1},{y1} L{x2},{y2}", (x1 + x2) / 2, y1 - 6
        else:
            lift = -(28 + abs(bx - ax) / 8) if ay == TOP else 28 + abs(bx - ax) / 8
            edge_y = ay if ay == TOP else ay + BOX_H
            x1, x2 = ax + BOX_W / 2, bx + BOX_W / 2
            path = f"M{x1},{edge_y} Q{(x1 + x2) / 2},{edge_y + 2 * lift} {x2},{edge_y}"
            lx, ly = (x1 + x2) / 2, edge_y + lift + (4 if lift > 0 else -2)
    else:
        down = by > ay
        x1, y1 = ax + BOX_W / 2, ay + (BOX_H if down else 0)
        x2, y2 = bx + BOX_W / 2 + (8 if down else -8), by + (0 if down else BOX_H)
        x1 += -8 if down else 8
        path, lx, ly = f"M{x1},{y1} L{x2},{y2}", x1 + (x2 - x1) * 0.3, y1 + (y2 - y1) * 0.3
    text = escape(label)
    return (
        f'<g class="edge"><title>{text}</title><path d="{path}" fill="none" stroke="#7a8594" '
        f'marker-end="url(#arrow)"/><text x="{lx:.0f}" y="{ly:.0f}" font-size="9" '
        f'text-anchor="middle" fill="#4a5563">{text}</text></g>'
    )


def lifecycle_svg(lifecycle: dict[str, Any]) -> str:
    main = list(lifecycle.get("main_stages") or lifecycle.get("states") or [])
    side = [s for s in lifecycle.get("states", []) if s not in main]
    terminal = set(lifecycle.get("terminal") or [])
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in lifecycle.get("transitions", []):
        guard = t.get("conditions") or t.get("guard")
        guards = guard if isinstance(guard, list) else [guard] if guard else []
        label = t["trigger"] + (f" [{', '.join(guards)}]" if guards else "")
        for src in _sources(t):
            if label not in pairs[(src, t["dest"])]:
                pairs[(src, t["dest"])].append(label)
    pos = _layout(main, side, pairs)
    width = max(x for x, _ in pos.values()) + BOX_W + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {SIDE + 110}" '
        f'role="img" aria-label="order lifecycle" font-family="system-ui, sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#7a8594"/></marker></defs>',
    ]
    for (a, b), labels in pairs.items():
        if a in pos and b in pos:
            parts.append(_edge(pos[a], pos[b], ", ".join(labels)))
    for state, (x, y) in pos.items():
        fill = "#e8ecf2" if state in main else "#fff4d6"
        stroke = 3 if state in terminal else 1
        parts.append(
            f'<g class="state" data-state="{escape(state)}"><rect x="{x}" y="{y}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#1d2430" '
            f'stroke-width="{stroke}"/><text x="{x + BOX_W / 2}" y="{y + 22}" font-size="13" '
            f'text-anchor="middle">{escape(state)}</text></g>'
        )
    if hold := lifecycle.get("hold"):
        note = escape(str(hold))
        parts.append(f'<text x="20" y="{SIDE + 100}" font-size="11" fill="#5f6b7a">{note}</text>')
    parts.append("</svg>")
    return "".join(parts)
