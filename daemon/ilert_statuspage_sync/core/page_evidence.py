"""What the daemon last wrote to an incident, recorded on the incident itself.

The state database can fall behind the page: an older backup restored, a WAL
lost in a crash. The page then shows writes the database forgot: read as they
are, they look like a person's edits (never resolved again), and the alert's
later events are sent again (a second incident, a comment twice).

So every write to an alert's own incident carries, in ``metadata.ilert``, what
the incident holds after it: the status (``wrote_status``), the alert as
mirrored (``wrote_mirror``, JSON text), when (``wrote_at``) and whether a
person had taken the incident over (``wrote_override``). Statuspage returns
the metadata in its incident lists, so the read every pass already does carries
it. A person's edit in Statuspage's UI leaves the metadata alone: a status that
differs from ``wrote_status`` is a person's; one that matches is the daemon's
own, even if the database no longer knows it.

``catch_up`` decides when the recorded write is newer than the database's link
(the database is behind): the link takes the recorded state, so nothing is
sent again and nothing is taken for a person. Values are strings only (the API
documents objects at the top level and no more).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.core.model import AlertStatus, Event, EventKind, Mirror

__all__ = [
    "CatchUp",
    "LinkState",
    "Recorded",
    "catch_up",
    "not_shown",
    "recorded",
    "shown_without_record",
    "written_fields",
]

_INT_KEYS = ("escalation_policy_id", "escalation_rule_index", "last_log_entry_id")
_FIELD_KINDS = frozenset({EventKind.REASSIGNED, EventKind.ESCALATED, EventKind.PRIORITY_RAISED})
_STATUS, _MIRROR, _AT, _OVERRIDE = "wrote_status", "wrote_mirror", "wrote_at", "wrote_override"
# The mirror's keys (``store.repo.mirror_to_dict``); a recorded mirror missing one is ignored.
_MIRROR_KEYS = frozenset(
    {
        "status",
        "priority",
        "responder_ids",
        "escalation_policy_id",
        "escalation_rule_index",
        "next_escalation",
        "last_log_entry_id",
    }
)


@dataclass(frozen=True)
class Recorded:
    """The daemon's last write to an incident, as the incident itself records it."""

    status: str
    mirror: Mapping[str, Any]
    at: datetime
    override: bool


@dataclass(frozen=True)
class LinkState:
    """What the database says of one link, for ``catch_up``."""

    incident_id: str | None
    status: str | None
    mirror: Mapping[str, Any]
    updated_at: datetime
    pending: bool
    override: bool


@dataclass(frozen=True)
class CatchUp:
    """The database is behind the page: the link takes the state the page records."""

    status: str
    mirror: Mapping[str, Any]
    override: bool


def written_fields(
    status: str | None, mirror: Mapping[str, Any], at: datetime, override: bool
) -> dict[str, str]:
    """The ``metadata.ilert`` fields a write records beside ``alert_id`` and ``incident_action``."""
    fields = {_MIRROR: json.dumps(dict(mirror), sort_keys=True), _AT: at.isoformat()}
    if status is not None:
        fields[_STATUS] = status
    if override:
        fields[_OVERRIDE] = "1"
    return fields


def recorded(metadata: Mapping[str, Any]) -> Recorded | None:
    """The write recorded in ``metadata.ilert``; None when absent or malformed."""
    ilert = metadata.get("ilert") if isinstance(metadata, Mapping) else None
    if not isinstance(ilert, Mapping):
        return None
    status, mirror, at = ilert.get(_STATUS), ilert.get(_MIRROR), ilert.get(_AT)
    if not (isinstance(status, str) and isinstance(mirror, str) and isinstance(at, str)):
        return None
    try:
        parsed = json.loads(mirror)
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    if not _mirror_shaped(parsed) or when.tzinfo is None:
        return None
    return Recorded(status, parsed, when, ilert.get(_OVERRIDE) == "1")


