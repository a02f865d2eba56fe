"""The JSON shapes the Statuspage simulator stores and serves, and its listing helpers.

Pure functions over plain values; the simulator keeps the records, ids and lock.
"""

from __future__ import annotations

import copy
import math
import string
from collections.abc import Callable
from typing import Any

from ilert_statuspage_sync.simulators._wire import (
    HttpError,
    SimResponse,
    format_timestamp,
    parse_timestamp,
)

__all__ = [
    "COMPONENT_STATUSES",
    "ID_ALPHABET",
    "LIST_LIMIT",
    "SEVERITY",
    "WRITE_METHODS",
    "JsonObject",
    "blank_incident",
    "mentions",
    "new_component",
    "new_page",
    "new_update",
    "page_slice",
    "render_incident",
    "route_parts",
    "throttled_response",
    "timestamp_field",
]

JsonObject = dict[str, Any]

LIST_LIMIT = 100
COMPONENT_STATUSES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
# A group shows the worst status of its members, in this order (worst last).
SEVERITY = {status: rank for rank, status in enumerate(COMPONENT_STATUSES)}
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
ID_ALPHABET = string.ascii_lowercase + string.digits


def timestamp_field(fields: JsonObject, name: str) -> str | None:
    """A timestamp field of a write, normalised; None when absent or null."""
    moment = parse_timestamp(fields.get(name))
    return format_timestamp(moment) if moment is not None else None


def mentions(incident: JsonObject, needle: str) -> bool:
    """The spec's `q`: name, status, postmortem body and incident update bodies."""
    texts = [incident["name"], incident["status"], incident["postmortem_body"] or ""]
    texts += [update["body"] for update in incident["incident_updates"]]
    return any(needle in text.lower() for text in texts)


def page_slice(
    items: list[JsonObject],
    page: int,
    per_page: int,
    render: Callable[[JsonObject], JsonObject] = copy.deepcopy,
) -> list[JsonObject]:
    """Copies (``render``) of one page of ``items``; 400 for a page or size below one."""
    if page < 1 or per_page < 1:
        raise HttpError(400, "'page' and the page size must be positive")
    start = (page - 1) * per_page
    return [render(item) for item in items[start : start + per_page]]


def render_incident(incident: JsonObject) -> JsonObject:
    """A copy of a stored incident to answer with; its updates are shared, not copied.

    An update is never changed once added (the simulator only inserts new
    ones), so the answer copies the list and not each entry: like the real API,
    an answer carries the whole history, without a deep copy of it per request.
    """
    rendered = {
        key: copy.deepcopy(value) for key, value in incident.items() if key != "incident_updates"
    }
    rendered["incident_updates"] = list(incident["incident_updates"])
    return rendered


def route_parts(path: str) -> list[str]:
    """Path segments with the optional `.json` suffix dropped from the last one."""
    segments = path.strip("/").split("/")
    segments[-1] = segments[-1].removesuffix(".json")
    return segments


def throttled_response(status: int, retry_after: float | None) -> SimResponse:
    """Statuspage's over-the-limit answer, with Retry-After when one is given."""
    if not 400 <= status <= 599:
        raise ValueError("status must be an HTTP error status (400-599)")
    if retry_after is not None and retry_after < 0:
        raise ValueError("retry_after must not be negative")
    headers = {} if retry_after is None else {"Retry-After": str(math.ceil(retry_after))}
    return SimResponse(status, {"error": "Rate limit exceeded"}, headers)


def new_page(page_id: str, name: str | None, now: str) -> JsonObject:
    """A page record (``name`` None: a generic name)."""
    return {
        "id": page_id,
        "name": name or f"Simulated page {page_id}",
        "created_at": now,
        "updated_at": now,
        "subdomain": f"{page_id}.statuspage.io",
        "time_zone": "UTC",
        "url": None,
        "page_description": None,
        "headline": None,
    }


def new_component(
    component_id: str, page_id: str, fields: JsonObject, *, position: int, now: str
) -> JsonObject:
    """A component record; ``fields`` holds group_id, group, name, description, status."""
    return {
        "id": component_id,
        "page_id": page_id,
        "group_id": fields["group_id"],
        "created_at": now,
        "updated_at": now,
        "group": fields["group"],
        "name": fields["name"],
        "description": fields["description"],
        "position": position,
        "status": fields["status"],
        "showcase": True,
        "only_show_if_degraded": False,
        "automation_email": f"component+{component_id}@notifications.statuspage.io",
        "start_date": None,
    }


def blank_incident(incident_id: str, shortlink_id: str, page_id: str, now: str) -> JsonObject:
    """A new incident before its first write is applied (no name, no status, no updates)."""
    return {
        "id": incident_id,
        "page_id": page_id,
        "name": "",
        "status": None,
        "impact": "none",
        "impact_override": None,
        "created_at": now,
        "updated_at": now,
        "started_at": now,
        "monitoring_at": None,
        "resolved_at": None,
        "scheduled_for": None,
        "scheduled_until": None,
        "scheduled_remind_prior": False,
        "scheduled_reminded_at": None,
        "scheduled_auto_in_progress": False,
        "scheduled_auto_completed": False,
        "auto_transition_to_maintenance_state": False,
        "auto_transition_to_operational_state": False,
        "auto_transition_deliver_notifications_at_start": False,
        "auto_transition_deliver_notifications_at_end": False,
        "shortlink": f"https://stspg.io/{shortlink_id}",
        "metadata": {},
        "components": [],
        "postmortem_body": None,
        "postmortem_body_last_updated_at": None,
        "postmortem_ignored": False,
        "postmortem_published_at": None,
        "postmortem_notified_subscribers": False,
        "postmortem_notified_twitter": False,
        "reminder_intervals": None,
        "incident_updates": [],
    }


def new_update(
    update_id: str, incident_id: str, status: str, body: str, notify: bool, now: str
) -> JsonObject:
    """An incident update record."""
    return {
        "id": update_id,
        "incident_id": incident_id,
        "status": status,
        "body": body,
        "created_at": now,
        "updated_at": now,
        "display_at": now,
        "deliver_notifications": notify,
        "affected_components": None,
        "custom_tweet": None,
        "tweet_id": None,
        "twitter_updated_at": None,
        "wants_twitter_update": False,
    }
