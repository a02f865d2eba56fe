"""The iLert simulator's write endpoints: what a person or a monitoring tool sends.

With the API key: `POST /api/alerts` (a manual alert; 201 with the alert),
`PUT /api/alerts/{id}/accept` and `PUT /api/alerts/{id}/resolve` (200 with the alert).
Without it, the Events API `POST /api/events` (202, no body; spec `security: []`):
the body's `integrationKey` names the alert source. An ALERT event whose `alertKey`
(legacy name `incidentKey`) matches an open alert of that source, compared without
regard to case as iLert does, is appended to that alert instead of opening another;
ACCEPT, RESOLVE and COMMENT act on that open alert, and on nothing when there is
none (still 202: iLert accepts events and processes them afterwards). A malformed
event is a 400, the one error the spec documents for the Events API.
"""

from __future__ import annotations

import copy

from ilert_statuspage_sync.simulators._ilert_alerts import AlertControls
from ilert_statuspage_sync.simulators._ilert_records import PRIORITIES, JsonObject, alert_id_of
from ilert_statuspage_sync.simulators._server import HttpError, SimRequest, SimResponse

__all__ = ["EVENT_TYPES", "AlertWrites"]

EVENT_TYPES = frozenset({"ALERT", "ACCEPT", "RESOLVE", "COMMENT"})
# The user the simulated API key belongs to: manual writes are made in their name.
KEY_USER = 1


def _object(body: object, what: str) -> JsonObject:
    if not isinstance(body, dict):
        raise HttpError(400, f"The request body must be a JSON object ({what})")
    return body


