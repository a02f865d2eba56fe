"""The status bridge's decisions: iLert incidents and windows as Statuspage writes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.core.bridge import (
    CANCELLED,
    ENDED_EARLY,
    Seen,
    Stored,
    incident_seen,
    plan_incident,
    plan_window,
    window_components,
    window_seen,
)
from ilert_statuspage_sync.core.bridge_model import (
    AffectedService,
    IlertIncident,
    MaintenanceWindow,
    StatusBridge,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BRIDGE = StatusBridge("platform", "main", "page1", {101: "comp-a", 102: "comp-b"})


def incident(
    status: str = "INVESTIGATING", message: str = "Looking into it", **kw: object
) -> IlertIncident:
    """An iLert incident on service 101 at a partial outage."""
    base = IlertIncident(
        7, "API errors", status, message, True, NOW, NOW, None,
        (AffectedService(101, "PARTIAL_OUTAGE"),),
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def published(item: IlertIncident) -> Stored:
    """The row of an incident published as ``item`` is."""
    return Stored("sp1", incident_seen(BRIDGE, item))


def test_a_new_incident_on_a_mapped_service_is_created_with_status_message_and_components() -> None:
    """A new iLert incident becomes one create: its status, message, components and metadata."""
    write = plan_incident(BRIDGE, 7, incident(), None)
    assert write is not None and write.op == "create"
    assert write.fields["status"] == "investigating"
    assert write.fields["body"] == "Looking into it"
    assert write.fields["name"] == "API errors"
    assert write.fields["component_ids"] == ["comp-a"]
    assert write.fields["deliver_notifications"] is True
    assert write.fields["metadata"] == {"ilert": {"incident_id": "7", "bridge": "platform"}}
    assert write.seen_after.impacts == {"comp-a": "partial_outage"}


def test_an_incident_touching_no_mapped_service_is_not_published() -> None:
    """Only incidents on mapped services reach the page."""
    other = incident(affected=(AffectedService(999, "MAJOR_OUTAGE"),))
    assert plan_incident(BRIDGE, 7, other, None) is None


def test_an_incident_resolved_before_it_was_seen_is_not_published() -> None:
    """An incident over before the first read is not put on the page."""
    assert plan_incident(BRIDGE, 7, incident("RESOLVED"), None) is None


def test_each_status_change_is_one_update_carrying_the_message() -> None:
    """investigating -> identified -> monitoring -> resolved: one update each, with the message."""
    stored = published(incident())
    for status, event in (
        ("IDENTIFIED", "bridge_status"),
        ("MONITORING", "bridge_status"),
        ("RESOLVED", "bridge_resolved"),
    ):
        now = incident(status, f"now {status}")
        write = plan_incident(BRIDGE, 7, now, stored)
        assert write is not None and write.op == "update" and write.event == event
        assert write.fields["status"] == status.lower()
        assert write.fields["body"] == f"now {status}"
        assert write.closes == (status == "RESOLVED")
        stored = Stored("sp1", write.seen_after)
    assert plan_incident(BRIDGE, 7, incident("RESOLVED", "now RESOLVED"), stored) is None


def test_a_message_change_alone_is_one_update() -> None:
    """A new message with the same status is one update with that message."""
    write = plan_incident(BRIDGE, 7, incident(message="Found it"), published(incident()))
    assert write is not None and write.event == "bridge_message"
    assert write.fields["body"] == "Found it" and write.fields["status"] == "investigating"


def test_an_unchanged_incident_costs_nothing() -> None:
    """Nothing changed in iLert: no write."""
    assert plan_incident(BRIDGE, 7, incident(), published(incident())) is None


def test_an_impact_change_only_records_the_new_holds() -> None:
    """A worse impact on the same service moves the component, not the incident."""
    worse = incident(affected=(AffectedService(101, "MAJOR_OUTAGE"),))
    write = plan_incident(BRIDGE, 7, worse, published(incident()))
    assert write is not None and write.op == "record" and write.fields == {}
    assert write.seen_after.impacts == {"comp-a": "major_outage"}


def test_a_deleted_incident_is_resolved_with_the_deleted_text() -> None:
    """A 404 for a published incident resolves it, saying it was removed."""
    write = plan_incident(BRIDGE, 7, None, published(incident()))
    assert write is not None and write.closes and write.fields["status"] == "resolved"
    assert write.ilert_id == 7


def test_a_held_or_closed_row_is_left_alone() -> None:
    """A person's edit (held) or a closed row: the bridge writes nothing more."""
    stored = published(incident())
    assert plan_incident(BRIDGE, 7, incident("RESOLVED"), replace(stored, held=True)) is None
    assert plan_incident(BRIDGE, 7, incident("RESOLVED"), replace(stored, is_open=False)) is None