def _mirror_shaped(data: object) -> bool:
    """Whether ``data`` is a mirror as ``store.repo.mirror_to_dict`` writes it."""
    if not isinstance(data, dict) or not data.keys() >= _MIRROR_KEYS:
        return False
    responders = data["responder_ids"]
    escalation = data["next_escalation"]
    if escalation is not None:
        try:
            escalation = datetime.fromisoformat(escalation) if isinstance(escalation, str) else 0
        except ValueError:
            return False
    return (
        isinstance(data["status"], str)
        and isinstance(data["priority"], str)
        and isinstance(responders, list)
        and all(isinstance(item, str) for item in responders)
        and all(_optional_int(data[key]) for key in _INT_KEYS)
        and (escalation is None or (isinstance(escalation, datetime) and bool(escalation.tzinfo)))
    )


def _optional_int(value: object) -> bool:
    # The columns are 64-bit: anything else could not be stored.
    return value is None or (
        isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    )


def catch_up(link: LinkState, incident_id: str, shown: Recorded | None) -> CatchUp | None:
    """The state to take from the page, when it records a write the database does not know.

    Only for the link's own incident, with no write of ours in flight (its
    reconciliation settles it first), and only when the recorded write is
    newer than the link's last change (a stale read carries an older one) and
    ahead of the link's mirror: a later comment cursor or alert status, and
    neither behind. Time alone is not enough: after a clock stepped back (or a
    replica whose clock ran ahead wrote it), the link's later passes look older
    than the write, though they moved its mirror on.
    """
    if shown is None or link.pending or link.incident_id != incident_id:
        return None
    if shown.at <= link.updated_at or not _ahead(shown.mirror, link.mirror):
        return None
    return CatchUp(shown.status, shown.mirror, shown.override or link.override)


def not_shown(events: Sequence[Event], shown: Mirror) -> list[Event]:
    """The events an adopted incident does not show yet, in order.

    ``shown`` is the alert as the incident reflects it. A comment is shown once
    the comment cursor passed it; an accept or resolve once the status says so;
    a re-assignment, escalation or priority change once the fields match, and
    then every such change before it too.
    """
    last_field = max(
        (i for i, e in enumerate(events) if e.kind in _FIELD_KINDS and _reached(e, shown)),
        default=-1,
    )
    return [
        event
        for index, event in enumerate(events)
        if not _reached(event, shown) and not (event.kind in _FIELD_KINDS and index < last_field)
    ]


def shown_without_record(events: Sequence[Event], planned: Mirror) -> Mirror:
    """An incident without a recorded write shows everything but a resolve: it is unresolved.

    Its comments count as posted (never twice; one posted while the state was
    lost is not posted), as a rebuild of an empty database does.
    """
    accepted = any(event.kind is EventKind.ACCEPTED for event in events)
    if planned.status != AlertStatus.RESOLVED:
        return planned
    return planned.advanced(status=AlertStatus.ACCEPTED if accepted else AlertStatus.PENDING)


def _reached(event: Event, shown: Mirror) -> bool:
    after = event.mirror_after
    if event.kind is EventKind.CREATED:
        return True
    if event.kind is EventKind.COMMENT_ADDED:
        cursor = shown.last_log_entry_id
        return cursor is not None and (event.log_entry_id or 0) <= cursor
    if event.kind is EventKind.ACCEPTED:
        return shown.status in (AlertStatus.ACCEPTED, AlertStatus.RESOLVED)
    if event.kind is EventKind.RESOLVED:
        return shown.status == AlertStatus.RESOLVED
    return (
        after.priority,
        after.responder_ids,
        after.escalation_policy_id,
        after.escalation_rule_index,
    ) == (
        shown.priority,
        shown.responder_ids,
        shown.escalation_policy_id,
        shown.escalation_rule_index,
    )


_RANK = {AlertStatus.PENDING: 0, AlertStatus.ACCEPTED: 1, AlertStatus.RESOLVED: 2}


def _ahead(shown: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether the recorded mirror is ahead of the stored one (see ``catch_up``)."""
    if not stored:
        return True
    pairs = (
        (_cursor(shown), _cursor(stored)),
        (_RANK.get(str(shown.get("status")), 0), _RANK.get(str(stored.get("status")), 0)),
    )
    return all(a >= b for a, b in pairs) and any(a > b for a, b in pairs)


def _cursor(mirror: Mapping[str, Any]) -> int:
    value = mirror.get("last_log_entry_id")
    return value if isinstance(value, int) else -1
