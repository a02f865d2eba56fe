"""A pass costs what the work at hand costs, not what the history holds.

Real daemon code, real HTTP to the simulators, a real migrated database. The
closed history is seeded in SQL as copies of a link (and its audit rows) the
daemon itself mirrored and closed. Assertions count rows loaded, statements,
commits and incidents: never wall-clock time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from ilert_statuspage_sync.config.publish import parse_publish_policy
from ilert_statuspage_sync.core.retention import PRUNE_BATCH
from ilert_statuspage_sync.service.leadership import NoLeadership
from ilert_statuspage_sync.service.wiring import build_services, build_syncer
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link, Transition
from ilert_statuspage_sync.sync.report import PassReport
from ilert_statuspage_sync.sync.syncer import Syncer
from tests.support.database import allow_links, refuse_links
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

ACTION = "public-api"
DAY = timedelta(days=1)
FIRST_ID = 10**9


def fenced(harness: Harness, **changes: Any) -> Syncer:
    """A syncer fenced by a leadership epoch, as the daemon runs, budgets lifted."""
    config = dataclasses.replace(harness.config, **changes) if changes else harness.config
    services = build_services(config, timeout=(2.0, 2.0))
    harness.services.append(services)
    syncer = build_syncer(config, services, engine=harness.engine, leadership=NoLeadership())
    syncer.clock = lambda: datetime.now(UTC) + harness.clock_offset
    return syncer


Template = tuple[dict[str, Any], list[dict[str, Any]]]


def closed_template(harness: Harness) -> Template:
    """A link and its audit rows that the daemon mirrored and closed itself, as column values."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "closed alert", "")
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    with harness.engine.connect() as connection:
        link = connection.execute(sa.select(Link).where(Link.alert_id == alert_id)).one()
        audit = connection.execute(
            sa.select(Transition).where(Transition.alert_id == alert_id)
        ).all()
    assert not link.is_open
    return dict(link._mapping), [dict(row._mapping) for row in audit]


def seed_history(
    harness: Harness,
    template: Template,
    count: int,
    age: timedelta,
    *,
    first_id: int = FIRST_ID,
    **overrides: Any,
) -> list[int]:
    """``count`` closed links (copies of ``template``) and their audit rows, ``age`` old."""
    link, audit = template
    when = datetime.now(UTC) - age
    ids = list(range(first_id, first_id + count))
    links, rows = [], []
    for alert_id in ids:
        values = {**link, "alert_id": alert_id, "statuspage_incident_id": f"old{alert_id}"}
        values.update(created_at=when, updated_at=when, **overrides)
        del values["id"]
        links.append(values)
        for row in audit:
            rows.append({**row, "alert_id": alert_id, "at": when})
            del rows[-1]["id"]
    with harness.engine.begin() as connection:
        connection.execute(sa.insert(Link), links)
        connection.execute(sa.insert(Transition), rows)
    return ids


@dataclasses.dataclass
class Counts:
    """What one pass did to the database."""

    statements: list[str] = dataclasses.field(default_factory=list)
    commits: int = 0
    links_loaded: int = 0


@contextmanager
def counting(harness: Harness) -> Iterator[Counts]:
    """Count statements, commits and link rows loaded on the harness's engine."""
    counts = Counts()

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        counts.statements.append(sql.split(None, 1)[0].upper())

    def commit(_conn: object) -> None:
        counts.commits += 1

    def loaded(_link: object, _context: object) -> None:
        counts.links_loaded += 1

    sa.event.listen(harness.engine, "before_cursor_execute", statement)
    sa.event.listen(harness.engine, "commit", commit)
    sa.event.listen(Link, "load", loaded)
    try:
        yield counts
    finally:
        sa.event.remove(harness.engine, "before_cursor_execute", statement)
        sa.event.remove(harness.engine, "commit", commit)
        sa.event.remove(Link, "load", loaded)


def mirror_open(harness: Harness, count: int) -> list[int]:
    """``count`` open alerts, mirrored."""
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"open {n}", "") for n in range(count)]
    report = harness.sync()
    assert report.ok
    assert report.writes == count
    return ids


def age_checks(harness: Harness) -> datetime:
    """Date every link's last timeline check back to 2001, so a new check shows."""
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    with harness.engine.begin() as connection:
        connection.execute(sa.update(Link).values(last_checked_at=long_ago))
    return long_ago


def quiet_pass(harness: Harness, syncer: Syncer) -> Counts:
    """One pass with nothing to write, counted."""
    with counting(harness) as counts:
        report = syncer.run_pass()
    assert report.ok
    assert report.writes == 0
    return counts


