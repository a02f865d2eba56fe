"""The lifecycle tables in docs/how-it-works.md say exactly what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ilert_statuspage_sync.core.lifecycle import LIFECYCLES, Rule, RuleKind, rule_for
from ilert_statuspage_sync.core.model import EventKind

PAGE = Path(__file__).resolve().parents[2] / "docs" / "how-it-works.md"
NAMES = {
    "created": EventKind.CREATED,
    "re-assigned": EventKind.REASSIGNED,
    "escalated": EventKind.ESCALATED,
    "priority raised": EventKind.PRIORITY_RAISED,
    "accepted": EventKind.ACCEPTED,
    "resolved": EventKind.RESOLVED,
    "comment added": EventKind.COMMENT_ADDED,
    "deleted": EventKind.DELETED,
}


def _rule(cell: str) -> Rule:
    status = re.search(r"`([a-z_]+)`", cell)
    if cell.startswith("is created"):
        return Rule(RuleKind.CREATE, status.group(1) if status else None)
    if cell.startswith("changes status"):
        return Rule(RuleKind.SET_STATUS, status.group(1) if status else None)
    if cell.startswith("does not change"):
        return Rule(RuleKind.NO_CHANGE)
    assert cell.startswith("gets the comment"), cell
    return Rule(RuleKind.ADD_BODY)


def _table(lifecycle: str) -> dict[tuple[EventKind, bool], Rule]:
    text = PAGE.read_text()
    block = text.split(f"<!-- lifecycle:{lifecycle} -->")[1].split(
        f"<!-- /lifecycle:{lifecycle} -->"
    )[0]
    cells: dict[tuple[EventKind, bool], Rule] = {}
    for line in block.strip().splitlines()[2:]:
        events, incident, outcome = (cell.strip() for cell in line.strip("|").split("|"))
        for name in events.lower().split(", "):
            key = (NAMES[name], incident == "exists")
            assert key not in cells, f"{lifecycle}: {key} appears twice"
            cells[key] = _rule(outcome)
    return cells


@pytest.mark.parametrize("lifecycle", sorted(LIFECYCLES))
def test_docs_table_matches_code(lifecycle: str):
    """Every cell of the docs table equals the code's rule, and only those cells are listed."""
    cells = _table(lifecycle)
    for (event, exists), rule in cells.items():
        assert rule_for(lifecycle, event, incident_exists=exists) == rule, (event, exists)
    listed = {event for event, _ in cells}
    # The classic table leaves "created, exists" implicit (no change); everything else is listed.
    missing = {
        (event, exists)
        for event in EventKind
        for exists in (False, True)
        if (event, exists) not in cells
    }
    assert listed == set(EventKind)
    for event, exists in missing:
        assert rule_for(lifecycle, event, incident_exists=exists).kind is RuleKind.NO_CHANGE
