"""A storm pass costs the database a constant amount per alert (counted, never timed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.clients import statuspage
from ilert_statuspage_sync.clients.incident_json import IncidentDecoder
from ilert_statuspage_sync.core import relink
from ilert_statuspage_sync.core import storm as storm_core
from ilert_statuspage_sync.sync import apply, grouping
from ilert_statuspage_sync.sync import storm as storm_view
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE


@dataclasses.dataclass
class _Cost:
    statements: int = 0
    rows: int = 0  # rows the SELECTs returned
    written: int = 0  # rows the UPDATEs, INSERTs and DELETEs changed


@contextmanager
def _counted(engine: sa.Engine) -> Iterator[_Cost]:
    """Count statements, the rows each SELECT returns (counted again on the same connection,
    in the same transaction, so the daemon's own cursor is untouched) and rows changed."""
    cost = _Cost()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        cost.statements += 1
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            cost.written += max(cursor.rowcount, 0)
        if statement.lstrip().upper().startswith("SELECT"):
            counter = cursor.connection.cursor()
            try:
                counter.execute(f"SELECT count(*) FROM ({statement}) AS counted", parameters)
                cost.rows += int(counter.fetchone()[0])
            finally:
                counter.close()

    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield cost
    finally:
        sa.event.remove(engine, "after_cursor_execute", after)


def _storm_passes(storm: Harness, size: int, tag: str) -> tuple[_Cost, _Cost]:
    """Open ``size`` alerts in one pass, resolve them all in the next: each pass's cost."""
    ids = [storm.ilert.create_alert(AUTO_SOURCE, f"{tag} node-{n} down", "") for n in range(size)]
    with _counted(storm.engine) as opened:
        storm.sync()
    for alert_id in ids:
        storm.ilert.resolve(alert_id)
    with _counted(storm.engine) as resolved:
        storm.sync()
    incident = storm.incidents(AUTO_PAGE)[0]
    assert incident["name"] == f"{tag} node-0 down" and incident["status"] == "resolved"
    assert len(incident["incident_updates"]) == size + 1  # create, size - 1 joins, resolve
    return opened, resolved


@pytest.fixture(name="storm")
def _storm(make_harness: Any) -> Harness:
    probe: Harness = make_harness("classic")
    auto, *rest = probe.config.incident_actions
    harness: Harness = make_harness(
        "classic", incident_actions=(dataclasses.replace(auto, group="action"), *rest)
    )
    harness.sync()
    return harness


# Statements and rows one more storm alert may cost a pass (measured: about 9 statements,
# 5 rows read and 4 written when it joins; fewer when it resolves); a constant, whatever
# the storm's size.
PER_ALERT = 12


def test_a_storm_pass_costs_the_database_a_constant_amount_per_alert(storm: Harness):
    """10 then 40 alerts: the 30 more cost at most PER_ALERT statements, rows read and rows
    written each, open and resolve pass alike (each alert reading all its action's shares,
    and rewriting all its incident's links, was quadratic)."""
    small = _storm_passes(storm, 10, "small")
    large = _storm_passes(storm, 40, "large")
    for few, many in zip(small, large, strict=True):
        assert many.statements / 40 <= few.statements / 10, (few, many)
        assert many.statements - few.statements <= 30 * PER_ALERT, (few, many)
        # + 10: the first storm's closed links, listed once more with the action's links.
        assert many.rows - few.rows <= 30 * PER_ALERT + 10, (few, many)
        # Sharing the incident's status rewrites its other links only when it changes.
        assert many.written - few.written <= 30 * PER_ALERT, (few, many)


def test_decisions_in_one_pass_see_the_shares_earlier_decisions_of_the_pass_changed(
    make_harness: Any,
):
    """Realtime, one pass: two alerts accepted, then the third resolved; the resolve sees the
    two accepts of the same pass (read once, kept current), so the incident shows identified."""
    probe: Harness = make_harness("realtime")
    auto, *rest = probe.config.incident_actions
    storm: Harness = make_harness(
        "realtime", incident_actions=(dataclasses.replace(auto, group="action"), *rest)
    )
    storm.sync()
    first, second, third = (
        storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "") for n in range(3)
    )
    storm.sync()
    assert storm.incidents(AUTO_PAGE)[0]["status"] == "investigating"
    storm.ilert.accept(first)
    storm.ilert.accept(second)
    storm.ilert.resolve(third)
    storm.sync()
    (incident,) = storm.incidents(AUTO_PAGE)
    assert incident["status"] == "identified"
    assert [u["status"] for u in incident["incident_updates"]][:2] == [
        "identified",
        "investigating",
    ]