def incidents_of(harness: Harness, alert_id: int) -> list[dict[str, Any]]:
    """The incidents on the automatic page whose metadata names ``alert_id``."""
    return [
        incident
        for incident in harness.incidents(AUTO_PAGE)
        if incident["metadata"]["ilert"]["alert_id"] == str(alert_id)
    ]


def stored_links(harness: Harness) -> dict[int, Link]:
    """Every link in the database, by alert id."""
    with harness.sessions() as session:
        return {link.alert_id: link for link in session.scalars(sa.select(Link))}


def audit_alert_ids(harness: Harness) -> set[int]:
    """The alert ids that still have audit rows."""
    with harness.engine.connect() as connection:
        return set(connection.scalars(sa.select(Transition.alert_id).distinct()))


# -- a pass loads only the links it needs --------------------------------------


def test_a_quiet_pass_loads_no_closed_link(harness: Harness) -> None:
    """With 2,000 closed links stored, a quiet pass loads and asks what it did with none."""
    mirror_open(harness, 5)
    template = closed_template(harness)
    harness.sync()
    before = quiet_pass(harness, harness.syncer)
    seed_history(harness, template, 2_000, 30 * DAY)
    harness.sync()

    after = quiet_pass(harness, harness.syncer)

    assert after.links_loaded == before.links_loaded
    # The 5 open links, and the template's: closed this minute, listed again as
    # newly reported. Three steps read them (the page read that picks the pages,
    # the human-edit check, the sync), each materialising them anew.
    assert after.links_loaded <= 3 * (5 + 1)
    assert after.statements.count("SELECT") == before.statements.count("SELECT")
    # The cursors' UPDATE is left out when two passes share iLert's second.
    assert abs(len(after.statements) - len(before.statements)) <= 1


def test_the_pass_queries_search_the_state_index(harness: Harness) -> None:
    """SQLite plans every per-pass link query on an index: no scan of the closed history."""
    if harness.engine.dialect.name != "sqlite":
        pytest.skip("query plans are SQLite's; PostgreSQL chooses by table statistics")
    now = datetime.now(UTC)
    captured: list[tuple[str, Any]] = []

    def capture(_c: object, _cur: object, sql: str, params: Any, *_a: object) -> None:
        captured.append((sql, params))

    sa.event.listen(harness.engine, "before_cursor_execute", capture)
    try:
        with harness.sessions() as session:
            repo.open_links(session)
            repo.recently_closed(session, now)
            repo.expired_links(session, now, PRUNE_BATCH)
            # The daemon's counts after each pass (daemon.py: tracked and failing items).
            session.scalar(sa.select(sa.func.count()).where(Link.is_open))
            session.scalar(sa.select(sa.func.count()).where(Link.last_error.is_not(None)))
    finally:
        sa.event.remove(harness.engine, "before_cursor_execute", capture)
    with harness.engine.connect() as connection:
        plans = [
            " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            for sql, params in captured
            if sql.lstrip().upper().startswith("SELECT")
        ]

    assert len(plans) == 5
    for plan in plans[:4]:
        assert "links USING COVERING INDEX ix_links_is_open_updated_at" in plan or (
            "SEARCH links USING INDEX ix_links_is_open_updated_at" in plan
        ), plan
    assert plans[4] == "SCAN links USING INDEX ix_links_failing", plans[4]


def test_a_closed_link_of_an_alert_listed_again_is_found_not_duplicated(
    harness: Harness,
) -> None:
    """An alert created and resolved between polls, listed again: one incident, its link reused."""
    seed_history(harness, closed_template(harness), 50, 10 * DAY)
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "blip", "")
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert len(incidents_of(harness, alert_id)) == 1

    for _ in range(3):  # the "reported since" listing still returns it
        assert harness.sync().ok

    assert len(incidents_of(harness, alert_id)) == 1
    assert len([a for a in stored_links(harness) if a == alert_id]) == 1


# -- a quiet pass's bookkeeping is written in one batch -------------------------


@pytest.mark.parametrize("open_count", [3, 30])
def test_a_quiet_pass_makes_a_handful_of_statements_whatever_the_alerts(
    harness: Harness, open_count: int
) -> None:
    """Checking 3 or 30 unchanged alerts: the same few statements and 3 commits, not one each."""
    mirror_open(harness, open_count)
    syncer = fenced(harness)
    syncer.run_pass()

    counts = quiet_pass(harness, syncer)

    checked = [r for r in harness.ilert.requests if r.path.endswith("/log-entries")]
    assert len(checked) >= open_count  # every timeline was read
    # The new links', the batch's and the Statuspage key's spend (shared with other
    # processes: its SELECT, INSERT, DELETE and the commit's fence check).
    assert counts.commits == 3
    # A handful, not one per alert: 16 on SQLite, 19 on PostgreSQL (each commit's fence
    # sets its lock timeout); timing adds one or two (the cursors' UPDATE when iLert's
    # second moved on). 40+ for 30 alerts before.
    assert len(counts.statements) <= 22, counts.statements


