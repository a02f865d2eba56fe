"""core.rebuild: which open incidents become links again, and what their mirror is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ilert_statuspage_sync.core.model import Alert, AlertStatus, LogEntry
from ilert_statuspage_sync.core.relink import (
    MAX_RUN_IDS,
    PageIncident,
    RebuiltLink,
    Stray,
    adopted,
    adopter,
    decode_runs,
    encode_runs,
    links_to_rebuild,
    named_alerts,
    rebuilt_mirror,
    shared_metadata,
    strays,
)
from ilert_statuspage_sync.core.storm import id_runs

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGES = {"public-api": "page-a", "manual-review": "page-b"}


def _incident(incident_id: str, metadata: object, page: str = "page-a") -> PageIncident:
    return PageIncident(page, incident_id, "identified", metadata)  # type: ignore[arg-type]


def _ours(alert_id: object, action: str = "public-api") -> dict[str, object]:
    return {"ilert": {"alert_id": alert_id, "incident_action": action}}


def test_incidents_with_our_metadata_become_links():
    """Each incident naming a configured action on that action's page is one link."""
    found, duplicates = links_to_rebuild(
        [_incident("i1", _ours("7")), _incident("i2", _ours(8, "manual-review"), "page-b")], PAGES
    )
    assert found == [
        RebuiltLink("public-api", 7, "page-a", "i1", "identified"),
        RebuiltLink("manual-review", 8, "page-b", "i2", "identified"),
    ]
    assert duplicates == 0


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"ilert": "7"},
        _ours("7", "unknown-action"),
        _ours("seven"),
        _ours("-7"),
        _ours(True),
        _ours(str(2**63)),
        _ours("\u0667"),  # a non-ASCII digit
        {"ilert": {"alert_id": "7"}},
    ],
)
def test_foreign_or_malformed_metadata_is_ignored(metadata: object):
    """Incidents not ours (or naming no configured action, or no storable id) are left alone."""
    assert links_to_rebuild([_incident("i1", metadata)], PAGES) == ([], 0)


def test_an_action_counts_only_on_its_own_page():
    """An incident naming public-api on another page is not public-api's."""
    assert links_to_rebuild([_incident("i1", _ours("7"), "page-b")], PAGES) == ([], 0)


def test_a_second_incident_for_one_alert_is_counted_not_linked():
    """Of two incidents for one (action, alert) the first listed is linked, the other counted."""
    found, duplicates = links_to_rebuild(
        [_incident("i1", _ours("7")), _incident("i2", _ours("7"))], PAGES
    )
    assert [link.incident_id for link in found] == ["i1"]
    assert duplicates == 1


def test_a_shared_incident_links_every_alert_it_lists():
    """group = "action": each id of metadata.ilert.alert_ids is linked to the shared incident;
    malformed or out-of-range ids are dropped."""
    metadata = {
        "ilert": {
            "alert_id": "7",
            "incident_action": "public-api",
            "group": "action",
            "alert_ids": f"7,8,x,-9,{2**63},\u0667,12",
        }
    }
    found, duplicates = links_to_rebuild([_incident("i1", metadata)], PAGES)
    assert [(link.alert_id, link.incident_id) for link in found] == [
        (7, "i1"),
        (8, "i1"),
        (12, "i1"),
    ]
    assert duplicates == 0


def test_shared_metadata_names_every_alert_of_a_storm_however_large():
    """No cut: a join's metadata names all 5,000 alerts (ids with gaps and runs), compactly,
    and a rebuild links exactly those (a cut at 500 made the rest join, publicly, again)."""
    members = [*range(1_000_000, 1_004_000), *range(2_000_000, 2_200_000, 200)]
    metadata = {"ilert": shared_metadata("public-api", id_runs(members))}
    assert len(str(metadata)) < 10_000
    found, _ = links_to_rebuild([_incident("i1", metadata)], PAGES)
    assert [link.alert_id for link in found] == members


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        ([7], "7"),
        ([100, 101, 102, 105], "100.2,3"),
        ([1, 3, 4, 2**63 - 1], "1,2.1,9223372036854775803"),
    ],
)
def test_runs_encode_gaps_and_consecutive_ids(ids: list[int], text: str):
    """Each run is its gap from the previous run and how many consecutive ids follow."""
    assert encode_runs(ids) == text
    assert shared_metadata("public-api", id_runs(ids))["alert_id_runs"] == text
    assert decode_runs(text) == ids


@pytest.mark.parametrize(
    "text",
    ["x", "1,,2", "0", "1,0", "1.x", "1.", "-1", "\u0667", f"{2**63}", f"1.{MAX_RUN_IDS}", "1 ,2"],
)
def test_malformed_runs_name_no_alert(text: str):
    """A run that is not ours (letters, a zero gap, past 2^63-1, absurdly long) names none."""
    assert decode_runs(text) == []


def test_a_previous_versions_list_is_still_read_beside_the_runs():
    """metadata.ilert.alert_ids (the list a previous version wrote) still links its alerts."""
    metadata = {"ilert": {"alert_id": "5", "incident_action": "public-api", "alert_ids": "5,9"}}
    found, _ = links_to_rebuild([_incident("i1", metadata)], PAGES)
    assert [link.alert_id for link in found] == [5, 9]


