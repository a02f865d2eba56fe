"""What a status bridge publishes: iLert incidents and windows as Statuspage writes.

Decided on iLert's values (never on the published text), so a change of the
bridge's redaction does not rewrite what is on the page. The state the bridge
keeps per iLert object is a ``Seen``: what it last published, by hashes. One
iLert object is one public object; each change of an incident's status or
message is one incident update carrying the message; a window's edit updates
its scheduled maintenance. Component statuses are not written here: the
objects hold statuses (``Seen.impacts``) that ``core.components`` weighs with
every other holder of the component. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.core.bridge_model import IlertIncident, MaintenanceWindow, StatusBridge
from ilert_statuspage_sync.core.bridge_templates import incident_context, window_context
from ilert_statuspage_sync.core.components import worse
from ilert_statuspage_sync.core.plan import MAX_BODY, MAX_NAME
from ilert_statuspage_sync.core.public_text import publishable

__all__ = [
    "CANCELLED",
    "DELETED",
    "ENDED_EARLY",
    "INCIDENT",
    "MAINTENANCE",
    "BridgeWrite",
    "Seen",
    "Stored",
    "incident_metadata",
    "plan_incident",
    "plan_window",
    "window_metadata",
]

INCIDENT = "incident"
MAINTENANCE = "maintenance"
DELETED = "This incident was removed from our on-call system."
CANCELLED = "This maintenance was cancelled."
ENDED_EARLY = "This maintenance has ended."

# iLert's service status (an affected service's impact) -> Statuspage's component status.
COMPONENT_STATUS = {
    "OPERATIONAL": "operational",
    "UNDER_MAINTENANCE": "under_maintenance",
    "DEGRADED": "degraded_performance",
    "PARTIAL_OUTAGE": "partial_outage",
    "MAJOR_OUTAGE": "major_outage",
}
_REALTIME = {"INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED"}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Seen:
    """What the bridge last published of one iLert object (stored as JSON)."""

    status: str
    summary: str  # digest
    message: str  # digest
    # Component id -> the component status this object holds there.
    impacts: Mapping[str, str] = field(default_factory=dict)
    start: str | None = None
    end: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "status": self.status,
            "summary": self.summary,
            "message": self.message,
            "impacts": dict(self.impacts),
            "start": self.start,
            "end": self.end,
        }

    @classmethod
    def from_json(cls, data: object) -> Seen | None:
        """Read a stored ``Seen``; anything malformed reads as None (nothing seen)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("status"), str):
            return None
        impacts = data.get("impacts")
        return cls(
            status=data["status"],
            summary=str(data.get("summary") or ""),
            message=str(data.get("message") or ""),
            impacts={str(k): str(v) for k, v in impacts.items() if isinstance(v, str)}
            if isinstance(impacts, Mapping)
            else {},
            start=data.get("start") if isinstance(data.get("start"), str) else None,
            end=data.get("end") if isinstance(data.get("end"), str) else None,
        )


@dataclass(frozen=True)
class Stored:
    """The bridge's row for one iLert object, as the decisions need it."""

    statuspage_id: str | None
    seen: Seen | None
    is_open: bool = True
    # A person changed or closed the public object: the bridge leaves it alone.
    held: bool = False


@dataclass(frozen=True)
class BridgeWrite:
    """One Statuspage write a bridge decided on."""

    subject: str  # INCIDENT or MAINTENANCE
    ilert_id: int
    op: str  # "create" or "update"
    event: str  # the audit row's event
    fields: Mapping[str, Any]
    seen_after: Seen
    # The public object is over once this write lands (resolved, completed).
    closes: bool = False
    from_status: str | None = None
    to_status: str | None = None
    # The text shown (for the audit row): name and body after redaction.
    name: str | None = None
    body: str | None = None


def incident_metadata(bridge: str, incident_id: int) -> dict[str, Any]:
    """The ``metadata`` naming the iLert incident a public incident mirrors."""
    return {"ilert": {"incident_id": str(incident_id), "bridge": bridge}}