def test_quiet_bookkeeping_is_stored_in_the_batch(harness: Harness) -> None:
    """The batch stores each checked alert's check time and timeline cursor."""
    ids = mirror_open(harness, 3)
    harness.ilert.comment(ids[1], "seen by the pass")
    assert harness.sync().ok  # the comment is published
    long_ago = age_checks(harness)
    cursors = {a: stored_links(harness)[a].last_log_entry_id for a in ids}

    with counting(harness) as counts:
        assert harness.sync().ok

    after = stored_links(harness)
    for alert_id in ids:
        assert after[alert_id].last_checked_at > long_ago  # type: ignore[operator]
        assert after[alert_id].last_log_entry_id == cursors[alert_id]
    assert counts.statements.count("UPDATE") <= 2


def test_a_later_steps_rollback_keeps_the_batched_bookkeeping(harness: Harness) -> None:
    """A step after the batch that rolls the session back (components_sync does, on a page's
    error) loses none of it: else the same alerts would look unchecked, and be read, forever."""
    ids = mirror_open(harness, 3)
    long_ago = age_checks(harness)
    real = harness.syncer.components.sync

    def failing(session: Any, now: datetime, down: set[str], wrote: Any = ()) -> Any:
        done = real(session, now, down, wrote)
        session.rollback()  # as components_sync does when a page's step fails
        return done

    harness.syncer.components.sync = failing  # type: ignore[method-assign]
    harness.sync()

    after = stored_links(harness)
    for alert_id in ids:
        assert after[alert_id].last_checked_at > long_ago  # type: ignore[operator]


def test_a_changed_alert_costs_a_few_commits_the_quiet_ones_none(harness: Harness) -> None:
    """One comment among 20 quiet alerts: the comment's write and at most 3 more commits."""
    ids = mirror_open(harness, 20)
    syncer = fenced(harness)
    syncer.run_pass()
    harness.ilert.comment(ids[7], "we are on it")

    with counting(harness) as counts:
        report = syncer.run_pass()

    assert report.ok
    assert report.writes == 1
    assert counts.commits <= 3 + 2  # the pass's own 3, the intent and the outcome


@pytest.mark.parametrize("filtered", [1, 12])
def test_filtered_alerts_cost_no_lookup_once_audited(
    make_harness: Callable[..., Harness], filtered: int
) -> None:
    """1 or 12 alerts kept off the page by a filter: the same statements per quiet pass."""
    harness = publishing(make_harness, {"min_priority": "HIGH"})
    ids = [
        harness.ilert.create_alert(AUTO_SOURCE, f"low {n}", "", priority="LOW")
        for n in range(filtered)
    ]
    harness.sync()  # each is audited "filtered" once

    counts = quiet_pass(harness, harness.syncer)

    assert all(harness.transitions(a) == [("created", "filtered", None)] for a in ids)
    # The new links', the batch's and the Statuspage key's spend (shared with other
    # processes: its SELECT, INSERT, DELETE and the commit's fence check).
    assert counts.commits == 3
    # A handful, not one per alert: 16 on SQLite, 19 on PostgreSQL (each commit's fence
    # sets its lock timeout); timing adds one or two (the cursors' UPDATE when iLert's
    # second moved on). 40+ for 30 alerts before.
    assert len(counts.statements) <= 22, counts.statements


def test_a_transient_failure_of_one_alert_keeps_the_others_bookkeeping(
    harness: Harness,
) -> None:
    """iLert fails one timeline read: that alert is deferred; the batch still stores the rest."""
    first, second = mirror_open(harness, 2)
    long_ago = age_checks(harness)
    harness.ilert.fail_next(5, 503, path_contains=f"/api/alerts/{second}/log-entries")

    report = harness.sync()

    assert report.deferred_items >= 1
    links = stored_links(harness)
    assert links[first].last_checked_at > long_ago  # type: ignore[operator]
    assert links[second].last_checked_at == long_ago
    assert links[second].last_error is not None


