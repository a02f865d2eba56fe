"""How ``demo`` prints: the legend, the table of scenes, and the public page.

Pure formatting of plain values and Statuspage JSON; no I/O but the one
``wants_colour`` probe of the output stream. Colour (ANSI) only on a terminal,
never with ``NO_COLOR`` set (https://no-color.org) or ``TERM=dumb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.runtime.logs import wants_colour  # the logs' console obeys it too

__all__ = [
    "COLUMNS",
    "COMPONENT_COLOURS",
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "Cell",
    "Style",
    "legend",
    "page_view",
    "status_label",
    "table_header",
    "table_row",
    "wants_colour",
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


# (header, width) of the demo's table; the last column is not padded.
COLUMNS = (
    ("", 4),
    ("#", 4),
    ("WHAT HAPPENED IN ILERT", 33),
    ("EVENT SEEN", 16),
    ("WHAT THE DAEMON DID", 21),
    ("WHAT THE PUBLIC PAGE SHOWS", 0),
)


def table_row(cells: Sequence[Cell], style: Style) -> str:
    """Cells padded to the column widths, coloured after padding so ANSI codes do not count."""
    parts = []
    for cell, (_header, width) in zip(cells, COLUMNS, strict=True):
        text = cell.text if not width else cell.text.ljust(width - 1)
        if width and len(cell.text) >= width:
            text = cell.text + " "  # an overlong cell pushes the row, never cuts the text
        padding = text[len(cell.text) :]
        parts.append(style(cell.text, *cell.colours) + padding)
    return " ".join(parts).rstrip()


def table_header(style: Style) -> str:
    """The column headers, bold on a terminal."""
    return table_row([Cell(header, ("bold",)) for header, _width in COLUMNS], style)


def legend(actions: Sequence[str], style: Style) -> list[str]:
    """What each column means, and what an incident action is (with the demo's own)."""
    return [
        style("How to read this demo", "bold"),
        "  An incident action is one rule in the config: alerts from these iLert alert sources",
        f"  become incidents on this Statuspage page. The demo has {_count(len(actions))}:",
        *(f"    {action}" for action in actions),
        "  Each numbered scene changes an alert in the iLert simulator, then the daemon runs one",
        "  pass (poll iLert, decide, write to the Statuspage simulator). One line per decision:",
        f"    {style('WHAT HAPPENED IN ILERT', 'bold')}      the change a person or monitor made",
        f"    {style('EVENT SEEN', 'bold')}                  what the daemon detected by polling",
        f"    {style('WHAT THE DAEMON DID', 'bold')}         what it sent to Statuspage, per the "
        "lifecycle table (docs/how-it-works.md)",
        f"    {style('WHAT THE PUBLIC PAGE SHOWS', 'bold')}  the incident (#n) and its status "
        "before -> after",
        f"    {style('ok', 'green')} / {style('BAD', 'red')}"
        "                    the decision matches / differs from the table",
    ]


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
    head = f"    {label + ' ' if label else ''}{style(str(incident.get('name')), 'bold')}"
    lines = [
        f"{head}  [{style(status_label(status), STATUS_COLOURS.get(status, ''))}]"
        f"  {style('incident ' + str(incident.get('id')), 'dim')}"
    ]
    for update in incident.get("incident_updates") or []:  # newest first, as the page shows
        lines += _update_lines(update, style)
    affected = [_component_name(c, component_names) for c in incident.get("components") or []]
    if affected:
        lines.append(f"      This incident affected: {', '.join(affected)}.")
    return lines


def _update_lines(update: Mapping[str, Any], style: Style) -> list[str]:
    """One incident update: its time, its status and the body's lines."""
    update_status = str(update.get("status") or "")
    when = _clock(str(update.get("display_at") or update.get("created_at") or ""))
    body = str(update.get("body") or "").splitlines() or [""]
    first = style(status_label(update_status), "bold", STATUS_COLOURS.get(update_status, ""))
    lines = [f"      {style(when, 'dim')}  {first}{' - ' + body[0] if body[0] else ''}"]
    return lines + [f"{' ' * 18}{line}" for line in body[1:]]


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
