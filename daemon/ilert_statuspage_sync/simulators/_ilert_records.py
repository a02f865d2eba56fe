"""The JSON shapes the iLert simulator stores and serves: alerts, sources, users, log entries.

Pure functions over plain values; the simulator keeps the records and the lock.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from ilert_statuspage_sync.simulators._wire import HttpError, format_timestamp

__all__ = [
    "ESCALATION_TIMEOUT",
    "PRIORITIES",
    "SET_SOURCE_STATUSES",
    "JsonObject",
    "alert_id_of",
    "check_new_alert",
    "first_responder_id",
    "full_name",
    "new_alert",
    "new_log_entry",
    "new_source",
    "policy_ref",
    "render_entry",
    "responder",
    "responder_ids",
    "source_id_of",
    "source_status",
]

JsonObject = dict[str, Any]

PRIORITIES = frozenset({"HIGH", "LOW"})
# Alert source statuses a user sets; the others (PENDING, ALL_ACCEPTED, ALL_RESOLVED)
# follow from the source's alerts, as `AlertSource.status` is read-only in the spec.
SET_SOURCE_STATUSES = frozenset({"IN_MAINTENANCE", "DISABLED"})
# The simulated escalation policy waits this long between rules.
ESCALATION_TIMEOUT = timedelta(minutes=5)
_USER_NAMES = {
    1: ("Ada", "Lovelace"),
    2: ("Grace", "Hopper"),
    3: ("Alan", "Turing"),
    4: ("Edsger", "Dijkstra"),
    5: ("Barbara", "Liskov"),
}


def _user(user_id: int) -> JsonObject:
    first, last = _USER_NAMES.get(user_id, ("User", str(user_id)))
    return {"id": user_id, "firstName": first, "lastName": last}


def full_name(user_id: int) -> str:
    """The user's "first last" as the timeline names them."""
    user = _user(user_id)
    return f"{user['firstName']} {user['lastName']}"


def responder(user_id: int) -> JsonObject:
    """A pending responder entry for the user."""
    return {"user": _user(user_id), "status": "PENDING", "acceptedAt": None}


def responder_ids(alert: JsonObject) -> list[int]:
    """The user ids of the alert's responders, in order."""
    return [int(entry["user"]["id"]) for entry in alert["responders"]]


def first_responder_id(alert: JsonObject) -> int:
    """The first responder's user id (user 1 when there is none)."""
    ids = responder_ids(alert)
    return ids[0] if ids else 1


def alert_id_of(segment: str, what: str = "Alert") -> int:
    """A path segment as an id; 400 when it is not an integer."""
    try:
        return int(segment)
    except ValueError:
        raise HttpError(400, f"{what} id must be an integer, got {segment!r}") from None


def source_id_of(alert: JsonObject) -> object:
    """The alert's source id, or None when the (maybe planted) alert names none."""
    source = alert.get("alertSource")
    return source.get("id") if isinstance(source, dict) else None


def policy_ref(source: JsonObject | None, policy_id: int | None) -> JsonObject:
    """The `escalationPolicy` of a new alert: the source's unless another id is given."""
    if source is not None and policy_id in (None, source["escalationPolicy"]["id"]):
        return {key: source["escalationPolicy"][key] for key in ("id", "name")}
    policy_id = 1 if policy_id is None else policy_id
    return {"id": policy_id, "name": f"Escalation policy {policy_id}"}


def source_status(states: set[object]) -> str:
    """A source's read-only status from the statuses of its alerts."""
    if "PENDING" in states:
        return "PENDING"
    return "ALL_ACCEPTED" if "ACCEPTED" in states else "ALL_RESOLVED"


def render_entry(entry: JsonObject, *, with_vars: bool) -> JsonObject:
    """A log entry as served: a copy, without `vars` unless asked for."""
    rendered = copy.deepcopy(entry)
    if not with_vars:
        rendered.pop("vars", None)
    return rendered


def check_new_alert(priority: str, report_time: datetime | None) -> None:
    """ValueError for a priority iLert does not know or a naive report time."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {sorted(PRIORITIES)}")
    if report_time is not None and report_time.tzinfo is None:
        raise ValueError("report_time must be timezone-aware")


def new_alert(
    alert_id: int,
    source_id: int,
    source: JsonObject | None,
    fields: JsonObject,
    *,
    now: datetime,
    reported: datetime,
) -> JsonObject:
    """A new PENDING alert; ``fields`` holds summary, details, priority, policy, responder."""
    return {
        "id": alert_id,
        "summary": fields["summary"],
        "details": fields["details"],
        "reportTime": format_timestamp(reported),
        "resolvedOn": None,
        "status": "PENDING",
        "alertSource": {
            "id": source_id,
            "name": source["name"] if source else f"Alert source {source_id}",
            "integrationType": source["integrationType"] if source else "API",
        },
        "escalationPolicy": fields["escalationPolicy"],
        "priority": fields["priority"],
        "alertKey": f"sim-alert-{alert_id}",
        "assignedTo": None,
        "responders": [responder(fields["responder_id"])],
        "nextEscalation": format_timestamp(now + ESCALATION_TIMEOUT),
        "nextEscalationRuleIndex": 1,
        "images": [],
        "links": [],
        "severity": None,
        "labels": {},
    }


def _policy(policy_id: int, name: str | None) -> JsonObject:
    return {
        "id": policy_id,
        "name": name or f"Escalation policy {policy_id}",
        "escalationRules": [{"escalationTimeout": int(ESCALATION_TIMEOUT.total_seconds() // 60)}],
        "teams": [],
        "repeating": False,
        "frequency": 1,
        "delayMin": 0,
    }


def new_source(
    source_id: int,
    name: str,
    *,
    policy_id: int,
    policy_name: str | None,
    integration_type: str,
    integration_key: str,
    status: str | None,
) -> JsonObject:
    """A new alert source record (``status`` None: it follows the source's alerts)."""
    return {
        "id": source_id,
        "name": name,
        "teams": [],
        "escalationPolicy": _policy(policy_id, policy_name),
        "integrationType": integration_type,
        "integrationKey": integration_key,
        "integrationUrl": f"https://api.ilert.com/api/v1/events/sim/{source_id}",
        "autoResolutionTimeout": None,
        "alertGroupingWindow": None,
        "alertCreation": "ONE_ALERT_PER_EMAIL",
        "status": status,
        "active": status != "DISABLED",
        "bidirectional": False,
    }


def new_log_entry(
    entry_id: int, alert_id: int, entry_type: str, text: str, variables: dict[str, str], at: str
) -> JsonObject:
    """A timeline entry; the alert's receipt is a source event, the rest alert updates."""
    group = "ALERT_SOURCE_EVENTS" if entry_type == "AlertReceivedLogEntry" else "ALERT_UPDATES"
    return {
        "id": entry_id,
        "timestamp": at,
        "logEntryType": entry_type,
        "text": text,
        "alertId": alert_id,
        "filterTypes": [group],
        "vars": dict(variables),
    }