def window_metadata(bridge: str, window_id: int) -> dict[str, Any]:
    """The ``metadata`` naming the iLert window a scheduled maintenance mirrors."""
    return {"ilert": {"maintenance_window_id": str(window_id), "bridge": bridge}}


def _worded(
    bridge: StatusBridge, key: str, context: Mapping[str, Any], limit: int, *, one_line: bool
) -> str:
    """The bridge's template for ``key`` rendered, then cleaned, redacted, masked and clipped."""
    text = bridge.templates.get(key).render(context)
    return publishable(text, limit, bridge.redact, one_line=one_line)


def _incident_words(bridge: StatusBridge, incident: IlertIncident) -> tuple[str, str]:
    """The published name (never empty) and body of an incident."""
    context = incident_context(bridge.name, bridge.page_id, incident)
    name = _worded(bridge, "incident_name", context, MAX_NAME, one_line=True)
    body = _worded(bridge, "incident_body", context, MAX_BODY, one_line=False)
    return name or f"Incident {incident.id}", body


def _window_words(bridge: StatusBridge, window: MaintenanceWindow) -> tuple[str, str]:
    """The published name (never empty) and body of a maintenance."""
    context = window_context(bridge.name, bridge.page_id, window)
    name = _worded(bridge, "maintenance_name", context, MAX_NAME, one_line=True)
    body = _worded(bridge, "maintenance_body", context, MAX_BODY, one_line=False)
    return name or f"Maintenance {window.id}", body


def _notify(bridge: StatusBridge, asked: bool) -> bool:
    return bridge.notify == "always" or (bridge.notify == "ilert" and asked)


# -- incidents -----------------------------------------------------------------


def incident_impacts(bridge: StatusBridge, incident: IlertIncident) -> dict[str, str]:
    """Mapped component -> the worst status the incident's impacts put there."""
    impacts: dict[str, str] = {}
    for affected in incident.affected:
        component = bridge.component_of(affected.service_id)
        status = COMPONENT_STATUS.get(affected.impact)
        if component is None or status is None:
            continue
        impacts[component] = worse(impacts.get(component), status)
    return impacts


def incident_seen(bridge: StatusBridge, incident: IlertIncident) -> Seen:
    """What publishing ``incident`` as it is now makes public."""
    return Seen(
        status=incident.status,
        summary=_digest(incident.summary),
        message=_digest(incident.message),
        impacts=incident_impacts(bridge, incident),
    )


def _statuspage_status(status: str, fallback: str) -> str:
    return status.lower() if status in _REALTIME else fallback


def plan_incident(
    bridge: StatusBridge, incident_id: int, incident: IlertIncident | None, stored: Stored | None
) -> BridgeWrite | None:
    """The write that brings the page's incident to ``incident``; None when none is due.

    ``incident`` None: iLert answered 404 for a tracked incident (deleted).
    An incident touching no mapped service is not published; once published,
    it is followed to its end whatever its services become.
    """
    if stored is not None and (stored.held or stored.statuspage_id is None):
        return None
    if incident is not None and incident.status not in _REALTIME:
        # A status iLert added since: not guessed, the status published last stays.
        known = stored.seen.status if stored and stored.seen else None
        incident = replace(incident, status=known if known in _REALTIME else "INVESTIGATING")
    if stored is not None and not stored.is_open:
        return _reopened(bridge, incident, stored)
    if incident is None:
        if stored is None:
            return None
        # Adopted but not yet brought up to date (``seen`` None): deleted all the same.
        before = stored.seen or Seen("", "", "")
        seen = Seen("RESOLVED", before.summary, before.message, {})
        return BridgeWrite(
            INCIDENT, incident_id, "update", "bridge_deleted",
            {"status": "resolved", "body": DELETED, "deliver_notifications": False},
            seen, closes=True, from_status=_statuspage_status(before.status, "") or None,
            to_status="resolved", body=DELETED,
        )  # fmt: skip
    seen = incident_seen(bridge, incident)
    status = _statuspage_status(incident.status, "investigating")
    notify = _notify(bridge, incident.send_notification)
    if stored is None:
        if incident.status == "RESOLVED" or not seen.impacts:
            return None  # over before it was seen, or nothing of ours: not published
        name, body = _incident_words(bridge, incident)
        fields: dict[str, Any] = {
            "name": name,
            "status": status,
            "component_ids": sorted(seen.impacts),
            "deliver_notifications": notify,
            "metadata": incident_metadata(bridge.name, incident.id),
        }
        if body:
            fields["body"] = body
        return BridgeWrite(
            INCIDENT, incident.id, "create", "bridge_created", fields, seen,
            closes=incident.status == "RESOLVED", to_status=status, name=name, body=body or None,
        )  # fmt: skip
    return _incident_update(bridge, incident, stored, seen, status, notify)


