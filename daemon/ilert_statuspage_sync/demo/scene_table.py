"""What the demo prints about a world: a lifecycle's table of scenes and the public pages.

A scene is its title line, then one row per audit row (what the daemon saw,
did and what the page shows); identical consecutive rows (a storm's joins) are
one row with a count. The layout and colours themselves are ``view``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from ilert_statuspage_sync.demo.scenes import Scene
from ilert_statuspage_sync.demo.stage import Stage
from ilert_statuspage_sync.demo.view import (
    COMPONENT_COLOURS,
    DECISION_INDENT,
    OUTCOME_COLOURS,
    STATUS_COLOURS,
    Cell,
    Style,
    page_view,
    table_header,
    table_row,
    wrapped,
)
from ilert_statuspage_sync.simulators.seed import AUTO_PAGE
from ilert_statuspage_sync.store.tables import Transition

__all__ = ["lifecycle_header", "scene_lines", "show_pages", "verdict"]

# What the daemon did, in at most 18 characters: two spaces short of the column's
# width (view.COLUMNS). The incident's #n is in the page's column.
_DID = {
    "created": "opened incident",
    "status_changed": "changed its status",
    "body_updated": "posted an update",
    "no_change": "left it unchanged",
    "failed": "failed, will retry",
    "filtered": "kept off the page",
    "duplicate_resolved": "resolved duplicate",
    "joined": "joined incident",
    "component_changed": "set {name}",
}


def lifecycle_header(stage: Stage, style: Style) -> str:
    """The lifecycle's title line, the simulators' URLs, and the table's header."""
    urls = f"  iLert {stage.ilert.url}, Statuspage {stage.statuspage.url}"
    lines = ["", style(f'== lifecycle = "{stage.lifecycle}"', "bold"), style(urls, "dim")]
    return "\n".join([*lines, *table_header(style)]) + "\n"


def scene_lines(
    stage: Stage,
    number: int,
    scene: Scene,
    rows: Sequence[Transition],
    style: Style,
    *,
    problem: str | None,
) -> tuple[bool, str]:
    """Whether the scene matched the table, and its printed lines: title, decisions, note."""
    expected = scene.expected(stage.lifecycle)
    ok = [(r.event, r.outcome, r.to_status) for r in rows] == expected and problem is None
    mark = style("ok", "green") + "  " if ok else style("BAD", "red", "bold") + " "
    lines = [f"{mark}{f'{number}.':<4}{scene.title}"]
    created: set[str] = set()
    seen: Sequence[Transition | None] = rows or [None]
    decisions = [_decision(stage, row, created) for row in seen]
    for cells, times in _collapsed(decisions):
        if times > 1:  # the count goes with the event seen: that many alerts, one decision each
            cells = [Cell(f"{cells[0].text} x{times}", cells[0].colours), *cells[1:]]
        lines += table_row(cells, style)
    if scene.note:
        lines += [style(line, "dim") for line in wrapped(scene.note, indent=DECISION_INDENT)]
    if not ok:
        lines += [style(line, "red") for line in _wrapped_notes(f"expected {expected}")]
        if problem is not None:
            lines += [style(line, "red") for line in _wrapped_notes(problem)]
    return ok, "".join(f"{line}\n" for line in lines)


def _wrapped_notes(text: str) -> list[str]:
    return wrapped(text, indent=DECISION_INDENT, hang=2)


def _collapsed(decisions: Sequence[list[Cell]]) -> list[tuple[list[Cell], int]]:
    """Consecutive identical decisions as one, with how many there were."""
    runs: list[tuple[list[Cell], int]] = []
    for cells in decisions:
        if runs and runs[-1][0] == cells:
            runs[-1] = (cells, runs[-1][1] + 1)
        else:
            runs.append((cells, 1))
    return runs


def verdict(mismatches: int, style: Style) -> str:
    """The closing line: every decision matched, or how many scenes differ."""
    if not mismatches:
        return f"\n{style('every decision matched the lifecycle table', 'green')}\n"
    return f"\n{style(f'{mismatches} scenes differ from the lifecycle table', 'red')}\n"


def _decision(stage: Stage, row: Transition | None, created: set[str]) -> list[Cell]:
    """The EVENT, DAEMON and PUBLIC PAGE cells of one audit row."""
    if row is None:
        return [Cell("-"), Cell("nothing seen", ("dim",)), Cell("")]
    if row.event == "component":
        return _component_decision(stage, row)
    incident = row.statuspage_incident_id
    label = stage.label(incident)
    did = _DID.get(row.outcome, row.outcome)
    if row.event == "human_edit":
        did = "saw a human edit"
    if row.outcome == "created" and incident in created:
        did = "(in that create)"
    if row.outcome == "created" and incident is not None:
        created.add(incident)
    before, after = row.from_status or "new", row.to_status or "-"
    page = f"{label} {before}" if before == after else f"{label} {before} -> {after}"
    if row.outcome == "body_updated":
        page += " + update"
    colours = (OUTCOME_COLOURS.get(row.outcome, ""),)
    shown = (STATUS_COLOURS.get(after, ""),)  # the page column in the status's own colour
    return [Cell(row.event), Cell(did, colours), Cell(page.strip(), shown)]


def _component_decision(stage: Stage, row: Transition) -> list[Cell]:
    """A component row: which component (the daemon's cell) went from what to what."""
    did = _DID[row.outcome].format(name=_component_named(stage, row.reason or ""))
    page = f"{row.from_status} -> {row.to_status}"
    shown = (COMPONENT_COLOURS.get(row.to_status or "", ""),)
    return [Cell(row.event), Cell(did, ("yellow",)), Cell(page, shown)]


def _component_named(stage: Stage, reason: str) -> str:
    """The name of the component an audit row's reason names (by id or by name)."""
    for component in stage.statuspage.components(AUTO_PAGE):
        if str(component["id"]) in reason:
            return str(component["name"])
    return "component"


def show_pages(stage: Stage, out: TextIO, style: Style) -> None:
    """Each configured page as Statuspage shows it: components, incidents, timelines."""
    pages = {page["id"]: page for page in stage.statuspage.pages()}
    wanted = dict.fromkeys(action.page_id for action in stage.config.incident_actions)
    out.write("\n" + style("The public pages now (as Statuspage shows them)", "bold") + "\n")
    for page_id in wanted:
        page = pages.get(page_id, {"id": page_id})
        view = page_view(
            page,
            stage.statuspage.components(page_id),
            stage.statuspage.incidents(page_id),
            style,
            stage.labels,
        )
        out.write("\n" + "\n".join(view) + "\n")
