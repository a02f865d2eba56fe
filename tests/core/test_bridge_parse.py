"""Tests of the parsers of iLert's status model: incidents, services, maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ilert_statuspage_sync.core.bridge_model import AffectedService
from ilert_statuspage_sync.core.bridge_parse import parse_incident, parse_service, parse_window
from ilert_statuspage_sync.errors import PayloadError


def _incident(**changes: Any) -> dict[str, Any]:
    """An incident as ``GET /api/incidents`` returns it (the spec's Incident, filled in)."""
    incident: dict[str, Any] = {
        "id": 77,
        "summary": "Checkout is slow",
        "status": "IDENTIFIED",
        "message": "A bad deploy; rolling back.",
        "sendNotification": True,
        "createdAt": "2026-03-01T10:00:00.000Z",
        "updatedAt": "2026-03-01T10:05:00.000+01:00",
        "resolvedOn": None,
        "affectedServices": [
            {"impact": "DEGRADED", "service": {"id": 5, "name": "Checkout"}},
            {"impact": "MAJOR_OUTAGE", "service": {"id": "6", "name": "Payments"}},
        ],
        "subscribed": False,
    }
    incident.update(changes)
    return incident


def _window(**changes: Any) -> dict[str, Any]:
    """A maintenance window as the simulator serves it (the spec's schema plus ``id``)."""
    window: dict[str, Any] = {
        "id": 12,
        "summary": "Database upgrade",
        "description": "Postgres 17",
        "start": "2026-03-02T22:00:00Z",
        "end": "2026-03-02T23:30:00Z",
        "timezone": "Europe/Berlin",
        "services": [{"id": 5, "name": "Checkout"}],
        "alertSources": [{"id": 101, "name": "Checkout API"}],
        "createdBy": "ada",
        "notifications": {"atCreation": True},
    }
    window.update(changes)
    return window


def test_incident_reads_every_field() -> None:
    """Every field of a full incident lands in the value, timestamps as aware UTC."""
    incident = parse_incident(_incident())
    assert incident.id == 77
    assert (incident.summary, incident.status) == ("Checkout is slow", "IDENTIFIED")
    assert incident.message == "A bad deploy; rolling back."
    assert incident.send_notification is True
    assert incident.created_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert incident.updated_at == datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
    assert incident.resolved_on is None
    assert incident.affected == (
        AffectedService(5, "DEGRADED"),
        AffectedService(6, "MAJOR_OUTAGE"),
    )


def test_incident_missing_optional_fields_default() -> None:
    """An incident of only id and status reads with defaults for everything else."""
    incident = parse_incident({"id": 3, "status": "INVESTIGATING"})
    assert incident.summary == "iLert incident 3"
    assert (incident.message, incident.send_notification, incident.affected) == ("", False, ())
    assert incident.created_at is incident.updated_at is incident.resolved_on is None


def test_incident_unknown_status_and_impact_kept_as_read() -> None:
    """A status or impact iLert added later is kept as read, never guessed."""
    raw = _incident(
        status="POSTMORTEM", affectedServices=[{"impact": "WOBBLY", "service": {"id": 1}}]
    )
    incident = parse_incident(raw)
    assert incident.status == "POSTMORTEM"
    assert incident.affected == (AffectedService(1, "WOBBLY"),)


def test_naive_timestamp_is_read_as_utc() -> None:
    """A timestamp without offset is read as UTC, as for an alert."""
    incident = parse_incident(_incident(resolvedOn="2026-03-01T12:00:00"))
    assert incident.resolved_on == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"id": None}, "incident: field 'id' is missing"),
        ({"id": True}, "incident: field 'id' must be an id"),
        ({"id": 2**63}, "incident: field 'id' must be an id"),
        ({"id": 10**5000}, "a 16610-bit number"),
        ({"id": "9" * 5000}, "incident: field 'id' must be an id"),
        ({"id": 1.5}, "incident: field 'id' must be an id"),
        ({"status": None}, "incident 77: field 'status' is missing"),
        ({"status": 3}, "incident 77: field 'status' must be a string"),
        ({"status": "X" * 33}, "incident 77: field 'status' must be 1 to 32"),
        ({"sendNotification": "yes"}, "incident 77: field 'sendNotification'"),
        ({"createdAt": "yesterday"}, "incident 77: createdAt"),
        ({"affectedServices": {}}, "incident 77: field 'affectedServices' must be a list"),
        ({"affectedServices": [{"impact": "DEGRADED"}]}, "'affectedServices[].service'"),
        (
            {"affectedServices": [{"impact": "DEGRADED", "service": {"id": False}}]},
            "incident 77: field 'affectedServices[].service.id' must be an id",
        ),
        (
            {"affectedServices": [{"service": {"id": 4}}]},
            "incident 77: field 'affectedServices[].impact' is missing",
        ),
    ],
)
def test_incident_bad_field_is_named(changes: dict[str, Any], named: str) -> None:
    """A missing or mistyped field raises a PayloadError naming the incident and the field."""
    with pytest.raises(PayloadError) as raised:
        parse_incident(_incident(**changes))
    assert named in str(raised.value)


