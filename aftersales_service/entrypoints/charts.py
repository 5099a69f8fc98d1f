"""Hand-written SVG charts (no plotting libraries): pie, bars, timeline."""

from __future__ import annotations

import math
from html import escape

COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
FONT = 'font-family="sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<text x="10" y="20" {FONT} font-weight="bold">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def pie(title: str, slices: list[tuple[str, float]]) -> str:
    """A pie with a legend; a single slice is drawn as a full circle."""
    total = sum(v for _, v in slices)
    cx, cy, r = 140, 160, 110
    body: list[str] = []
    if total <= 0:
        body.append(f'<text x="{cx - 30}" y="{cy}" {FONT}>no data</text>')
        return _svg(420, 300, title, body)
    angle = -math.pi / 2
    for i, (label, value) in enumerate(slices):
        color = COLORS[i % len(COLORS)]
        sweep = 2 * math.pi * value / total
        if sweep >= 2 * math.pi - 1e-9:
            body.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{color}"/>')
        elif sweep > 0:
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(angle + sweep), cy + r * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            body.append(
                f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{r},{r} 0 {large} 1 {x2:.2f},{y2:.2f} Z"'
                f' fill="{color}"><title>{escape(label)}: {value:g}</title></path>'
            )
        angle += sweep
        ly = 50 + i * 20
        body.append(f'<rect x="270" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
        body.append(
            f'<text x="288" y="{ly}" {FONT}>{escape(label)} ({100 * value / total:.1f}%)</text>'
        )
    return _svg(420, 300, title, body)


def bars(title: str, items: list[tuple[str, float]], threshold: float | None = None) -> str:
    """Horizontal bars of rates in [0, 1]; an optional dashed threshold line."""
    left, width, row = 120, 300, 22
    height = 50 + row * max(len(items), 1)
    top = max([v for _, v in items] + [threshold or 0, 1e-9])
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = 35 + i * row
        w = width * value / top
        color = "#e15759" if threshold is not None and value > threshold else "#4e79a7"
        body.append(
            f'<text x="{left - 6}" y="{y + 13}" {FONT} text-anchor="end">{escape(label)}</text>'
        )
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
        body.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" {FONT}>{100 * value:.1f}%</text>')
    if threshold is not None:
        x = left + width * threshold / top
        body.append(
            f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{height - 10}" '
            'stroke="#333" stroke-dasharray="4 3"/>'
        )
    return _svg(left + width + 80, height, title, body)


def timeline(title: str, points: list[tuple[str, int]]) -> str:
    """Returns per day as a polyline with dots; first and last day labelled."""
    w, h, pad = 600, 260, 40
    body: list[str] = []
    if not points:
        body.append(f'<text x="{w / 2 - 30}" y="{h / 2}" {FONT}>no data</text>')
        return _svg(w, h, title, body)
    top = max(v for _, v in points) or 1
    step = (w - 2 * pad) / max(len(points) - 1, 1)
    coords = [
        (pad + i * step, h - pad - (h - 2 * pad) * v / top) for i, (_, v) in enumerate(points)
    ]
    body.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>')
    body.append(
        '<polyline fill="none" stroke="#4e79a7" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        + '"/>'
    )
    for (x, y), (day, v) in zip(coords, points, strict=True):
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#4e79a7">'
            f"<title>{escape(day)}: {v}</title></circle>"
        )
    body.append(f'<text x="{pad}" y="{h - pad + 16}" {FONT}>{escape(points[0][0])}</text>')
    body.append(
        f'<text x="{w - pad}" y="{h - pad + 16}" {FONT} text-anchor="end">'
        f"{escape(points[-1][0])}</text>"
    )
    body.append(f'<text x="{pad - 4}" y="{pad}" {FONT} text-anchor="end">{top}</text>')
    return _svg(w, h, title, body)
