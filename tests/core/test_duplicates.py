"""The pure decisions behind replica safety: duplicate incidents and in-flight intents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.core.duplicates import (
    Duplicate,
    Seen,
    Tracked,
    find_duplicates,
    pages_to_check,
)
from ilert_statuspage_sync.core.intents import Writer, in_flight_until, stamp

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def tracked(alert_id: int = 7, incident: str | None = "kept", **changes: object) -> Tracked:
    fields: dict[str, object] = {
        "action": "public-api",
        "alert_id": alert_id,
        "page_id": "page1",
        "incident_id": incident,
        "pending": False,
        "is_open": True,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Tracked(**fields)  # type: ignore[arg-type]


def seen(incident: str, alert_id: int | None = 7, action: str | None = "public-api") -> Seen:
    return Seen(incident, "identified", alert_id, action)


def test_the_linked_incident_is_kept_and_the_other_resolved():
    """Two unresolved incidents of one alert: the linked one stays, the other is the duplicate."""
    found = find_duplicates([seen("dup"), seen("kept")], [tracked()])
    assert found == [Duplicate("dup", "identified", "kept", 7, "public-api")]


def test_an_incident_naming_an_unconfigured_action_is_the_linking_actions():
    """An incident naming no configured action, under a name this database once mirrored the
    alert with, counts as the one action linking its alert on the page: resolved when that link
    points elsewhere; left alone when two actions link it."""
    forgotten = seen("old", action="first-name")
    proven = {("first-name", 7)}
    found = find_duplicates([forgotten], [tracked()], {"public-api"}, proven)
    assert found == [Duplicate("old", "identified", "kept", 7, "public-api")]
    assert find_duplicates([forgotten], [tracked()]) == []
    two = [tracked(), tracked(action="other", incident="theirs")]
    assert find_duplicates([forgotten], two, {"public-api", "other"}, proven) == []


def test_another_installations_incident_is_never_taken_for_ours():
    """An incident naming an action this database never mirrored the alert under (another
    installation's, or a person's copy of our metadata) is no duplicate of ours."""
    foreign = seen("theirs", action="team-b")
    assert find_duplicates([foreign], [tracked()], {"public-api"}) == []
    assert find_duplicates([foreign], [tracked()], {"public-api"}, {("team-b", 8)}) == []


def test_an_unresolved_copy_of_a_resolved_linked_incident_is_a_duplicate():
    """The linked incident already resolved: the copy left open is still resolved."""
    assert [d.incident_id for d in find_duplicates([seen("dup")], [tracked(is_open=False)])] == [
        "dup"
    ]


def test_pending_or_unlinked_alerts_are_left_to_reconciliation():
    """A link with a write pending, or without an incident yet, decides nothing."""
    incidents = [seen("a"), seen("b")]
    assert find_duplicates(incidents, [tracked(pending=True)]) == []
    assert find_duplicates(incidents, [tracked(incident=None)]) == []


def test_other_alerts_actions_and_foreign_incidents_are_not_duplicates():
    """Only the same alert id and incident action count; incidents without our metadata never."""
    incidents = [
        seen("other-alert", alert_id=8),
        seen("other-action", action="second-page"),
        seen("manual", alert_id=None, action=None),
        seen("kept"),
    ]
    assert find_duplicates(incidents, [tracked()]) == []


def test_only_pages_with_mirrored_incidents_are_read():
    """Pages with an open mirrored alert, or one closed lately, are read; others cost nothing."""
    links = [
        tracked(page_id="open"),
        tracked(page_id="closed-lately", is_open=False, updated_at=NOW - timedelta(minutes=5)),
        tracked(page_id="closed-long-ago", is_open=False, updated_at=NOW - timedelta(days=2)),
        tracked(page_id="nothing-yet", incident=None),
    ]
    assert pages_to_check(links, NOW, timedelta(hours=1)) == {"open", "closed-lately"}


ME = Writer("me", epoch=3, sole=False)


def intent_of(writer: Writer, recorded_at: datetime, seconds: float = 45.0) -> dict[str, object]:
    return {"kind": "create", **stamp(writer, recorded_at, seconds)}


def test_another_processes_intent_is_in_flight_for_its_write_deadline():
    """Another replica's intent may still land until recorded_at + its write deadline."""
    intent = intent_of(Writer("other", epoch=2, sole=False), NOW)
    assert in_flight_until(intent, ME, fallback_s=45) == NOW + timedelta(seconds=45)


def test_own_intents_and_single_process_databases_are_never_in_flight():
    """Our own intent's write has returned; on SQLite another process's intent means it is gone."""
    assert in_flight_until(intent_of(ME, NOW), ME, fallback_s=45) is None
    sole = Writer("me")
    assert in_flight_until(intent_of(Writer("other"), NOW), sole, fallback_s=45) is None


def test_an_unstamped_intent_counts_from_sent_at_with_the_fallback():
    """An intent of an older version (no stamp) waits the fallback from its sent_at."""
    intent = {"kind": "create", "sent_at": NOW.isoformat()}
    assert in_flight_until(intent, ME, fallback_s=45) == NOW + timedelta(seconds=45)