def test_notify_policy_overrides_send_notification() -> None:
    """``never`` and ``always`` override the incident's own sendNotification."""
    never = replace(BRIDGE, notify="never")
    always = replace(BRIDGE, notify="always")
    quiet = incident(send_notification=False)
    assert plan_incident(never, 7, incident(), None).fields["deliver_notifications"] is False  # type: ignore[union-attr]
    assert plan_incident(always, 7, quiet, None).fields["deliver_notifications"] is True  # type: ignore[union-attr]


def test_redaction_applies_to_name_and_body() -> None:
    """The bridge's redact patterns mask the published name and message."""
    bridge = replace(BRIDGE, redact=(re.compile(r"db-\d+"),))
    write = plan_incident(bridge, 7, incident(message="db-42 down", summary="db-42"), None)
    assert write is not None
    assert "db-42" not in write.fields["body"] and "db-42" not in write.fields["name"]


def test_seen_survives_its_json_and_malformed_json_reads_as_nothing() -> None:
    """A stored Seen reads back equal; anything malformed reads as None."""
    seen = incident_seen(BRIDGE, incident())
    assert Seen.from_json(seen.to_json()) == seen
    assert Seen.from_json({"status": 3}) is None
    assert Seen.from_json("x") is None


def window(
    start: timedelta = timedelta(hours=1), end: timedelta = timedelta(hours=2), **kw: object
) -> MaintenanceWindow:
    """A window on service 102, starting and ending relative to NOW."""
    base = MaintenanceWindow(5, "DB upgrade", "Planned", NOW + start, NOW + end, service_ids=(102,))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_an_open_window_becomes_a_scheduled_maintenance_with_automatic_transitions() -> None:
    """An OPEN window on a mapped service is scheduled with its times and components."""
    item = window()
    parts = window_components(BRIDGE, item, {})
    write = plan_window(BRIDGE, 5, item, None, NOW, parts)
    assert write is not None and write.op == "create" and write.event == "maintenance_scheduled"
    assert write.fields["status"] == "scheduled"
    assert write.fields["scheduled_for"] == (NOW + timedelta(hours=1)).isoformat()
    assert write.fields["scheduled_until"] == (NOW + timedelta(hours=2)).isoformat()
    assert write.fields["scheduled_auto_in_progress"] is True
    assert write.fields["scheduled_auto_completed"] is True
    assert write.fields["auto_transition_to_maintenance_state"] is True
    assert write.fields["auto_transition_to_operational_state"] is True
    assert write.fields["component_ids"] == ["comp-b"]


def test_a_window_on_an_incident_actions_alert_source_takes_its_components() -> None:
    """A window on an alert source covers the components of the actions using that source."""
    item = window(service_ids=(), source_ids=(77,))
    assert window_components(BRIDGE, item, {77: ("comp-x",)}) == ("comp-x",)
    assert plan_window(BRIDGE, 5, item, None, NOW, ()) is None


def test_an_edited_window_updates_its_maintenance() -> None:
    """A new end or description is one update with the new schedule."""
    item = window()
    stored = Stored("sp9", window_seen(item, ("comp-b",)))
    longer = window(end=timedelta(hours=3), description="Longer")
    write = plan_window(BRIDGE, 5, longer, stored, NOW, ("comp-b",))
    assert write is not None and write.op == "update"
    assert write.fields["scheduled_until"] == (NOW + timedelta(hours=3)).isoformat()
    assert write.fields["body"] == "Longer"
    assert plan_window(BRIDGE, 5, item, stored, NOW, ("comp-b",)) is None