def _reopened(
    bridge: StatusBridge, incident: IlertIncident | None, stored: Stored
) -> BridgeWrite | None:
    """A resolved incident iLert opened again: the same public incident, reopened."""
    if incident is None or incident.status == "RESOLVED":
        return None
    seen = incident_seen(bridge, incident)
    status = _statuspage_status(incident.status, "investigating")
    _, body = _incident_words(bridge, incident)
    fields: dict[str, Any] = {
        "status": status,
        "deliver_notifications": _notify(bridge, incident.send_notification),
        "component_ids": sorted(seen.impacts),
    }
    if body:
        fields["body"] = body
    return BridgeWrite(
        INCIDENT, incident.id, "update", "bridge_reopened", fields, seen,
        from_status="resolved", to_status=status, body=body or None,
    )  # fmt: skip


def _incident_update(
    bridge: StatusBridge,
    incident: IlertIncident,
    stored: Stored,
    seen: Seen,
    status: str,
    notify: bool,
) -> BridgeWrite | None:
    before = stored.seen
    if before == seen:
        return None
    name, body = _incident_words(bridge, incident)
    fields: dict[str, Any] = {}
    event = "bridge_updated"
    was = _statuspage_status(before.status, "") if before else None
    if before is None or before.status != seen.status or before.message != seen.message:
        # One update per change of status or message, carrying the message.
        fields["status"] = status
        fields["deliver_notifications"] = notify
        if body:
            fields["body"] = body
        event = "bridge_resolved" if incident.status == "RESOLVED" else "bridge_status"
        if before is not None and before.status == seen.status:
            event = "bridge_message"
    renamed = None
    if before is None or before.summary != seen.summary:
        renamed = fields["name"] = name
    if before is None or set(before.impacts) != set(seen.impacts):
        fields["component_ids"] = sorted(set(seen.impacts) | set(before.impacts if before else ()))
    if not fields:
        # Only the impacts' statuses moved: the components follow, the incident does not.
        return BridgeWrite(INCIDENT, incident.id, "record", "bridge_impact", {}, seen)
    return BridgeWrite(
        INCIDENT, incident.id, "update", event, fields, seen,
        closes=incident.status == "RESOLVED", from_status=was, to_status=status,
        name=renamed, body=fields.get("body"),
    )  # fmt: skip


# -- maintenance windows --------------------------------------------------------


def window_components(
    bridge: StatusBridge, window: MaintenanceWindow, by_source: Mapping[int, Iterable[str]]
) -> tuple[str, ...]:
    """The components a window covers: its mapped services' and its alert sources' (sorted)."""
    found = {c for s in window.service_ids if (c := bridge.component_of(s)) is not None}
    for source in window.source_ids:
        found.update(by_source.get(source, ()))
    return tuple(sorted(found))


def window_seen(window: MaintenanceWindow, components: Iterable[str]) -> Seen:
    """What publishing ``window`` as it is now makes public."""
    return Seen(
        status="scheduled",
        summary=_digest(window.summary),
        message=_digest(window.description),
        impacts=dict.fromkeys(components, "under_maintenance"),
        start=window.start.isoformat(),
        end=window.end.isoformat(),
    )