def _counting_updates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the incident updates the Statuspage client turns into objects (one entry each)."""
    built: list[int] = []
    original = statuspage._update

    def counted(item: object) -> statuspage.IncidentUpdate:
        built.append(1)
        return original(item)

    monkeypatch.setattr(statuspage, "_update", counted)
    return built


def _spying_decoders(monkeypatch: pytest.MonkeyPatch) -> set[IncidentDecoder]:
    """The incident decoders that read an answer (each counts the updates it decoded)."""
    used: set[IncidentDecoder] = set()
    original = IncidentDecoder.__call__

    def spied(self: IncidentDecoder, raw: bytes) -> Any:
        used.add(self)
        return original(self, raw)

    monkeypatch.setattr(IncidentDecoder, "__call__", spied)
    return used


def test_a_storm_pass_reads_no_update_of_the_history_its_answers_carry(
    storm: Harness, monkeypatch: pytest.MonkeyPatch
):
    """40 alerts in one pass: every join's answer carries the whole timeline (820 updates
    in all); each answer's new update is decoded, the repeated rest taken as decoded
    before, and none is read into an object (each was, every time: quadratic)."""
    built = _counting_updates(monkeypatch)
    decoders = _spying_decoders(monkeypatch)
    for n in range(40):
        storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "")
    storm.sync()
    (incident,) = storm.incidents(AUTO_PAGE)
    assert len(incident["incident_updates"]) == 40
    assert len(built) == 0
    assert sum(decoder.decoded_updates for decoder in decoders) == 40


def test_a_join_intent_records_only_the_earlier_updates_with_its_text(storm: Harness):
    """The intent of a storm's 40th join names no earlier update (none carries its text),
    not the 39 the incident shows: an intent's size does not grow with the storm."""
    for n in range(39):
        storm.ilert.create_alert(AUTO_SOURCE, f"node-{n} down", "")
    storm.sync()
    last = storm.ilert.create_alert(AUTO_SOURCE, "node-39 down", "")
    storm.statuspage.fail_next(1, 503, method="PATCH")
    storm.sync()
    link = storm.link("public-api", last)
    assert link is not None and link.pending_call is not None
    assert link.pending_call["updates_before"] == []


@dataclasses.dataclass
class _JoinWork:
    shares: int = 0  # shares looked at one by one to decide where an alert goes
    texts: int = 0  # earlier updates whose text was compared with a join's
    members: int = 0  # entries (ids or runs of ids) a join's metadata was built from


def _counting_join_work(monkeypatch: pytest.MonkeyPatch) -> _JoinWork:
    """Count the work of each storm decision that could grow with the storm."""
    work = _JoinWork()
    looked_at = storm_core.target_for

    def target_for(alert_id: int, shares: Any) -> Any:
        work.shares += len(shares)
        return looked_at(alert_id, shares)

    for module in (storm_core, grouping, storm_view):
        monkeypatch.setattr(module, "target_for", target_for, raising=False)
    may_hold = statuspage.Timeline._may_hold

    def compared(self: statuspage.Timeline, text: str) -> bool:
        work.texts += len(self)
        return may_hold(self, text)

    monkeypatch.setattr(statuspage.Timeline, "_may_hold", compared)
    metadata = relink.shared_metadata

    def named(action: str, members: Any) -> Any:
        work.members += len(members)
        return metadata(action, members)

    monkeypatch.setattr(apply, "shared_metadata", named)
    return work


def test_a_storm_join_costs_the_same_work_however_large_the_storm(
    storm: Harness, monkeypatch: pytest.MonkeyPatch
):
    """10 then 40 alerts (opened, then resolved): shares looked at, earlier texts compared and
    metadata entries per join stay the same (each join looked at all n shares, compared its
    text with all n earlier updates and listed all n ids: quadratic)."""
    work = _counting_join_work(monkeypatch)
    _storm_passes(storm, 10, "small")
    few = dataclasses.replace(work)
    _storm_passes(storm, 40, "large")
    many = dataclasses.astuple(work)
    for name, small, large in zip(
        ("shares", "texts", "members"), dataclasses.astuple(few), many, strict=True
    ):
        per_join = (large - small) / 39  # 39 joins, as the small storm's 9
        assert per_join <= small / 9, (name, small, large - small)
