"""How ``demo`` prints: the legend, the table of scenes, and the public page.

Pure formatting of plain values and Statuspage JSON; no I/O but the
``wants_colour`` probe of the output stream and the terminal's width. Colour
(ANSI) only on a terminal, never with ``NO_COLOR`` set (https://no-color.org)
or ``TERM=dumb``. Every line fits ``line_width()`` (80 on a pipe): the demo
wraps its own text, with indented continuation lines, never the terminal.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.runtime.logs import wants_colour  # the logs' console obeys it too

__all__ = [
    "COLUMNS",
    "COMPONENT_COLOURS",
    "DECISION_INDENT",
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "Cell",
    "Style",
    "legend",
    "line_width",
    "page_view",
    "status_label",
    "table_header",
    "table_row",
    "wants_colour",
    "wrapped",
]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
# Statuspage's own colours for an incident's status, as near as 8 ANSI colours get.
STATUS_COLOURS = {
    "investigating": "red",
    "identified": "yellow",
    "monitoring": "blue",
    "in_progress": "blue",
    "scheduled": "blue",
    "verifying": "blue",
    "resolved": "green",
    "completed": "green",
    "postmortem": "green",
}
COMPONENT_COLOURS = {
    "operational": "green",
    "degraded_performance": "yellow",
    "partial_outage": "yellow",
    "major_outage": "red",
    "under_maintenance": "blue",
}
OUTCOME_COLOURS = {
    "created": "green",
    "status_changed": "yellow",
    "body_updated": "cyan",
    "no_change": "dim",
    "failed": "red",
    "filtered": "magenta",
    "duplicate_resolved": "magenta",
    "joined": "cyan",
    "component_changed": "yellow",
}


@dataclass(frozen=True)
class Style:
    """Wraps text in ANSI colour codes, or leaves it as it is."""

    colour: bool = False

    def __call__(self, text: str, *names: str) -> str:
        codes = ";".join(_CODES[name] for name in names if name in _CODES)
        if not self.colour or not codes or not text:
            return text
        return f"\x1b[{codes}m{text}\x1b[0m"


@dataclass(frozen=True)
class Cell:
    """One table cell: the text and its colour names (padding counts the text only)."""

    text: str
    colours: tuple[str, ...] = ()


# A scene is its title line ("ok  1.  A opened"), then one row per decision under it,
# indented so the rows' three columns fit 80 characters: the widest page cell is a
# component's "major_outage -> degraded_performance" (36).
DECISION_INDENT = 8
# (header, width) of a decision row's columns; the last column is not padded.
COLUMNS = (
    ("EVENT SEEN", 16),
    ("DAEMON DID", 20),
    ("PUBLIC PAGE SHOWS", 0),
)


def line_width() -> int:
    """The terminal's width (``COLUMNS`` first; 80 on a pipe), at least 60 for the table."""
    return max(60, shutil.get_terminal_size((80, 24)).columns)


def wrapped(text: str, *, indent: int, hang: int = 0, width: int | None = None) -> list[str]:
    """``text`` in lines of at most ``width``; continuation lines indented ``hang`` more."""
    return textwrap.wrap(
        text,
        width=width or line_width(),
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + hang),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [" " * indent]


def table_row(cells: Sequence[Cell], style: Style) -> list[str]:
    """One decision row, coloured after padding so ANSI codes do not count.

    A row that would not fit the width wraps its last cell under its own column
    (an overlong middle cell pushes the rest right, never cuts its text).
    """
    parts, offset = [], DECISION_INDENT
    for cell, (_header, width) in zip(cells[:-1], COLUMNS, strict=False):
        text = cell.text.ljust(width - 1) if len(cell.text) < width else cell.text
        parts.append(style(cell.text, *cell.colours) + text[len(cell.text) :] + " ")
        offset += len(text) + 1
    last = cells[-1]
    pieces = wrapped(last.text, indent=0, width=max(20, line_width() - offset)) if last.text else []
    first = (" " * DECISION_INDENT + "".join(parts) + _painted(pieces[:1], last, style)).rstrip()
    return [first] + [" " * offset + _painted([piece], last, style) for piece in pieces[1:]]