def plan_window(
    bridge: StatusBridge,
    window_id: int,
    window: MaintenanceWindow | None,
    stored: Stored | None,
    now: datetime,
    components: tuple[str, ...] = (),
    *,
    listed_open: bool = True,
) -> BridgeWrite | None:
    """The write that brings the page's scheduled maintenance to ``window``.

    ``window`` None: iLert answered 404 (deleted). ``listed_open`` False: the
    window is no longer OPEN (it ended, or was shortened into the past).
    ``components``: what ``window_components`` found for it.
    """
    if stored is not None and (not stored.is_open or stored.held or stored.statuspage_id is None):
        return None
    if window is None or not listed_open:
        return _window_gone(window_id, window, stored, now)
    if window.end <= window.start:
        return None  # Statuspage refuses it: the page keeps what it has, no request each pass
    seen = window_seen(window, components)
    if stored is None:
        if not components or window.end <= now:
            return None
        return _window_create(bridge, window, seen)
    before = stored.seen
    if before == seen:
        return None
    fields: dict[str, Any] = {
        "scheduled_for": window.start.isoformat(),
        "scheduled_until": window.end.isoformat(),
        "component_ids": list(components),
        "deliver_notifications": bridge.notify == "always",
    }
    name, text = _window_words(bridge, window)
    renamed = body = None
    if before is None or before.summary != seen.summary:
        renamed = fields["name"] = name
    if (before is None or before.message != seen.message) and text:
        body = fields["body"] = text
    return BridgeWrite(
        MAINTENANCE, window.id, "update", "maintenance_updated", fields, seen,
        name=renamed, body=body,
    )  # fmt: skip


def _window_create(bridge: StatusBridge, window: MaintenanceWindow, seen: Seen) -> BridgeWrite:
    name, body = _window_words(bridge, window)
    fields: dict[str, Any] = {
        "name": name,
        "status": "scheduled",
        "scheduled_for": window.start.isoformat(),
        "scheduled_until": window.end.isoformat(),
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
        # The status moves by the two above; the components only by these (the spec's switches).
        "auto_transition_to_maintenance_state": True,
        "auto_transition_to_operational_state": True,
        "component_ids": sorted(seen.impacts),
        "deliver_notifications": bridge.notify == "always",
        "metadata": window_metadata(bridge.name, window.id),
    }
    if body:
        fields["body"] = body
    return BridgeWrite(
        MAINTENANCE, window.id, "create", "maintenance_scheduled", fields, seen,
        to_status="scheduled", name=name, body=body or None,
    )  # fmt: skip


def _window_gone(
    window_id: int, window: MaintenanceWindow | None, stored: Stored | None, now: datetime
) -> BridgeWrite | None:
    """A tracked window deleted, or closed: complete its maintenance unless it ran its course."""
    if stored is None:
        return None
    # Adopted but not yet brought up to date (``seen`` None): iLert's window says when.
    seen = stored.seen or Seen("scheduled", "", "")
    end = _when(seen.end) or (window.end if window is not None else None)
    start = _when(seen.start) or (window.start if window is not None else None)
    if window is not None and end is not None and end <= now:
        # Ran its course: Statuspage's automatic completion ends it; only the row closes.
        return BridgeWrite(
            MAINTENANCE, window_id, "record", "maintenance_ended", {}, seen, closes=True,
            from_status="in_progress", to_status="completed",
        )  # fmt: skip
    cancelled = window is None and start is not None and start > now
    text = CANCELLED if cancelled else ENDED_EARLY
    return BridgeWrite(
        MAINTENANCE, window_id, "update",
        "maintenance_cancelled" if cancelled else "maintenance_completed",
        {"status": "completed", "body": text, "deliver_notifications": False},
        seen, closes=True, to_status="completed", body=text,
    )  # fmt: skip


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
