"""The one writer against the promises it took over from three copies of the protocol.

Each write kind stopped right after Statuspage answered leaves an intent in
exactly the shape earlier versions stored (so either version reconciles the
other's), a dry run meeting such an intent neither sends, settles nor stores
anything, a dry run as a whole leaves the database byte for byte as it was,
and a leadership lost between intent and send sends nothing.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store.tables import Link
from tests.support.harness import Harness
from tests.support.proc import SP_KEY, run_cli, write_component_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

COMMENT = "Mitigation deployed; watching error rates."
STAMP = ["writer", "recorded_at", "in_flight_s"]
# The keys, in order, the version before the writer stored (sync/apply.py, sync/components.py).
OLD_INCIDENT = [
    "kind",
    "incident_id",
    "status",
    "body",
    "updates_before",
    "mirror_after",
    "audit",
    "sent_at",
]
OLD_COMPONENT = ["kind", "status", "state_after", "audit", "sent_at"]
TABLES = ("action_state", "links", "transitions", "component_states")


class Crash(BaseException):
    """Stands in for a kill: nothing in the daemon catches it."""


def _public(**changes: Any) -> IncidentAction:
    base = IncidentAction(
        name="public-api", alert_sources=(AUTO_SOURCE,), connector="main", page_id=AUTO_PAGE
    )
    return dataclasses.replace(base, **changes)


def _harness(make_harness: Any, *actions: IncidentAction) -> Harness:
    harness: Harness = make_harness("classic")
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer()
    harness.sync()  # activates the actions
    return harness


def _stop_at(harness: Harness, point: str) -> None:
    def crash(name: str) -> None:
        if name == point:
            raise Crash(name)

    harness.syncer.checkpoint = crash


def _raw_intents(harness: Harness) -> list[str]:
    """Every stored intent as the database holds it (text, not parsed)."""
    with harness.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT CAST(pending_call AS TEXT) FROM links UNION ALL "
                "SELECT CAST(pending_call AS TEXT) FROM component_states"
            )
        ).all()
    return [row[0] for row in rows if row[0] is not None and row[0] != "null"]


def _dump(harness: Harness) -> dict[str, list[tuple[Any, ...]]]:
    with harness.engine.connect() as connection:
        dump = {}
        for table in TABLES:
            rows = connection.execute(sa.text(f"SELECT * FROM {table}"))
            dump[table] = sorted(tuple(map(repr, row)) for row in rows)
        return dump


@pytest.fixture(name="api")
def _api(statuspage: StatuspageSimulator) -> str:
    return statuspage.add_component(AUTO_PAGE, "Public API")


def _interrupt(kind: str, harness: Harness) -> tuple[int, str]:
    """Bring an alert to the write ``kind`` and stop right after Statuspage answered it."""
    alert = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout", "LOW")
    if kind == "create":
        _stop_at(harness, "answered_create")
        with pytest.raises(Crash):
            harness.sync()
        return alert, "create"
    harness.sync()
    if kind == "body":
        harness.ilert.comment(alert, COMMENT)
    elif kind == "status":
        harness.ilert.accept(alert)
    elif kind == "resolve":
        harness.ilert.resolve(alert)
    elif kind == "component":
        harness.ilert.raise_priority(alert)
    label = "component" if kind == "component" else "update"
    _stop_at(harness, f"answered_{label}")
    with pytest.raises(Crash):
        harness.sync()
    return alert, label


KINDS = ["create", "body", "status", "resolve", "component"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_interrupted_intent_has_the_shape_older_versions_stored(make_harness, api, kind):
    """Stopped after the answer: the stored intent's keys are the old version's, in its order,
    and a restart adopts it without a second write."""
    harness = _harness(make_harness, _public(components=(api,)))
    _alert, label = _interrupt(kind, harness)
    (raw,) = _raw_intents(harness)
    keys = list(json.loads(raw))
    if label == "component":
        assert keys == OLD_COMPONENT + STAMP
    elif kind == "create":
        assert keys == [*OLD_INCIDENT, "components", "components_before", *STAMP]
    else:
        assert keys == OLD_INCIDENT + STAMP
    writes = len(harness.statuspage.requests)
    sent = [r for r in harness.statuspage.requests if r.method in ("POST", "PATCH")]
    harness.syncer = harness.new_syncer()  # a restart
    harness.sync()
    harness.sync()
    assert _raw_intents(harness) == []
    again = [r for r in harness.statuspage.requests[writes:] if r.method in ("POST", "PATCH")]
    # Nothing the interrupted write carried is sent again.
    assert not {(r.method, r.path, json.dumps(r.json_body, sort_keys=True)) for r in again} & {
        (r.method, r.path, json.dumps(r.json_body, sort_keys=True)) for r in sent[-1:]
    }
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count("5xx on /checkout") == 1
    assert bodies.count(COMMENT) == (1 if kind == "body" else 0)
    confirmed = [
        r for r in harness.audit_rows() if r.reason and "after an interrupted call" in r.reason
    ]
    assert confirmed, "the interrupted write was not adopted"


@pytest.mark.parametrize("kind", KINDS)
def test_a_dry_run_leaves_an_interrupted_intent_alone(make_harness, api, kind):
    """A dry run meeting an interrupted intent sends nothing and stores nothing; the real run
    after it still adopts the intent once."""
    harness = _harness(make_harness, _public(components=(api,)))
    _interrupt(kind, harness)
    before, intents = _dump(harness), _raw_intents(harness)
    seen = len(harness.statuspage.requests)
    harness.syncer = harness.new_syncer(dry_run=True)
    harness.sync()
    harness.sync()
    assert [r.method for r in harness.statuspage.requests[seen:] if r.method != "GET"] == []
    assert _raw_intents(harness) == intents
    assert _dump(harness) == before
    harness.syncer = harness.new_syncer()
    harness.sync()
    harness.sync()
    assert _raw_intents(harness) == []
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count("5xx on /checkout") == 1
    assert bodies.count(COMMENT) == (1 if kind == "body" else 0)


def test_a_dry_run_of_every_write_kind_stores_nothing(make_harness, api):
    """Creates, updates, a component change, a person's edit and a duplicate in one dry pass:
    the database is as before, byte for byte, and Statuspage got no write."""
    harness = _harness(make_harness, _public(components=(api,)))
    first = harness.ilert.create_alert(AUTO_SOURCE, "API slow", "", "LOW")
    edited = harness.ilert.create_alert(AUTO_SOURCE, "Queue stuck", "", "LOW")
    harness.sync()
    harness.ilert.comment(first, COMMENT)
    harness.ilert.raise_priority(first)
    harness.ilert.resolve(edited)
    harness.ilert.create_alert(AUTO_SOURCE, "New one", "", "HIGH")
    link = harness.link("public-api", first)
    assert link is not None and link.statuspage_incident_id is not None
    other = harness.link("public-api", edited)
    assert other is not None and other.statuspage_incident_id is not None
    harness.statuspage.person_sets_status(other.statuspage_incident_id, "monitoring", "by hand")
    client = next(iter(harness.syncer.statuspage.values()))
    metadata = {"ilert": {"alert_id": str(first), "incident_action": "public-api"}}
    copy = {"name": "copy", "status": "identified", "metadata": metadata}
    client.create_incident(AUTO_PAGE, copy)
    before = _dump(harness)
    seen = len(harness.statuspage.requests)
    dry = harness.new_syncer(dry_run=True)
    dry.run_pass()
    assert [r.method for r in harness.statuspage.requests[seen:] if r.method != "GET"] == []
    assert _dump(harness) == before


@pytest.mark.parametrize("kind", ["create", "body", "component"])
def test_leadership_lost_between_intent_and_send_sends_nothing(make_harness, api, kind):
    """The fence after the intent's commit says another process leads: nothing goes out, the
    intent is dropped, and the next leader makes the write once."""
    harness = _harness(make_harness, _public(components=(api,)))
    alert = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx", "LOW")
    if kind != "create":
        harness.sync()
        if kind == "body":
            harness.ilert.comment(alert, COMMENT)
        else:
            harness.ilert.raise_priority(alert)
    label = {"create": "create", "body": "update", "component": "component"}[kind]
    leading = [True]
    harness.syncer = harness.new_syncer()

    def fence() -> bool:
        return leading[0]

    def checkpoint(name: str) -> None:
        if name == f"intent_{label}":
            leading[0] = False

    harness.syncer.guard = fence
    harness.syncer.components._out.guard = fence
    harness.syncer.checkpoint = checkpoint
    seen = len(harness.statuspage.requests)
    assert not harness.sync().ok  # the pass stops at the lost fence
    assert [r.method for r in harness.statuspage.requests[seen:] if r.method != "GET"] == []
    assert _raw_intents(harness) == []
    harness.syncer = harness.new_syncer()
    harness.sync()
    harness.sync()
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count(COMMENT) == (1 if kind == "body" else 0)


def test_a_refused_read_before_an_update_is_not_a_refused_update(harness: Harness):
    """The read of the incident's updates that precedes an update is answered 422: the update
    was never sent, so it is not recorded as refused and passed over; it is retried."""
    alert = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    harness.sync()
    link = harness.link("public-api", alert)
    assert link is not None and link.statuspage_incident_id is not None
    harness.syncer = harness.new_syncer()  # a restart: the update ids are read again
    harness.ilert.comment(alert, COMMENT)
    harness.statuspage.inject_fault(
        422,
        {"error": "unprocessable"},
        path_contains=f"/incidents/{link.statuspage_incident_id}",
        method="GET",
    )
    harness.sync()
    harness.clock_offset = timedelta(hours=2)  # past the retry delay
    harness.sync()
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count(COMMENT) == 1


def _no_key(*texts: str | bytes) -> None:
    pieces = [SP_KEY[i : i + 8] for i in range(len(SP_KEY) - 7)]
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        leaked = [piece for piece in pieces if piece.encode() in data]
        assert leaked == [], f"key pieces {leaked} in:\n{data[-3000:]!r}"


def test_no_error_path_of_the_writer_shows_the_key(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
):
    """Statuspage echoes the key in a 500 after an update, a 422 to an update, a 422 to a
    component PATCH and a 422 to a duplicate's resolve: no piece of it in the output, the
    logs or the database (audit rows, ``last_error``, intents)."""
    ilert, statuspage = sims
    config, _ = write_component_config(tmp_path, sims)
    outputs: list[str] = []

    def sync() -> None:
        result = run_cli(config, "sync")
        outputs.extend((result.stdout, result.stderr))

    echo = {"error": "e" * 40 + f" {SP_KEY} " + "e" * 40}
    sync()  # activates the action
    alert = ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx", "LOW")
    sync()
    (incident,) = statuspage.incidents(AUTO_PAGE)
    # A 500 after the update: the intent stays, the link records the error.
    ilert.comment(alert, COMMENT)
    statuspage.inject_fault(500, echo, path_contains=f"/incidents/{incident['id']}", method="PATCH")
    sync()
    sync()
    # A refused update: recorded failed once.
    ilert.comment(alert, "second comment")
    statuspage.inject_fault(422, echo, path_contains=f"/incidents/{incident['id']}", method="PATCH")
    sync()
    # A refused component PATCH.
    ilert.raise_priority(alert)
    statuspage.inject_fault(422, echo, path_contains="/components/", method="PATCH")
    sync()
    # A duplicate whose resolve is refused.
    metadata = {"ilert": {"alert_id": str(alert), "incident_action": "public-api"}}
    copy = statuspage_copy(statuspage, metadata)
    statuspage.inject_fault(422, echo, path_contains=f"/incidents/{copy}", method="PATCH")
    sync()
    said = "".join(outputs)
    for event in (
        "alert_write_failed",
        "write_refused",
        "/components/",
        "duplicate_resolve_failed",
    ):
        assert event in said, f"{event} never happened"
    database = b"".join(p.read_bytes() for p in sorted(tmp_path.glob("state.db*")))
    assert database.count(b"********") >= 2  # the refused update's and component's rows
    _no_key(*outputs, database)


def statuspage_copy(statuspage: StatuspageSimulator, metadata: dict[str, Any]) -> str:
    """An incident carrying the alert's metadata, as a late in-flight create would leave."""
    body = {"incident": {"name": "copy", "status": "identified", "metadata": metadata}}
    request = urllib.request.Request(
        f"{statuspage.url}/v1/pages/{AUTO_PAGE}/incidents",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"OAuth {SP_KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.loads(answer.read())["id"])


OLDEST = ("kind", "status", "body", "mirror_after", "audit", "sent_at")


@pytest.mark.parametrize("kind", ["create", "body", "status"])
def test_an_intent_of_the_first_stored_shape_is_adopted(harness: Harness, kind: str):
    """An interrupted write whose intent has only the first version's keys (no incident id,
    no update ids, no stamp) is adopted after an upgrade, not sent again."""
    alert = harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx on /checkout")
    label = "create"
    if kind != "create":
        harness.sync()
        label = "update"
        if kind == "body":
            harness.ilert.comment(alert, COMMENT)
        else:
            harness.ilert.accept(alert)
    _stop_at(harness, f"answered_{label}")
    with pytest.raises(Crash):
        harness.sync()
    with harness.sessions() as session:
        link = session.scalars(sa.select(Link).where(Link.alert_id == alert)).one()
        assert link.pending_call is not None
        link.pending_call = {key: link.pending_call[key] for key in OLDEST}
        session.commit()
    writes = len(harness.statuspage.writes())
    harness.syncer = harness.new_syncer()
    harness.sync()
    harness.sync()
    assert len(harness.statuspage.writes()) == writes
    (incident,) = harness.incidents()
    bodies = [update["body"] for update in incident["incident_updates"]]
    assert bodies.count(COMMENT) == (1 if kind == "body" else 0)
    assert incident["status"] == ("in_progress" if kind == "status" else "identified")
    reasons = [row.reason for row in harness.audit_rows()]
    assert reasons.count("confirmed on Statuspage after an interrupted call") == 1


def test_sync_dry_run_leaves_the_database_file_as_it_was(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
):
    """`sync --dry-run` with a create, a comment, a component change and an interrupted intent
    pending: no write reaches Statuspage and the database file is unchanged, byte for byte."""
    ilert, statuspage = sims
    config, _ = write_component_config(tmp_path, sims)
    assert run_cli(config, "sync").returncode == 0
    alert = ilert.create_alert(AUTO_SOURCE, "Checkout errors", "5xx", "LOW")
    assert run_cli(config, "sync").returncode == 0
    ilert.comment(alert, COMMENT)
    ilert.raise_priority(alert)
    ilert.create_alert(AUTO_SOURCE, "Another", "", "HIGH")
    # The comment's answer is lost: its intent stays for the next real run.
    statuspage.drop_next(1, path_contains="/incidents/", method="PATCH", after_apply=True)
    assert run_cli(config, "sync").returncode != 0
    before = {p.name: p.read_bytes() for p in tmp_path.glob("state.db*") if p.suffix != ".lock"}
    seen = len(statuspage.requests)
    dry = run_cli(config, "sync", "--dry-run")
    assert dry.returncode in (0, 1), dry.stderr
    assert [r.method for r in statuspage.requests[seen:] if r.method != "GET"] == []
    after = {p.name: p.read_bytes() for p in tmp_path.glob("state.db*") if p.suffix != ".lock"}
    assert after == before
