"""``status``: is the daemon healthy, its counts, and the alerts that need a look.

Probes and scripts read the verdict from the exit code: 1 when UNHEALTHY. The
default output is bounded whatever the history holds (the verdict, the
counts, the failing alerts and the latest changed ones, ``SHOWN`` of each at
most); ``--all`` streams every tracked alert.

It runs as a fresh process, often, so its start-up is its cost: on a plain
SQLite file (the default) it reads through ``sqlite3`` and never loads
SQLAlchemy; on PostgreSQL through SQLAlchemy Core, never the ORM. Both run the
same reads (``store.overview``), and its config load compiles no template (a
test holds what it imports).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final

from ilert_statuspage_sync.commands.output import (
    EXIT_FAILED,
    EXIT_OK,
    print_table,
    reader_may_leave,
)
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.sqlite_url import plain_sqlite
from ilert_statuspage_sync.store import overview
from ilert_statuspage_sync.store.overview import LinkCounts, LinkLine, ReplicaLine, Run

__all__ = ["SHOWN", "core_reads", "health_lines", "reads", "show", "status"]

_HEADER = ("ACTION", "ALERT", "STATE", "INCIDENT", "STATUS", "LAST TRANSITION", "PROBLEM")
# Failing alerts shown, and latest changed alerts shown, without --all.
SHOWN: Final = 20


def status(config: Config, args: argparse.Namespace) -> int:
    """Print the verdict, the counts and the alerts that need a look (``--all``: every one)."""
    with reads(config) as run:
        return show(run, args, datetime.now(UTC))


@contextmanager
def reads(config: Config) -> Iterator[Run]:
    """The configured database's reads, once it is found migrated to this version.

    ``sqlite3`` on a plain SQLite file (read-only), SQLAlchemy on anything else.
    """
    plain = plain_sqlite(config.database_url)
    if plain is not None:
        from ilert_statuspage_sync.store.sqlite_reads import sqlite_reads

        with sqlite_reads(config.database_url, plain) as run:
            yield run
    else:
        with core_reads(config) as run:
            yield run


@contextmanager
def core_reads(config: Config) -> Iterator[Run]:
    """The configured database's reads through SQLAlchemy Core (PostgreSQL, any SQLite URL)."""
    from ilert_statuspage_sync.commands.engines import readable
    from ilert_statuspage_sync.store.core_reads import rows_of

    engine = readable(config)
    try:
        with engine.connect() as connection:
            yield rows_of(connection)
    finally:
        engine.dispose()


def show(run: Run, args: argparse.Namespace, now: datetime) -> int:
    """Print what ``status`` shows from ``run``'s database as at ``now``; the exit code."""
    counts = overview.counts(run)
    verdict = health_lines(overview.replicas(run), counts.failing, now)
    code = EXIT_OK if verdict[0].startswith("daemon: healthy") else EXIT_FAILED
    verdict.append(f"alerts tracked: {counts.tracked:,}, open: {counts.open:,}")
    with reader_may_leave():
        print("\n".join(verdict), end="\n\n")
        if getattr(args, "all", False):
            every = overview.every_line(run)
            _print_stream(_HEADER, (_row(line, links) for line, links in every))
        else:
            _print_latest(run, counts)
        if not counts.tracked:
            print("no alerts tracked yet")
        _print_bridged(run)
    return code


def _print_bridged(run: Run) -> None:
    """The status bridges' objects: how many are open, and the latest changed (open first)."""
    opened, lines = overview.bridged_lines(run, SHOWN)
    if not lines:
        return
    print(f"\nbridged iLert objects open: {opened:,}")
    header = ("BRIDGE", "KIND", "ILERT ID", "STATE", "PUBLIC OBJECT")
    rows = [
        (
            line.bridge,
            line.kind,
            str(line.ilert_id),
            ("held: a person changed it" if line.held else "open" if line.is_open else "done"),
            line.statuspage_id or "-",
        )
        for line in lines
    ]
    print_table([header, *rows])


