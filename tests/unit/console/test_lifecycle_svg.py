"""The lifecycle drawing is made from the declaration: every state a box, every move an arrow."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from console.lifecycle_svg import lifecycle_svg
from order_service.domain import lifecycle

SVG = "{http://www.w3.org/2000/svg}"


def _declared() -> dict:
    return {
        "states": list(lifecycle.STATES),
        "main_stages": list(lifecycle.MAIN_STAGES),
        "terminal": list(lifecycle.TERMINAL),
        "transitions": lifecycle.TRANSITIONS,
        "hold": "held is a flag",
    }


def test_every_state_is_a_box_and_every_source_dest_pair_an_arrow_with_its_triggers():
    svg = ET.fromstring(lifecycle_svg(_declared()))
    boxes = {g.get("data-state") for g in svg.iter(f"{SVG}g") if g.get("class") == "state"}
    assert boxes == set(lifecycle.STATES)
    titles = [t.text or "" for g in svg.iter(f"{SVG}g") if g.get("class") == "edge"
              for t in g.iter(f"{SVG}title")]  # fmt: skip
    pairs = set()
    for t in lifecycle.TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list | tuple) else [t["source"]]
        pairs |= {(s, t["dest"]) for s in sources}
    assert len(titles) == len(pairs)
    for t in lifecycle.TRANSITIONS:
        assert any(re.search(rf"\b{t['trigger']}\b", title) for title in titles), t["trigger"]


def test_state_names_are_escaped():
    svg = lifecycle_svg({"states": ["a<b", "c"], "transitions": [
        {"trigger": "go&", "source": "a<b", "dest": "c"}]})  # fmt: skip
    ET.fromstring(svg)  # well-formed
    assert "a&lt;b" in svg and "go&amp;" in svg
