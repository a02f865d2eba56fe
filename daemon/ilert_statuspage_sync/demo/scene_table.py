"""What the demo prints about a world: a lifecycle's table of scenes and the public pages.

Each audit row of a scene becomes one table row (what the daemon saw, did and
what the page shows); the layout and colours themselves are ``view``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from ilert_statuspage_sync.demo.scenes import Scene
from ilert_statuspage_sync.demo.stage import Stage
from ilert_statuspage_sync.demo.view import (
    COMPONENT_COLOURS,
    OUTCOME_COLOURS,
    STATUS_COLOURS,
    Cell,
    Style,
    page_view,
    table_header,
    table_row,
)
from ilert_statuspage_sync.simulators.seed import AUTO_PAGE
from ilert_statuspage_sync.store.tables import Transition

__all__ = ["lifecycle_header", "scene_lines", "show_pages", "verdict"]

_INDENT = " " * 10
_DID = {
    "created": "created incident {label}",
    "status_changed": "changed its status",
    "body_updated": "posted an update",
    "no_change": "left it unchanged",
    "failed": "failed (retries later)",
    "filtered": "kept it off the page",
    "duplicate_resolved": "resolved a duplicate",
    "joined": "joined incident {label}",
    "component_changed": "set a component",
}


def lifecycle_header(stage: Stage, style: Style) -> str:
    """The lifecycle's title line (with the simulators' URLs) and the table's header."""
    return (
        "\n"
        + style(f'== lifecycle = "{stage.lifecycle}"', "bold")
        + style(f"  (iLert {stage.ilert.url}, Statuspage {stage.statuspage.url})", "dim")
        + "\n"
        + table_header(style)
        + "\n"
    )


def scene_lines(
    stage: Stage,
    number: int,
    scene: Scene,
    rows: Sequence[Transition],
    style: Style,
    *,
    problem: str | None,
) -> tuple[bool, str]:
    """Whether the scene matched the table, and its printed lines (one per audit row)."""
    expected = scene.expected(stage.lifecycle)
    ok = [(r.event, r.outcome, r.to_status) for r in rows] == expected and problem is None
    mark = Cell("ok", ("green",)) if ok else Cell("BAD", ("red", "bold"))
    first: list[Cell] = [mark, Cell(f"{number}."), Cell(scene.title)]
    created: set[str] = set()
    lines = []
    for index, row in enumerate(rows or [None]):
        lead = first if index == 0 else [Cell(""), Cell(""), Cell("")]
        lines.append(table_row([*lead, *_decision(stage, row, created)], style))
    if scene.note:
        lines.append(f"{_INDENT}{style(scene.note, 'dim')}")
    if not ok:
        lines.append(f"{_INDENT}{style(f'expected {expected}', 'red')}")
        if problem is not None:
            lines.append(f"{_INDENT}{style(problem, 'red')}")
    return ok, "".join(f"{line}\n" for line in lines)


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
    did = _DID.get(row.outcome, row.outcome).format(label=label)
    if row.event == "human_edit":
        did = "saw a person's edit"
    if row.outcome == "created" and incident in created:
        did = "(in the same create)"
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
    """A component row: which component went from what to what."""
    name = _component_named(stage, row.reason or "")
    page = f"{name} {row.from_status} -> {row.to_status}"
    shown = (COMPONENT_COLOURS.get(row.to_status or "", ""),)
    return [Cell(row.event), Cell(_DID[row.outcome], ("yellow",)), Cell(page, shown)]


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