def _print_latest(run: Run, counts: LinkCounts) -> None:
    """The failing alerts, then the latest changed: a bounded table, and what it left out."""
    lines = overview.latest_lines(run, SHOWN)
    incidents = [line.statuspage_incident_id for line in lines if line.statuspage_incident_id]
    alerts = overview.incident_alerts(run, incidents)
    rows = [_row(line, alerts.get(line.statuspage_incident_id or "", 1)) for line in lines]
    print_table([_HEADER, *rows])
    if counts.tracked > len(rows):
        print(
            f"{len(rows):,} of {counts.tracked:,} shown (failing first, then the latest "
            "changed); `status --all` lists every one"
        )


def _print_stream(header: Sequence[str], rows: Iterable[tuple[str, ...]]) -> None:
    """A table printed as it is read: columns as wide as in its first rows."""
    rows = iter(rows)
    first = list(itertools.islice(rows, overview.STREAM_CHUNK))
    widths = [max(len(row[i]) for row in [header, *first]) for i in range(len(header))]
    for row in itertools.chain([tuple(header)], first, rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _row(line: LinkLine, alerts: int) -> tuple[str, ...]:
    newest = line.newest
    filtered = newest is not None and newest.outcome == "filtered"
    if filtered:
        state = "filtered"
    else:
        state = (line.mirror_status or "waiting").lower() if line.is_open else "done"
    return (
        line.incident_action,
        str(line.alert_id),
        state,
        _incident_cell(line.statuspage_incident_id, alerts),
        _status_cell(line),
        _transition_cell(newest.event, newest.outcome) if newest else "-",
        f"filtered: {newest.reason}"
        if filtered and newest and not line.last_error
        else _problem(line),
    )


def health_lines(replicas: Sequence[ReplicaLine], failing: int, now: datetime) -> list[str]:
    """Whether the daemon is healthy: a leader passing on time, its followers, failing items.

    Healthy means a leader reported a pass within three poll intervals; a
    replica not seen for three intervals is listed as gone.
    """
    leaders = [r for r in replicas if r.role == "leader"]
    leader = max(leaders, key=lambda r: r.last_seen_at, default=None)
    lines = [_leader_line(leader, now)]
    live = [r for r in replicas if (now - r.last_seen_at).total_seconds() <= 3 * r.poll_interval]
    for replica in replicas:
        if replica.role == "follower":
            seen = (now - replica.last_seen_at).total_seconds()
            alive = "waiting" if replica in live else "gone"
            lines.append(f"follower: {replica.host}:{replica.pid}, {alive}, seen {seen:.0f}s ago")
    lines.append(f"failing items: {failing}")
    return lines


def _leader_line(leader: ReplicaLine | None, now: datetime) -> str:
    if leader is None or leader.last_pass_at is None:
        return "daemon: UNHEALTHY: no leader has reported a pass (is `run` running?)"
    age = (now - leader.last_pass_at).total_seconds()
    healthy = age <= 3 * leader.poll_interval
    state = "healthy" if healthy else "UNHEALTHY: last pass too old"
    result = "ok" if leader.last_pass_ok else "with problems"
    return (
        f"daemon: {state}: leader {leader.host}:{leader.pid}, last pass {age:.0f}s ago "
        f"({result}), poll interval {leader.poll_interval:g}s"
    )


def _transition_cell(event: str, outcome: str) -> str:
    """``created`` when the outcome repeats the event, else ``accepted -> status_changed``."""
    return event if event == outcome else f"{event} -> {outcome}"


def _incident_cell(incident: str | None, alerts: int) -> str:
    """The incident id; a shared one (group = "action") with how many alerts it mirrors."""
    if incident is None:
        return "-"
    return f"{incident} ({alerts} alerts)" if alerts > 1 else incident


def _status_cell(line: LinkLine) -> str:
    status = line.statuspage_status or "-"
    return f"{status} (set by a person)" if line.human_override else status


def _problem(line: LinkLine) -> str:
    if not line.last_error:
        return "-"
    if not line.failures:  # a reason without back-off (e.g. iLert answers 404 for it)
        return line.last_error[:120]
    retry = line.next_attempt_at.strftime("%H:%M:%SZ") if line.next_attempt_at else "next pass"
    return f"{line.failures}x, retry {retry}: {line.last_error[:120]}"
