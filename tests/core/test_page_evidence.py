"""core.page_evidence: what a write records on its incident, and when the page wins over the DB."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ilert_statuspage_sync.core.model import AlertStatus, Event, EventKind, Mirror
from ilert_statuspage_sync.core.page_evidence import (
    LinkState,
    catch_up,
    not_shown,
    recorded,
    shown_without_record,
    written_fields,
)

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIRROR: dict[str, Any] = {
    "status": "ACCEPTED",
    "priority": "HIGH",
    "responder_ids": ["1"],
    "escalation_policy_id": 1,
    "escalation_rule_index": 0,
    "next_escalation": None,
    "last_log_entry_id": 7,
}


def _metadata(**fields: str) -> dict[str, Any]:
    return {"ilert": {"alert_id": "1", "incident_action": "public-api", **fields}}


def _link(**changes: Any) -> LinkState:
    state = {
        "incident_id": "inc1",
        "status": "identified",
        "mirror": {**MIRROR, "status": "PENDING", "last_log_entry_id": 3},
        "updated_at": T,
        "pending": False,
        "override": False,
    }
    return LinkState(**{**state, **changes})


def test_a_write_record_reads_back_as_written():
    """What a write records (strings only) is read back whole from the incident's metadata."""
    fields = written_fields("in_progress", MIRROR, T, override=True)
    assert all(isinstance(value, str) for value in fields.values())
    shown = recorded(_metadata(**fields))
    assert shown is not None
    assert (shown.status, dict(shown.mirror), shown.at, shown.override) == (
        "in_progress",
        MIRROR,
        T,
        True,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"wrote_status": "identified", "wrote_at": T.isoformat()},
        {"wrote_status": "identified", "wrote_mirror": "{", "wrote_at": T.isoformat()},
        {"wrote_status": "identified", "wrote_mirror": "[]", "wrote_at": T.isoformat()},
        {"wrote_status": "x", "wrote_mirror": json.dumps(MIRROR), "wrote_at": "yesterday"},
        {"wrote_status": "x", "wrote_mirror": json.dumps(MIRROR), "wrote_at": "2026-03-01T12:00"},
        {
            "wrote_status": "x",
            "wrote_mirror": json.dumps({**MIRROR, "last_log_entry_id": 2**70}),
            "wrote_at": T.isoformat(),
        },
        {
            "wrote_status": "x",
            "wrote_mirror": json.dumps({**MIRROR, "next_escalation": "2026-03-01T12:00"}),
            "wrote_at": T.isoformat(),
        },
        {
            "wrote_status": "x",
            "wrote_mirror": json.dumps({**MIRROR, "responder_ids": [1]}),
            "wrote_at": T.isoformat(),
        },
    ],
)
def test_a_missing_or_malformed_record_is_no_evidence(fields: dict[str, str]):
    """A record that is absent, cut, or could not be stored proves nothing."""
    assert recorded(_metadata(**fields)) is None


def test_a_record_newer_than_the_link_wins():
    """The incident records a write after the link's last change: the link takes it."""
    shown = recorded(_metadata(**written_fields("in_progress", MIRROR, T + timedelta(1), False)))
    state = catch_up(_link(), "inc1", shown)
    assert state is not None
    assert (state.status, dict(state.mirror), state.override) == ("in_progress", MIRROR, False)


@pytest.mark.parametrize(
    ("link", "incident_id", "at"),
    [
        (_link(), "inc1", T),  # the write the link recorded itself
        (_link(), "inc1", T - timedelta(seconds=1)),  # a stale read: an older write
        (_link(pending=True), "inc1", T + timedelta(1)),  # reconciliation settles it first
        (_link(), "other", T + timedelta(1)),  # not the link's incident
        # the clock stepped back: the link's later passes (comment 9 seen) look older
        (_link(mirror={**MIRROR, "last_log_entry_id": 9}), "inc1", T + timedelta(1)),
        (_link(mirror={**MIRROR, "status": "RESOLVED"}), "inc1", T + timedelta(1)),
        # as far as the link: a replica whose clock ran ahead wrote it; only a field moved since
        (_link(mirror={**MIRROR, "priority": "LOW"}), "inc1", T + timedelta(1)),
    ],
)
def test_a_record_not_newer_or_not_ours_changes_nothing(
    link: LinkState, incident_id: str, at: datetime
):
    """Only a newer record of the link's own incident, with no write in flight, is taken."""
    shown = recorded(_metadata(**written_fields("in_progress", MIRROR, at, False)))
    assert catch_up(link, incident_id, shown) is None


def test_a_persons_takeover_recorded_on_the_incident_survives_a_restore():
    """A write made after a person took the incident over records it; the link takes it back."""
    shown = recorded(_metadata(**written_fields("monitoring", MIRROR, T + timedelta(1), True)))
    state = catch_up(_link(), "inc1", shown)
    assert state is not None and state.override


def _event(kind: EventKind, status: str, cursor: int | None, entry: int | None = None) -> Event:
    mirror = Mirror(status=status, priority="HIGH", last_log_entry_id=cursor)
    return Event(kind, T, mirror, "words" if entry else None, entry)


def test_an_adopted_incident_plans_only_what_it_does_not_show():
    """Shown: accepted, comment 5 posted. Left: comment 9 and the resolve."""
    events = [
        _event(EventKind.CREATED, AlertStatus.PENDING, None),
        _event(EventKind.COMMENT_ADDED, AlertStatus.PENDING, 5, entry=5),
        _event(EventKind.ACCEPTED, AlertStatus.ACCEPTED, 5),
        _event(EventKind.COMMENT_ADDED, AlertStatus.ACCEPTED, 9, entry=9),
        _event(EventKind.RESOLVED, AlertStatus.RESOLVED, 9),
    ]
    shown = Mirror(status=AlertStatus.ACCEPTED, priority="HIGH", last_log_entry_id=5)
    assert not_shown(events, shown) == events[3:]


def test_an_incident_without_a_record_shows_all_but_the_resolve():
    """Unresolved on the page, with no record: only the resolve is still to send."""
    events = [
        _event(EventKind.CREATED, AlertStatus.PENDING, None),
        _event(EventKind.ACCEPTED, AlertStatus.ACCEPTED, 4),
        _event(EventKind.RESOLVED, AlertStatus.RESOLVED, 4),
    ]
    shown = shown_without_record(events, events[-1].mirror_after)
    assert shown.status == AlertStatus.ACCEPTED
    assert not_shown(events, shown) == events[2:]