def sync_refusing(
    harness: Harness, refused: int
) -> tuple[PassReport, list[MutableMapping[str, Any]]]:
    """One pass while the database refuses updates of ``refused``'s link; its log lines."""
    refuse_links(harness.engine, "UPDATE", f"NEW.alert_id = {refused}")
    try:
        with capture_logs() as logs:
            report = harness.sync()
    finally:
        allow_links(harness.engine)
    return report, logs


def test_a_refused_bookkeeping_row_fails_that_alert_only(harness: Harness) -> None:
    """The database refuses one alert's row: the batch falls back row by row; the rest is kept."""
    refused, good = mirror_open(harness, 2)
    long_ago = age_checks(harness)
    report, logs = sync_refusing(harness, refused)

    assert report.failed_items == 1
    assert _events(logs, "bookkeeping_batch_refused")
    assert [line["alert_id"] for line in _events(logs, "alert_failure_unrecorded")] == [refused]
    assert stored_links(harness)[good].last_checked_at > long_ago  # type: ignore[operator]
    assert stored_links(harness)[refused].last_checked_at == long_ago
    assert harness.sync().ok


def _events(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [line for line in logs if line["event"] == name]


# -- retention ------------------------------------------------------------------


def test_pruning_removes_only_expired_settled_history(harness: Harness) -> None:
    """Old closed settled links and old audit rows go; open, pending, failing, triggered stay."""
    old, young = 500 * DAY, 30 * DAY
    template = closed_template(harness)

    def seed(offset: int, age: timedelta = old, **overrides: Any) -> list[int]:
        return seed_history(harness, template, 1, age, first_id=FIRST_ID + offset, **overrides)

    expired = [*seed(0), *seed(1), *seed(2)]
    cleared = seed(10, pending_call=sa.JSON.NULL)  # an intent settled: JSON null
    kept = {
        "young": seed(100, young),
        # Its alert is not in iLert: the pass reads it by id, and it stays open.
        "open": seed(200, is_open=True),
        "pending": seed(300, pending_call={"kind": "update"}),
        "failing": seed(400, failures=2, last_error="refused"),
        "retrying": seed(500, next_attempt_at=datetime.now(UTC)),
        "triggered": seed(600, triggered_at=datetime.now(UTC) - old),
    }

    with capture_logs() as logs:
        harness.sync()

    links = stored_links(harness)
    for alert_id in [*expired, *cleared]:
        assert alert_id not in links
    for name, ids in kept.items():
        assert ids[0] in links, name
    audit = audit_alert_ids(harness)
    assert not audit & {*expired, *cleared, *(ids[0] for n, ids in kept.items() if n != "young")}
    assert kept["young"][0] in audit
    (pruned,) = _events(logs, "history_pruned")
    assert pruned["links"] == 4


def test_a_closed_link_whose_incident_is_still_open_is_not_expired(harness: Harness) -> None:
    """Its alert resolved, its incident still open (a storm's other alerts, a person's hold):
    however old, the link is what knows that incident as ours, so it is not pruned."""
    template = closed_template(harness)
    held = seed_history(harness, template, 1, 500 * DAY, statuspage_status="identified")
    done = seed_history(harness, template, 1, 500 * DAY, first_id=FIRST_ID + 10)
    with harness.sessions() as session:
        found = repo.expired_links(session, datetime.now(UTC), PRUNE_BATCH)
        ids = set(session.scalars(sa.select(Link.alert_id).where(Link.id.in_(found))))
    assert done[0] in ids
    assert held[0] not in ids


def test_pruning_is_bounded_per_pass(harness: Harness) -> None:
    """A history larger than a batch is pruned a batch per pass, oldest first."""
    seed_history(harness, closed_template(harness), PRUNE_BATCH + 20, 500 * DAY)
    before = len(stored_links(harness))

    harness.sync()
    first = len(stored_links(harness))
    harness.sync()
    second = len(stored_links(harness))

    assert before - first == PRUNE_BATCH
    assert first - second == 20


def test_retention_zero_keeps_everything(make_harness: Callable[..., Harness]) -> None:
    """retention_days = 0: nothing is pruned, however old."""
    harness = make_harness("classic", retention_days=0)
    harness.sync()
    ids = seed_history(harness, closed_template(harness), 5, 5_000 * DAY)

    harness.sync()

    assert set(ids) <= set(stored_links(harness))
    assert set(ids) <= audit_alert_ids(harness)


def test_a_pruned_alert_is_never_mirrored_again(
    make_harness: Callable[..., Harness],
) -> None:
    """After 500 days down, a link the "reported since" listing can return is not pruned yet.

    Its alert was created and resolved 500 days ago; the first pass back lists
    it again. The link is pruned only once the listing has moved past it, and
    the alert never comes back as a new, second incident.
    """
    harness = make_harness("classic")
    real = harness.ilert._clock
    past = 500 * DAY
    harness.ilert.set_clock(lambda: real() - past)
    harness.statuspage.set_clock(lambda: real() - past)
    harness.clock_offset = -past
    harness.sync()  # activated 500 days ago
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "long ago", "")
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert len(incidents_of(harness, alert_id)) == 1
    harness.ilert.set_clock(real)
    harness.statuspage.set_clock(real)
    harness.clock_offset = timedelta(0)

    with capture_logs() as logs:
        harness.sync()  # lists alerts reported since 500 days ago: this one too
    assert alert_id in stored_links(harness)
    assert not _events(logs, "history_pruned")

    harness.sync()  # the listing moved on: now it is pruned
    assert alert_id not in stored_links(harness)
    for _ in range(2):
        assert harness.sync().ok
    assert len(incidents_of(harness, alert_id)) == 1


