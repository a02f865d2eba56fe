"""A renamed incident action keeps its incidents: previous_names, the rebuild and `check`."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.commands.check import check
from ilert_statuspage_sync.store.tables import ActionState, Link, Transition
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

OLD, NEW = "public-api", "public-api-v2"


def _rename(harness: Harness, *, previous: tuple[str, ...] = (OLD,)) -> None:
    """The automatic action renamed in the config (a restart: a fresh syncer)."""
    auto, *rest = harness.config.incident_actions
    renamed = dataclasses.replace(auto, name=NEW)
    if previous:  # set only when declared: the test reads the same on a tree without the option
        renamed = dataclasses.replace(renamed, previous_names=previous)
    harness.config = dataclasses.replace(harness.config, incident_actions=(renamed, *rest))
    harness.syncer = harness.new_syncer()


def _actions(harness: Harness) -> list[str]:
    with harness.sessions() as session:
        return sorted(set(session.scalars(sa.select(Link.incident_action))))


def _check_lines(harness: Harness, capsys: pytest.CaptureFixture[str]) -> list[str]:
    check(harness.config, argparse.Namespace(offline=True))
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARN")]


def test_a_renamed_action_carries_its_open_incidents(harness: Harness):
    """previous_names: the first pass moves the links (logged once), opens no second incident,
    and the alert's resolve still resolves the incident opened under the old name."""
    alert_ids = [harness.ilert.create_alert(AUTO_SOURCE, f"db {n} down", "") for n in range(2)]
    harness.sync()
    assert len(harness.incidents(AUTO_PAGE)) == 2
    writes = len(harness.statuspage.writes())
    _rename(harness)
    with capture_logs() as logs:
        harness.sync()
        harness.sync()
    renamed = [line for line in logs if line["event"] == "action_renamed"]
    assert [(r["previous_name"], r["links_moved"], r["links_left"]) for r in renamed] == [
        (OLD, 2, 0)
    ]
    assert len(harness.statuspage.writes()) == writes
    assert _actions(harness) == [NEW]
    harness.ilert.resolve(alert_ids[0])
    harness.sync()
    incidents = {i["metadata"]["ilert"]["alert_id"]: i for i in harness.incidents(AUTO_PAGE)}
    assert len(incidents) == 2
    assert incidents[str(alert_ids[0])]["status"] == "resolved"
    assert incidents[str(alert_ids[1])]["status"] != "resolved"


def test_a_rename_with_the_state_lost_rebuilds_under_the_new_name(harness: Harness):
    """Incidents opened under the old name, the database emptied, the action renamed: the
    rebuild from the page links them to the new name; nothing is opened again."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "cache down", "")
    harness.sync()
    with harness.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    writes = len(harness.statuspage.writes())
    _rename(harness)
    harness.sync()
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    link = harness.link(NEW, alert_id)
    assert link is not None and link.statuspage_incident_id is not None


def test_check_warns_about_links_of_an_action_the_config_no_longer_names(
    harness: Harness, capsys: pytest.CaptureFixture[str]
):
    """Renamed without previous_names: `check` WARNs naming the old action, its open links and
    the fix; with previous_names it says the next pass moves them; once moved, no WARN."""
    harness.ilert.create_alert(AUTO_SOURCE, "queue down", "")
    harness.sync()
    _rename(harness, previous=())
    (line,) = _check_lines(harness, capsys)
    assert f"1 link(s) (1 open) of incident action {OLD!r}" in line
    assert f'add previous_names = ["{OLD}"]' in line
    _rename(harness)
    (line,) = _check_lines(harness, capsys)
    assert f"a previous name of {NEW!r}: the next pass moves them" in line
    harness.sync()
    assert _check_lines(harness, capsys) == []


def test_links_the_new_name_already_holds_stay_and_the_old_duplicate_is_resolved(
    harness: Harness,
):
    """Renamed first without previous_names (a second incident per alert): the incident opened
    under the old name, which no configured name owns, is resolved in that pass as the
    duplicate it is; then declared: the old links cannot move (the new name tracks those
    alerts)."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "search down", "")
    harness.sync()
    _rename(harness, previous=())
    with capture_logs() as logs:
        harness.sync()
    assert [line["incident_action"] for line in logs if line["event"] == "duplicate_resolved"] == [
        NEW
    ]
    assert len([i for i in harness.incidents(AUTO_PAGE) if i["status"] != "resolved"]) == 1
    _rename(harness)
    with capture_logs() as logs:
        harness.sync()
    (renamed,) = [line for line in logs if line["event"] == "action_renamed"]
    assert (renamed["links_moved"], renamed["links_left"]) == (0, 1)
    open_incidents = [i for i in harness.incidents(AUTO_PAGE) if i["status"] != "resolved"]
    link = harness.link(NEW, alert_id)
    assert link is not None
    assert [i["id"] for i in open_incidents] == [link.statuspage_incident_id]


