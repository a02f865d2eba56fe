"""Typed intents read and write exactly the JSON earlier versions stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ilert_statuspage_sync.core.intents import (
    ComponentChange,
    IncidentCall,
    Writer,
    in_flight_until,
    stamp,
)

STAMP = {
    "writer": {"instance": "abc", "epoch": 3},
    "recorded_at": "2026-01-05T12:00:00+00:00",
    "in_flight_s": 60.0,
}

INCIDENT: dict[str, Any] = {
    "kind": "update",
    "incident_id": None,
    "status": "monitoring",
    "body": "Fixed.",
    "updates_before": ["u1", "u2"],
    "mirror_after": {"status": "ACCEPTED", "priority": "HIGH", "responder_ids": [1]},
    "audit": [{"event": "alert-accepted", "outcome": "updated", "provenance": "x"}],
    "sent_at": "2026-01-05T12:00:00+00:00",
    **STAMP,
}

CREATE_WITH_COMPONENTS: dict[str, Any] = {
    "kind": "create",
    "incident_id": None,
    "status": "investigating",
    "body": None,
    "updates_before": None,
    "mirror_after": {"status": "PENDING"},
    "audit": [],
    "sent_at": "2026-01-05T12:00:00+00:00",
    "components": {"c1": "major_outage"},
    "components_before": {"c1": "operational"},
    **STAMP,
}

COMPONENT: dict[str, Any] = {
    "kind": "component",
    "status": "major_outage",
    "state_after": {
        "last_set": "major_outage",
        "held_since": None,
        "holder_alert_id": 7,
        "holder_action": "web",
    },
    "audit": {"alert_id": 7, "outcome": "component_changed"},
    "sent_at": "2026-01-05T12:00:00+00:00",
    **STAMP,
}


def test_incident_intent_round_trips_key_for_key() -> None:
    """An update's stored intent reads and writes back identical, key order included."""
    again = IncidentCall.from_json(INCIDENT).to_json()
    assert again == INCIDENT and list(again) == list(INCIDENT)


def test_create_with_components_round_trips() -> None:
    """A create's ``components`` fields come back where they were stored."""
    again = IncidentCall.from_json(CREATE_WITH_COMPONENTS).to_json()
    assert again == CREATE_WITH_COMPONENTS and list(again) == list(CREATE_WITH_COMPONENTS)


def test_unstamped_older_intent_stays_unstamped() -> None:
    """An intent from before stamps existed gains no stamp fields."""
    old = {key: value for key, value in INCIDENT.items() if key not in STAMP}
    assert IncidentCall.from_json(old).to_json() == old


def test_component_intent_round_trips_key_for_key() -> None:
    """A component change reads and writes back identical, key order included."""
    again = ComponentChange.from_json(COMPONENT).to_json()
    assert again == COMPONENT and list(again) == list(COMPONENT)


def test_own_unanswered_intent_is_in_flight_until_its_deadline() -> None:
    """This process's intent whose request got no answer waits out its flight time (sole too)."""
    me = Writer("me", sole=True)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    intent = stamp(me, at, 45.0)
    assert in_flight_until(intent, me, fallback_s=45.0) is None
    until = in_flight_until(intent, me, fallback_s=45.0, unanswered=True)
    assert until == at + timedelta(seconds=45)