def test_a_deleted_window_not_started_is_cancelled_one_underway_completed() -> None:
    """Deleted before its start: cancelled; deleted while underway: completed at once."""
    upcoming = Stored("sp9", window_seen(window(), ("comp-b",)))
    write = plan_window(BRIDGE, 5, None, upcoming, NOW, listed_open=False)
    assert write is not None and write.event == "maintenance_cancelled"
    assert write.fields["status"] == "completed" and write.fields["body"] == CANCELLED
    underway = Stored("sp9", window_seen(window(start=-timedelta(hours=1)), ("comp-b",)))
    write = plan_window(BRIDGE, 5, None, underway, NOW, listed_open=False)
    assert write is not None and write.event == "maintenance_completed"
    assert write.fields["body"] == ENDED_EARLY


def test_a_window_that_ran_its_course_only_closes_its_row() -> None:
    """Statuspage completes it on its own: no write, the row closes."""
    past = window(start=-timedelta(hours=2), end=-timedelta(minutes=1))
    stored = Stored("sp9", window_seen(past, ("comp-b",)))
    write = plan_window(BRIDGE, 5, past, stored, NOW, ("comp-b",), listed_open=False)
    assert write is not None and write.op == "record" and write.closes


def test_a_window_shortened_into_the_past_completes_its_maintenance() -> None:
    """A window closed before the end the page shows is completed now."""
    stored = Stored("sp9", window_seen(window(start=-timedelta(hours=1)), ("comp-b",)))
    closed = window(start=-timedelta(hours=1), end=-timedelta(minutes=5))
    write = plan_window(BRIDGE, 5, closed, stored, NOW, ("comp-b",), listed_open=False)
    assert write is not None and write.event == "maintenance_completed" and write.closes


def test_an_incident_opened_again_reopens_its_public_incident() -> None:
    """iLert reopens a resolved incident: the same public incident is updated, not a new one."""
    closed = replace(published(incident("RESOLVED", "Fixed.")), is_open=False)
    write = plan_incident(BRIDGE, 7, incident("INVESTIGATING", "It is back."), closed)
    assert write is not None and write.op == "update" and write.event == "bridge_reopened"
    assert write.fields["status"] == "investigating" and write.fields["body"] == "It is back."
    assert not write.closes
    assert plan_incident(BRIDGE, 7, incident("RESOLVED", "Fixed."), closed) is None


def test_a_window_ending_before_it_starts_is_neither_scheduled_nor_edited() -> None:
    """End before start (Statuspage refuses it): no create, and a scheduled one keeps its times."""
    backwards = window(start=timedelta(hours=2), end=timedelta(hours=1))
    assert plan_window(BRIDGE, 5, backwards, None, NOW, ("comp-b",)) is None
    stored = Stored("sp9", window_seen(window(), ("comp-b",)))
    assert plan_window(BRIDGE, 5, backwards, stored, NOW, ("comp-b",)) is None


def test_an_unknown_ilert_status_keeps_the_status_published_last() -> None:
    """A status iLert added since is not guessed: the public status stays, a new message posts."""
    published = incident(status="MONITORING")
    stored = Stored("sp1", incident_seen(BRIDGE, published))
    assert plan_incident(BRIDGE, 7, incident(status="POSTMORTEM"), stored) is None
    write = plan_incident(BRIDGE, 7, incident(status="POSTMORTEM", message="Notes"), stored)
    assert write is not None and write.fields["status"] == "monitoring"
    assert write.event == "bridge_message"


def test_an_adopted_object_not_yet_updated_still_ends_when_deleted() -> None:
    """Adopted with nothing recorded as published (``seen`` None), then deleted: it is closed."""
    write = plan_incident(BRIDGE, 7, None, Stored("sp1", None))
    assert write is not None and write.event == "bridge_deleted" and write.closes
    write = plan_window(BRIDGE, 5, None, Stored("sp9", None), NOW, listed_open=False)
    assert write is not None and write.fields["status"] == "completed" and write.closes
    ran = window(start=-timedelta(hours=2), end=-timedelta(minutes=1))
    write = plan_window(BRIDGE, 5, ran, Stored("sp9", None), NOW, listed_open=False)
    assert write is not None and write.op == "record" and write.closes