def test_a_create_in_flight_before_the_rename_is_reconciled_not_repeated(harness: Harness):
    """The create's answer was lost, then the action renamed and restarted: the intent, carried
    to the new name, finds the incident opened under the old name; never a second create."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "in flight", "")
    harness.statuspage.drop_next(1, method="POST", after_apply=True)
    assert harness.sync().deferred_items == 1  # the answer was lost: the intent stays
    _rename(harness)
    harness.sync()
    harness.sync()
    (incident,) = harness.incidents(AUTO_PAGE)
    link = harness.link(NEW, alert_id)
    assert link is not None and link.statuspage_incident_id == incident["id"]
    assert len(harness.statuspage.writes()) == 1


def _chain(harness: Harness) -> int:
    """a -> b -> c, c declaring only "b": the incident's metadata still names "a"."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db down", "")
    harness.sync()
    _rename(harness)
    harness.sync()
    auto, *rest = harness.config.incident_actions
    third = dataclasses.replace(auto, name="public-api-v3", previous_names=(NEW,))
    harness.config = dataclasses.replace(harness.config, incident_actions=(third, *rest))
    harness.syncer = harness.new_syncer()
    harness.sync()
    return alert_id


def _open(harness: Harness) -> list[dict[str, Any]]:
    return [i for i in harness.incidents(AUTO_PAGE) if i["status"] != "resolved"]


def test_a_rename_chain_then_state_loss_adopts_the_incident_named_by_the_first_name(
    harness: Harness,
):
    """Renamed twice, the last declaring only the name in between, then the state lost: the
    incident (metadata: the first name) is rebuilt for the one action on its page mirroring
    its alert's source; no second incident, and the resolve resolves it."""
    alert_id = _chain(harness)
    with harness.sessions() as session:
        for table in (Transition, Link, ActionState):
            session.execute(sa.delete(table))
        session.commit()
    harness.syncer = harness.new_syncer()
    harness.sync()
    harness.sync()
    assert len(harness.incidents(AUTO_PAGE)) == 1
    link = harness.link("public-api-v3", alert_id)
    assert link is not None and link.statuspage_incident_id == _open(harness)[0]["id"]
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert len(harness.incidents(AUTO_PAGE)) == 1 and _open(harness) == []


def test_an_incident_named_by_a_forgotten_name_is_resolved_as_a_duplicate(harness: Harness):
    """Renamed twice (the last declaring only the name in between), and the link now points at
    another incident of the alert: the one whose metadata names the first name, which no
    configured or previous name owns, is resolved as the duplicate."""
    alert_id = _chain(harness)
    (first,) = _open(harness)
    assert first["metadata"]["ilert"]["incident_action"] == OLD
    client = next(iter(harness.syncer.statuspage.values()))
    metadata = {"ilert": {"alert_id": str(alert_id), "incident_action": "public-api-v3"}}
    fields = {"name": "copy", "status": "identified", "metadata": metadata}
    copy = client.create_incident(AUTO_PAGE, fields).id
    with harness.sessions() as session:
        session.execute(
            sa.update(Link)
            .where(Link.alert_id == alert_id)
            .values(statuspage_incident_id=copy, statuspage_status="identified")
        )
        session.commit()
    harness.sync()
    assert [i["id"] for i in _open(harness)] == [copy]


def test_check_names_an_incident_named_by_a_forgotten_name_and_its_adopter(
    harness: Harness, capsys: pytest.CaptureFixture[str]
):
    """Renamed twice, the last declaring only the name in between: the database is clean, but
    `check` reads the page and WARNs that the open incident names the first name, and which
    action adopts it."""
    _chain(harness)
    check(harness.config, argparse.Namespace(offline=False))
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "names nowhere" in line]
    assert line.startswith("WARN")
    assert f"names incident action {OLD!r}" in line
    assert "'public-api-v3' adopts it" in line


def test_links_made_under_the_old_name_by_a_replica_on_the_old_config_are_carried(
    harness: Harness, capsys: pytest.CaptureFixture[str]
):
    """A rolling rename: the renamed process runs a pass, a replica still on the old config
    leads for a while and tracks a new alert under the old name, then the renamed process (no
    restart) leads again: its next pass carries that link; one incident, resolved with its
    alert, and `check` warns of nothing."""
    old_config = harness.config
    _rename(harness)
    harness.sync()
    renamed_config, renamed_syncer = harness.config, harness.syncer
    harness.config = old_config
    harness.syncer = harness.new_syncer()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "cache down", "")
    harness.sync()
    harness.config, harness.syncer = renamed_config, renamed_syncer
    with capture_logs() as logs:
        harness.sync()
        harness.sync()
    renamed = [line for line in logs if line["event"] == "action_renamed"]
    assert [(r["links_moved"], r["links_left"]) for r in renamed] == [(1, 0)]
    assert _actions(harness) == [NEW]
    assert _check_lines(harness, capsys) == []
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert len(harness.incidents(AUTO_PAGE)) == 1 and _open(harness) == []


def test_another_installations_incident_for_the_same_alert_is_left_alone(harness: Harness):
    """An incident naming an action this database never mirrored the alert under (another
    installation on the same page) is not resolved as a duplicate of ours."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    client = next(iter(harness.syncer.statuspage.values()))
    metadata = {"ilert": {"alert_id": str(alert_id), "incident_action": "team-b"}}
    fields = {"name": "Team B: API down", "status": "investigating", "metadata": metadata}
    theirs = client.create_incident(AUTO_PAGE, fields).id
    harness.sync()
    assert harness.statuspage.incident(theirs)["status"] == "investigating"