# -- first sight of filtered alerts is batched too --------------------------------


def publishing(make_harness: Callable[..., Harness], settings: dict[str, object]) -> Harness:
    """A harness whose automatic action publishes by ``settings``, after its first pass."""
    harness = make_harness("classic")
    policy = parse_publish_policy(settings, "incident_actions[0]", "test.toml")
    actions = tuple(
        dataclasses.replace(a, publish=policy) if a.name == ACTION else a
        for a in harness.config.incident_actions
    )
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer()
    harness.sync()
    return harness


def excluding(make_harness: Callable[..., Harness]) -> Harness:
    """A harness whose automatic action excludes every summary with "maintenance"."""
    return publishing(make_harness, {"exclude": "maintenance"})


@pytest.mark.parametrize("filtered", [5, 60])
def test_first_sight_of_filtered_alerts_is_one_batch(
    make_harness: Callable[..., Harness], filtered: int
) -> None:
    """5 or 60 alerts first seen under exclude: the same few commits and statements."""
    harness = excluding(make_harness)
    syncer = fenced(harness)
    syncer.run_pass()
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"maintenance {n}", "") for n in range(filtered)]

    with counting(harness) as counts:
        report = syncer.run_pass()

    assert report.ok
    assert report.writes == 0
    reason = "exclude: summary matches exclude 'maintenance'"
    for alert_id in ids:
        assert harness.transitions(alert_id) == [("created", "filtered", None)]
    assert {row.reason for row in harness.audit_rows() if row.alert_id in ids} == {reason}
    # The new links' commit, the batch's (audit rows, bookkeeping, cursors) and the key's
    # spend: 3, against one more per alert before.
    assert counts.commits <= 4, counts.commits
    # The audit rows are one INSERT; each new link is its own on SQLite (the ORM reads its
    # id back row by row there), as for any alert first seen.
    assert counts.statements.count("INSERT") <= filtered + 1, counts.statements
    others = [s for s in counts.statements if s != "INSERT"]
    assert len(others) <= 20, others  # PostgreSQL adds its SET of the fence


def test_filtered_audit_rows_lost_to_a_kill_are_written_by_the_next_process(
    make_harness: Callable[..., Harness],
) -> None:
    """A process stopped before its batch leaves no filtered row; the next writes each once."""
    harness = excluding(make_harness)
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"maintenance {n}", "") for n in range(3)]
    killed = harness.new_syncer()

    def kill(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("killed before the batch")

    killed.bookkeeping.save_batched = kill  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        killed.run_pass()
    assert all(harness.transitions(a) == [] for a in ids)  # only a record: nothing else lost

    harness.syncer = harness.new_syncer()  # a restart: nothing carried over
    assert harness.sync().ok
    assert harness.sync().ok
    harness.syncer = harness.new_syncer()
    assert harness.sync().ok

    for alert_id in ids:
        assert harness.transitions(alert_id) == [("created", "filtered", None)]


def test_a_refused_batch_still_audits_each_filtered_alert_it_can(
    make_harness: Callable[..., Harness],
) -> None:
    """The database refuses one filtered alert's row: the other's "filtered" row is written."""
    harness = excluding(make_harness)
    refused, good = (
        harness.ilert.create_alert(AUTO_SOURCE, f"maintenance {n}", "") for n in range(2)
    )
    report, logs = sync_refusing(harness, refused)

    assert report.failed_items == 1
    assert _events(logs, "bookkeeping_batch_refused")
    assert harness.transitions(good) == [("created", "filtered", None)]
    assert harness.transitions(refused) == []
    assert harness.sync().ok
    assert harness.transitions(refused) == [("created", "filtered", None)]