def test_a_non_object_is_unreadable() -> None:
    """A list where an object belongs is a PayloadError, not a crash."""
    for parse in (parse_incident, parse_service, parse_window):
        with pytest.raises(PayloadError, match="expected a JSON object"):
            parse([1, 2])


def test_service_reads_id_name_and_status() -> None:
    """A service keeps its id, name and status; an unknown status is kept as read."""
    service = parse_service({"id": "42", "name": "Checkout", "status": "BROWNOUT", "alias": "x"})
    assert (service.id, service.name, service.status) == (42, "Checkout", "BROWNOUT")


def test_service_without_name_or_with_bad_status() -> None:
    """A nameless service is named by its id; one without a status is unreadable."""
    assert parse_service({"id": 9, "status": "OPERATIONAL"}).name == "iLert service 9"
    with pytest.raises(PayloadError, match="service 9: field 'status' is missing"):
        parse_service({"id": 9, "name": "x"})


def test_window_reads_every_field() -> None:
    """A window's times are aware UTC; its services and alert sources become ids."""
    window = parse_window(_window())
    assert (window.id, window.summary, window.description) == (
        12,
        "Database upgrade",
        "Postgres 17",
    )
    assert window.start == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert (window.timezone, window.service_ids, window.source_ids) == (
        "Europe/Berlin",
        (5,),
        (101,),
    )


def test_window_missing_optional_fields_default() -> None:
    """A window of id, start and end reads with empty text and no services or sources."""
    window = parse_window({"id": 1, "start": "2026-03-02T22:00:00Z", "end": "2026-03-02T23:00:00Z"})
    assert (window.summary, window.description, window.timezone) == ("", "", None)
    assert (window.service_ids, window.source_ids) == ((), ())


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"id": None}, "maintenance window: field 'id' is missing"),
        ({"id": "12a"}, "maintenance window: field 'id' must be an id"),
        ({"start": None}, "maintenance window 12: start"),
        ({"end": "2026-13-01T00:00:00Z"}, "maintenance window 12: end"),
        (
            {"services": [{"name": "no id"}]},
            "maintenance window 12: field 'services[].id' is missing",
        ),
        ({"alertSources": [{"id": -1}]}, "maintenance window 12: field 'alertSources[].id'"),
        ({"services": "5"}, "maintenance window 12: field 'services' must be a list"),
    ],
)
def test_window_bad_field_is_named(changes: dict[str, Any], named: str) -> None:
    """A window without a usable id, times or references is unreadable, with the field named."""
    with pytest.raises(PayloadError) as raised:
        parse_window(_window(**changes))
    assert named in str(raised.value)


def test_free_text_is_cleaned() -> None:
    """Control characters and NUL are dropped from free text, as for an alert."""
    incident = parse_incident(_incident(summary="ab\x00c", message="line\x07"))
    assert (incident.summary, incident.message) == ("abc", "line")