def _alert(status: str) -> Alert:
    return Alert(
        id=7,
        source_id=1,
        summary="s",
        details="d",
        status=status,
        priority="HIGH",
        report_time=T,
        responder_ids=("1",),
        escalation_policy_id=3,
    )


@pytest.mark.parametrize(
    ("lifecycle", "alert_status", "incident_status", "mirrored"),
    [
        # The alert's current state where the page already shows it: no event.
        ("classic", AlertStatus.PENDING, "identified", AlertStatus.PENDING),
        ("classic", AlertStatus.ACCEPTED, "in_progress", AlertStatus.ACCEPTED),
        ("realtime", AlertStatus.ACCEPTED, "identified", AlertStatus.ACCEPTED),
        ("realtime", AlertStatus.ACCEPTED, "monitoring", AlertStatus.ACCEPTED),
        # Accepted while the state was lost, not shown yet: the accept is still sent.
        ("classic", AlertStatus.ACCEPTED, "identified", AlertStatus.PENDING),
        ("realtime", AlertStatus.ACCEPTED, "investigating", AlertStatus.PENDING),
        # Resolved while the state was lost: mirrored as shown, so the resolve is sent.
        ("classic", AlertStatus.RESOLVED, "identified", AlertStatus.PENDING),
        ("classic", AlertStatus.RESOLVED, "in_progress", AlertStatus.ACCEPTED),
        ("realtime", AlertStatus.RESOLVED, "identified", AlertStatus.ACCEPTED),
    ],
)
def test_rebuilt_mirror_status_is_what_the_page_shows(
    lifecycle: str, alert_status: str, incident_status: str, mirrored: str
):
    """The mirror's status is the alert's, as far as the incident already shows it."""
    mirror = rebuilt_mirror(_alert(alert_status), incident_status, lifecycle, [])
    assert mirror.status == mirrored


def test_rebuilt_mirror_takes_the_snapshot_and_the_newest_log_entry():
    """Other fields are the alert's current ones; the comment cursor is the newest entry."""
    entries = [LogEntry(5, T, "AlertCommentAddedLogEntry", "old"), LogEntry(9, T, "X")]
    mirror = rebuilt_mirror(_alert(AlertStatus.PENDING), "identified", "classic", entries)
    assert mirror.last_log_entry_id == 9
    assert (mirror.priority, mirror.responder_ids, mirror.escalation_policy_id) == (
        "HIGH",
        ("1",),
        3,
    )


def test_an_incident_naming_a_forgotten_action_is_a_stray_of_its_page():
    """An incident naming neither a configured action nor a previous name, on a configured
    page, is a stray (with every alert it names); known names and other pages are not."""
    shared = {"ilert": {"alert_id": "7", "incident_action": "gone", "alert_id_runs": "7.1"}}
    incidents = [
        _incident("i1", shared),
        _incident("i2", _ours("9", "old-name")),
        _incident("i3", _ours("9")),
        _incident("i4", _ours("9", "gone"), "page-c"),
    ]
    found = strays(incidents, PAGES, {"old-name": "public-api"})
    assert found == [Stray(incidents[0], 7, (7, 8))]


def test_the_one_action_on_the_page_mirroring_the_source_adopts_a_stray():
    """The adopter is the single action on the page whose sources hold the alert's; none when
    no action or two actions there mirror it."""
    actions = [("a", "page-a", [1]), ("b", "page-a", [2]), ("c", "page-b", [1])]
    assert adopter("page-a", 1, actions) == "a"
    assert adopter("page-a", 3, actions) is None
    assert adopter("page-a", None, actions) is None
    assert adopter("page-a", 1, [*actions, ("d", "page-a", [1])]) is None


def test_an_adopted_stray_leaves_alerts_already_linked_to_their_incident():
    """A stray's alerts become the adopter's links, except those already linked (its first
    alert already linked counts as one duplicate)."""
    stray = Stray(_incident("i1", _ours("7", "gone")), 7, (7, 8))
    links, duplicates = adopted(stray, "public-api", {("public-api", 7)})
    assert links == [RebuiltLink("public-api", 8, "page-a", "i1", "identified")]
    assert duplicates == 1


def test_forged_runs_name_at_most_ten_thousand_alerts_to_rebuild():
    """`1.999998` names 999,999 alerts: a rebuild reads back only the lowest 10,000 (2 iLert
    reads each), and how many were named is still told, for the warning."""
    metadata = {"ilert": {"alert_id": "1", "incident_action": "public-api"}}
    metadata["ilert"]["alert_id_runs"] = "1.999998"
    ids = decode_runs("1.999998")
    assert len(ids) == 10_000 and ids[:2] == [1, 2] and ids[-1] == 10_000
    assert named_alerts(metadata) == 999_999
    found, _ = links_to_rebuild([_incident("i1", metadata)], PAGES)
    assert len(found) == 10_000