def _painted(pieces: Sequence[str], cell: Cell, style: Style) -> str:
    return "".join(style(piece, *cell.colours) for piece in pieces)


def table_header(style: Style) -> list[str]:
    """The two header lines (a scene's title, then its decisions' columns), bold on a terminal."""
    title = "    #   " + style("WHAT HAPPENED IN ILERT", "bold")
    return [title, *table_row([Cell(header, ("bold",)) for header, _width in COLUMNS], style)]


def legend(actions: Sequence[str], style: Style) -> list[str]:
    """What each column means, what an incident action is, and what a component status says."""
    lines = [style("How to read this demo", "bold")]
    lines += wrapped(
        "An incident action is one rule in the config: alerts from these iLert alert "
        "sources become incidents on this Statuspage page; a status bridge shows iLert's own "
        f"incidents, service statuses and maintenance windows. The demo has "
        f"{_count(len(actions))}:",
        indent=2,
    )
    for action in actions:  # "name  what it does", the what wrapped under itself
        name, _, what = action.partition(" ")
        lines += wrapped(f"{name:<14} {what.strip()}", indent=4, hang=15)
    lines += wrapped(
        "Each numbered scene changes an alert in the iLert simulator, then the daemon runs "
        "one pass (poll iLert, decide, write to the Statuspage simulator). Under the scene, "
        "one row per decision (xN: N identical decisions, one per alert):",
        indent=2,
    )
    for term, meaning in _COLUMN_MEANINGS:
        head = style(term, "bold") + " " * (28 - len(term))
        rest = wrapped(meaning, indent=0, width=line_width() - 32)
        lines.append(f"    {head}{rest[0]}")
        lines += [" " * 32 + more for more in rest[1:]]
    mark = f"{style('ok', 'green')} / {style('BAD', 'red')}" + " " * (28 - len("ok / BAD"))
    lines.append(f"    {mark}the decision matches / differs from the table")
    lines += wrapped(
        "Component statuses, mildest first: operational < degraded_performance < "
        "partial_outage < major_outage; under_maintenance is a person's, left alone. A "
        "component an action lists shows the worst status its open alerts hold, by priority "
        "(component_status; default HIGH major_outage, LOW degraded_performance), and "
        "operational when none is open; other components stay as a person set them.",
        indent=2,
    )
    return lines


_COLUMN_MEANINGS = (
    ("WHAT HAPPENED IN ILERT", "the change a person or monitor made"),
    ("EVENT SEEN", "what the daemon detected by polling"),
    ("DAEMON DID", "what it sent to Statuspage, per the lifecycle table (docs/how-it-works.md)"),
    ("PUBLIC PAGE SHOWS", "the incident (#n) or component and its status before -> after"),
)


def _count(number: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(number, str(number))


_COMPONENT_LABELS = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}


def status_label(status: str) -> str:
    """An incident status as Statuspage prints it on the page ("In progress")."""
    return status.replace("_", " ").capitalize()


def page_view(
    page: Mapping[str, Any],
    components: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]],
    style: Style,
    labels: Mapping[str, str] | None = None,
) -> list[str]:
    """One page as its public status page shows it: components, then incidents with timelines.

    ``components`` and ``incidents`` are Statuspage API JSON (component groups
    have ``"group": true``); an incident's ``components`` (objects with ``name``
    and ``status``, or bare ids) are listed under its timeline when present.
    ``labels`` maps incident ids to the demo's ``#n``.
    """
    labels = labels or {}
    lines = [style(f"{page.get('name') or page.get('id')}", "bold") + f"  (page {page.get('id')})"]
    lines += _components_view(components, style)
    names = {str(c.get("id")): str(c.get("name")) for c in components}
    return lines + _incidents_view(incidents, style, labels, names)


