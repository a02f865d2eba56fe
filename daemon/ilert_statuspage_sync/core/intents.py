"""Recorded write intents: what a write will do, whose it is, and whether it may still fly.

An intent is stored as JSON (``pending_call`` of a link or a component row)
right before its request goes out; ``IncidentCall`` and ``ComponentChange`` are
its typed forms, converted to and from exactly the JSON earlier versions stored.

Every intent carries a stamp: the process (instance, leadership epoch) that
recorded it, when (the database's clock, shared by every replica), and how long
its write can take at most. An intent of another process is only reconciled
once that time has passed: before, its request may still land, and acting on it
(a second create, say) would duplicate it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ilert_statuspage_sync.core.components import ComponentState

__all__ = [
    "BridgeCall",
    "ComponentChange",
    "IncidentCall",
    "Intent",
    "Writer",
    "in_flight_until",
    "stamp",
]

# The stamp's keys (``stamp``), stored after an intent's own fields.
STAMP_KEYS = ("writer", "recorded_at", "in_flight_s")


@dataclass(frozen=True)
class Writer:
    """This process as the author of intents."""

    instance: str
    epoch: int | None = None
    # True where the database admits one process at a time (SQLite's flock): an
    # intent of another process means that process is gone, so is its request.
    sole: bool = True
    # Stamps (``recorded_at``) of this process's intents whose request ended with no
    # answer: the server may still apply them, so they wait out their flight time.
    # Shared by every copy of this author (the writers of each pass, a new epoch).
    unanswered: set[str] = field(default_factory=set, compare=False, repr=False)


def stamp(writer: Writer, recorded_at: datetime, in_flight_s: float) -> dict[str, Any]:
    """The intent fields saying who recorded it, when, and for how long its write may fly."""
    return {
        "writer": {"instance": writer.instance, "epoch": writer.epoch},
        "recorded_at": recorded_at.isoformat(),
        "in_flight_s": in_flight_s,
    }


def in_flight_until(
    intent: Mapping[str, Any], me: Writer, *, fallback_s: float, unanswered: bool = False
) -> datetime | None:
    """Until when (database clock) the write of ``intent`` may still land.

    None when it cannot be in flight: our own intent (this process waited for
    its write's answer), or any intent on a single-process database. But an
    own intent whose request ended without an answer (``unanswered``: a read
    timeout, a dropped connection) may still be applied by the server: it
    waits like another process's. An intent without a stamp (an older
    version) counts from its ``sent_at`` with ``fallback_s``.
    """
    if not unanswered:
        if me.sole:
            return None
        writer = intent.get("writer")
        if isinstance(writer, Mapping) and writer.get("instance") == me.instance:
            return None
    recorded = intent.get("recorded_at") or intent.get("sent_at")
    if not isinstance(recorded, str):
        return None
    try:
        start = datetime.fromisoformat(recorded)
    except ValueError:
        return None
    seconds = intent.get("in_flight_s")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        seconds = fallback_s
    return start + timedelta(seconds=float(seconds))


def _stamp_of(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in STAMP_KEYS if key in data}


@dataclass(frozen=True)
class IncidentCall:
    """The intent of one incident create or update (stored in the link's ``pending_call``)."""

    kind: str
    incident_id: str | None
    status: str | None
    body: str | None
    # Before an update: the ids of the incident's updates that carry its body already (an
    # older intent: every update's id; None: a create, or an intent older still).
    updates_before: tuple[str, ...] | None
    # The mirror the write settles (``store.repo.mirror_to_dict`` form).
    mirror_after: Mapping[str, Any]
    # One audit row per decision the write carries.
    audit: tuple[Mapping[str, Any], ...]
    sent_at: str
    # A create's ``components`` map and the statuses listed before it; None: it set none.
    components: Mapping[str, str] | None = None
    components_before: Mapping[str, str] | None = None
    # Who recorded it, when, for how long it may fly (``stamp``); empty until recorded.
    stamp: Mapping[str, Any] = field(default_factory=dict)

    def stamped(self, fields: Mapping[str, Any]) -> IncidentCall:
        """This intent with its stamp."""
        return replace(self, stamp=dict(fields))

    def to_json(self) -> dict[str, Any]:
        """The stored form, key for key as earlier versions wrote it."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "incident_id": self.incident_id,
            "status": self.status,
            "body": self.body,
            "updates_before": list(self.updates_before)
            if self.updates_before is not None
            else None,
            "mirror_after": dict(self.mirror_after),
            "audit": [dict(row) for row in self.audit],
            "sent_at": self.sent_at,
        }
        if self.components is not None:
            data["components"] = dict(self.components)
            data["components_before"] = dict(self.components_before or {})
        return {**data, **self.stamp}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IncidentCall:
        """Read a stored intent (an older one may lack the later fields)."""
        before = data.get("updates_before")
        components, listed = data.get("components"), data.get("components_before")
        return cls(
            kind=str(data["kind"]),
            incident_id=data.get("incident_id"),
            status=data.get("status"),
            body=data.get("body"),
            updates_before=tuple(before) if isinstance(before, list) else None,
            mirror_after=data["mirror_after"],
            audit=tuple(data.get("audit") or ()),
            sent_at=str(data.get("sent_at")),
            components=components if isinstance(components, dict) else None,
            components_before=listed if isinstance(listed, dict) else None,
            stamp=_stamp_of(data),
        )


@dataclass(frozen=True)
class ComponentChange:
    """The intent of one component status PATCH (stored in the component row's ``pending_call``)."""

    status: str
    state_after: ComponentState
    # The audit row the change writes once it landed.
    audit: Mapping[str, Any]
    sent_at: str
    stamp: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "component"

    def stamped(self, fields: Mapping[str, Any]) -> ComponentChange:
        """This intent with its stamp."""
        return replace(self, stamp=dict(fields))

    def to_json(self) -> dict[str, Any]:
        """The stored form, key for key as earlier versions wrote it."""
        state = self.state_after
        data = {
            "kind": self.kind,
            "status": self.status,
            "state_after": {
                "last_set": state.last_set,
                "held_since": state.held_since,
                "holder_alert_id": state.holder_alert_id,
                "holder_action": state.holder_action,
            },
            "audit": dict(self.audit),
            "sent_at": self.sent_at,
        }
        return {**data, **self.stamp}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComponentChange:
        """Read a stored intent; a malformed state or audit reads as empty."""
        audit = data.get("audit")
        return cls(
            status=str(data.get("status") or ""),
            state_after=_state_from_json(data.get("state_after")),
            audit=audit if isinstance(audit, dict) else {},
            sent_at=str(data.get("sent_at")),
            stamp=_stamp_of(data),
            kind=str(data.get("kind", "component")),
        )


@dataclass(frozen=True)
class BridgeCall:
    """The intent of one status bridge write (stored in the ``bridged`` row's ``pending_call``)."""

    op: str  # "create" or "update"
    subject: str  # "incident" or "maintenance"
    statuspage_id: str | None
    status: str | None
    body: str | None
    # The ``core.bridge.Seen`` the write settles, as stored.
    seen_after: Mapping[str, Any]
    closes: bool
    event: str
    sent_at: str
    stamp: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "bridge"
    # The page's updates with ``body`` already, before the write: not proof that it landed.
    updates_before: tuple[str, ...] | None = None

    def stamped(self, fields: Mapping[str, Any]) -> BridgeCall:
        """This intent with its stamp."""
        return replace(self, stamp=dict(fields))

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "op": self.op,
            "subject": self.subject,
            "statuspage_id": self.statuspage_id,
            "status": self.status,
            "body": self.body,
            "seen_after": dict(self.seen_after),
            "closes": self.closes,
            "event": self.event,
            "sent_at": self.sent_at,
        }
        if self.updates_before is not None:
            data["updates_before"] = list(self.updates_before)
        return {**data, **self.stamp}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BridgeCall:
        """Read a stored intent; anything malformed reads as an empty update."""
        seen = data.get("seen_after")
        return cls(
            op=str(data.get("op") or "update"),
            subject=str(data.get("subject") or "incident"),
            statuspage_id=_str_or_none(data.get("statuspage_id")),
            status=_str_or_none(data.get("status")),
            body=_str_or_none(data.get("body")),
            seen_after=seen if isinstance(seen, dict) else {},
            closes=data.get("closes") is True,
            event=str(data.get("event") or "bridge_updated"),
            sent_at=str(data.get("sent_at")),
            stamp=_stamp_of(data),
            updates_before=_ids_or_none(data.get("updates_before")),
        )


def _ids_or_none(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(str(item) for item in value)


Intent = IncidentCall | ComponentChange | BridgeCall


def _state_from_json(data: object) -> ComponentState:
    if not isinstance(data, dict):
        return ComponentState()
    alert_id = data.get("holder_alert_id")
    return ComponentState(
        last_set=_str_or_none(data.get("last_set")),
        held_since=_str_or_none(data.get("held_since")),
        holder_alert_id=alert_id if isinstance(alert_id, int) else None,
        holder_action=_str_or_none(data.get("holder_action")),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