def _text(body: JsonObject, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise HttpError(400, f"'{name}' must be a non-empty string")
    return value


def _priority(body: JsonObject) -> str:
    priority = body.get("priority", "HIGH")
    if not isinstance(priority, str) or priority not in PRIORITIES:  # a list is unhashable
        raise HttpError(400, f"'priority' must be one of {sorted(PRIORITIES)}")
    return str(priority)


def _ref_id(body: JsonObject, name: str) -> int | None:
    ref = body.get(name)
    if ref is None:
        return None
    value = ref.get("id") if isinstance(ref, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise HttpError(400, f"'{name}' must be an object with an integer 'id'")
    return value


def _first_responder(body: JsonObject) -> int:
    responders = body.get("responders")
    if responders is None or responders == []:
        return KEY_USER
    first = responders[0] if isinstance(responders, list) else None
    user = first.get("user") if isinstance(first, dict) else None
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise HttpError(400, '\'responders\' must be a list of {"user": {"id": ...}}')
    return user_id


def _comments(body: JsonObject) -> list[tuple[str | None, str]]:
    """The event's `comments` as (creator, content) pairs."""
    comments = body.get("comments", [])
    if not isinstance(comments, list):
        raise HttpError(400, "'comments' must be a list of {creator, content}")
    pairs = []
    for comment in comments:
        if not isinstance(comment, dict):
            raise HttpError(400, "'comments' must be a list of {creator, content}")
        creator = _text(comment, "creator")
        pairs.append((creator, _text(comment, "content", required=True) or ""))
    return pairs


class AlertWrites(AlertControls):
    """The write routes; each one calls the same control a test would call."""

    def _route_alert_writes(self, request: SimRequest, rest: list[str]) -> SimResponse:
        """Non-GET requests under /api/alerts."""
        if rest == [] and request.method == "POST":
            return self._post_alert(_object(request.json_body, "a ManualAlert"))
        if len(rest) == 2 and rest[1] in ("accept", "resolve") and request.method == "PUT":
            return self._put_alert(alert_id_of(rest[0]), rest[1])
        raise HttpError(405, f"{request.method} is not supported by the simulator here")

    def _post_alert(self, body: JsonObject) -> SimResponse:
        summary = _text(body, "summary", required=True) or ""
        source_id = _ref_id(body, "alertSource")
        if source_id is None:
            raise HttpError(400, "'alertSource' is required")
        if source_id not in self._alert_sources or source_id in self._hidden_sources:
            raise HttpError(400, f"Alert source {source_id} does not exist")
        alert_id = self.create_alert(
            source_id,
            summary,
            details=_text(body, "details") or "",
            priority=_priority(body),
            responder_id=_first_responder(body),
            escalation_policy_id=_ref_id(body, "escalationPolicy"),
            created_by=KEY_USER,
        )
        return SimResponse(201, copy.deepcopy(self._alerts[alert_id]))

    def _put_alert(self, alert_id: int, verb: str) -> SimResponse:
        alert = self._stored(alert_id)
        status = alert.get("status")
        if status not in ("PENDING", "ACCEPTED", "RESOLVED"):
            raise HttpError(400, f"Alert {alert_id} cannot be changed")
        if verb == "accept" and status == "RESOLVED":
            raise HttpError(400, f"Alert {alert_id} is resolved and cannot be accepted")
        # Accepting an accepted alert, or resolving a resolved one, changes nothing.
        if verb == "accept" and status == "PENDING":
            self.accept(alert_id, KEY_USER)
        if verb == "resolve" and status != "RESOLVED":
            self.resolve(alert_id, KEY_USER)
        return SimResponse(200, copy.deepcopy(self._alerts[alert_id]))

    def _route_events(self, request: SimRequest) -> SimResponse:
        if request.method != "POST":
            raise HttpError(405, f"{request.method} is not supported on /api/events")
        event = _object(request.json_body, "an Event")
        key = _text(event, "integrationKey", required=True) or ""
        event_type = event.get("eventType")
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
            raise HttpError(400, f"'eventType' must be one of {sorted(EVENT_TYPES)}")
        source_id = self._source_of_integration_key(key)
        if source_id is None:
            raise HttpError(400, "No alert source has this integration key")
        alert_key = _text(event, "alertKey") or _text(event, "incidentKey")
        comments = _comments(event)
        if event_type == "COMMENT" and not comments:
            raise HttpError(400, "'comments' must hold at least one comment")
        if event_type == "ALERT":
            # Only ALERT needs a summary: the spec's own ACCEPT and RESOLVE examples send none.
            summary = _text(event, "summary", required=True) or ""
            alert_id = self._alert_event(source_id, summary, event, alert_key)
        elif alert_key is None:
            raise HttpError(400, f"'alertKey' is required for {event_type} events")
        else:
            found = self._open_alert_with_key(source_id, alert_key)
            if found is None:
                return SimResponse(202)
            alert_id = found
            if event_type == "ACCEPT" and self._alerts[alert_id]["status"] == "PENDING":
                self.accept(alert_id)
            elif event_type == "RESOLVE":
                self.resolve(alert_id)
        source_name = self._alerts[alert_id]["alertSource"]["name"]
        for creator, content in comments:
            self.comment(alert_id, content, author=creator or source_name)
        return SimResponse(202)

    def _alert_event(
        self, source_id: int, summary: str, event: JsonObject, alert_key: str | None
    ) -> int:
        """Open an alert, or append the event to the open one with the same key."""
        open_id = None if alert_key is None else self._open_alert_with_key(source_id, alert_key)
        priority = _priority(event)
        if open_id is None:
            details = _text(event, "details") or ""
            return self.create_alert(source_id, summary, details, priority, alert_key=alert_key)
        name = self._alerts[open_id]["alertSource"]["name"]
        text = f"New event received from alert source '{name}': {summary}"
        self._log(open_id, "AlertReceivedLogEntry", text, {"alertSourceName": name})
        return open_id

    def _open_alert_with_key(self, source_id: int, alert_key: str) -> int | None:
        """The open alert of the source whose key matches, ignoring case (newest wins)."""
        wanted = alert_key.casefold()
        for alert_id in sorted(self._alerts, reverse=True):
            alert = self._alerts[alert_id]
            source = alert.get("alertSource")
            if (
                isinstance(source, dict)
                and source.get("id") == source_id
                and alert.get("status") in ("PENDING", "ACCEPTED")
                and str(alert.get("alertKey", "")).casefold() == wanted
            ):
                return alert_id
        return None