def _incidents_view(
    incidents: Sequence[Mapping[str, Any]],
    style: Style,
    labels: Mapping[str, str],
    names: Mapping[str, str],
) -> list[str]:
    """The active incidents, then the past ones; or that there are none."""
    if not incidents:
        return ["  No incidents reported."]
    active = [
        i for i in incidents if i.get("status") not in ("resolved", "completed", "postmortem")
    ]
    past = [i for i in incidents if i not in active]
    lines = []
    for title, group in (("Active incidents", active), ("Past incidents", past)):
        if not group:
            continue
        lines.append(f"  {style(title, 'bold')}")
        for incident in group:
            lines += _incident_view(incident, style, labels, names)
    return lines


def _components_view(components: Sequence[Mapping[str, Any]], style: Style) -> list[str]:
    if not components:
        return []
    lines = [f"  {style('Components', 'bold')}"]
    groups = {str(c["id"]): c for c in components if c.get("group")}
    placed = [c for c in components if not c.get("group") and c.get("group_id") in groups]
    for component in components:
        if component.get("group"):
            lines.append(f"    {component.get('name')}")
            lines += [
                _component_line(child, style, indent=6)
                for child in placed
                if child.get("group_id") == component["id"]
            ]
        elif component not in placed:
            lines.append(_component_line(component, style, indent=4))
    return lines


def _component_line(component: Mapping[str, Any], style: Style, *, indent: int) -> str:
    status = str(component.get("status") or "operational")
    label = _COMPONENT_LABELS.get(status, status)
    name = str(component.get("name"))
    return (
        f"{' ' * indent}{name.ljust(30 - indent)} {style(label, COMPONENT_COLOURS.get(status, ''))}"
    )


def _incident_view(
    incident: Mapping[str, Any],
    style: Style,
    labels: Mapping[str, str],
    component_names: Mapping[str, str],
) -> list[str]:
    label = labels.get(str(incident.get("id")), "")
    status = str(incident.get("status") or "")
    name = str(incident.get("name"))
    head = f"    {label + ' ' if label else ''}{style(name, 'bold')}"
    head += f"  [{style(status_label(status), STATUS_COLOURS.get(status, ''))}]"
    ident = style("incident " + str(incident.get("id")), "dim")
    plain = f"    {label} {name}  [{status_label(status)}]  incident {incident.get('id')}"
    # The id on a line of its own when a long name would push it past the width.
    lines = [f"{head}  {ident}"] if len(plain) <= line_width() else [head, f"      {ident}"]
    for update in incident.get("incident_updates") or []:  # newest first, as the page shows
        lines += _update_lines(update, style)
    affected = [_component_name(c, component_names) for c in incident.get("components") or []]
    if affected:
        lines += wrapped(f"This incident affected: {', '.join(affected)}.", indent=6, hang=2)
    return lines


_BODY_INDENT = 20  # "      11:24:01 UTC  ": an update's text, and its continuation lines


def _update_lines(update: Mapping[str, Any], style: Style) -> list[str]:
    """One incident update: its time, its status and the body's lines, wrapped to the width."""
    update_status = str(update.get("status") or "")
    when = _clock(str(update.get("display_at") or update.get("created_at") or ""))
    body = str(update.get("body") or "").splitlines() or [""]
    label = status_label(update_status)
    width = line_width() - _BODY_INDENT
    pieces = wrapped(f"{label}{' - ' + body[0] if body[0] else ''}", indent=0, width=width)
    for line in body[1:]:
        pieces += wrapped(line, indent=0, width=width)
    first = style(label, "bold", STATUS_COLOURS.get(update_status, "")) + pieces[0][len(label) :]
    lines = [f"      {style(when, 'dim')}  {first}"]
    return lines + [f"{' ' * _BODY_INDENT}{piece}" for piece in pieces[1:]]


def _component_name(component: object, names: Mapping[str, str]) -> str:
    if isinstance(component, Mapping):
        name = str(component.get("name") or names.get(str(component.get("id")), "?"))
        status = component.get("status")
        return f"{name} ({_COMPONENT_LABELS.get(str(status), status)})" if status else name
    return names.get(str(component), str(component))


def _clock(timestamp: str) -> str:
    """``2026-11-28T11:24:01.123Z`` as the page's ``11:24:01 UTC`` (date dropped: one day)."""
    time_part = timestamp.partition("T")[2][:8]
    return f"{time_part} UTC" if time_part else timestamp
