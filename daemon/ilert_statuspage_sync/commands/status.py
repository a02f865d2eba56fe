"""``status``: is the daemon healthy, and every tracked alert with its incident and problem.

Probes and scripts read the verdict from the exit code: 1 when UNHEALTHY.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from ilert_statuspage_sync.commands.engines import readable
from ilert_statuspage_sync.commands.output import (
    EXIT_FAILED,
    EXIT_OK,
    print_table,
    reader_may_leave,
)
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.store import overview, repo
from ilert_statuspage_sync.store.database import make_sessions
from ilert_statuspage_sync.store.tables import Link, Replica, Transition

__all__ = ["health_lines", "status"]

_HEADER = ("ACTION", "ALERT", "STATE", "INCIDENT", "STATUS", "LAST TRANSITION", "PROBLEM")


def status(config: Config, _args: argparse.Namespace) -> int:
    """Print the health verdict and the table of tracked alerts."""
    sessions = make_sessions(readable(config))
    with sessions() as session:
        links = overview.all_links(session)
        last = repo.last_transitions(session)
        alerts = repo.incident_alerts(session)
        replicas = overview.replicas(session)
    failing = sum(1 for link in links if link.last_error)
    verdict = health_lines(replicas, failing, datetime.now(UTC))
    code = EXIT_OK if verdict[0].startswith("daemon: healthy") else EXIT_FAILED
    rows: list[tuple[str, ...]] = [_HEADER]
    rows += [_row(link, last.get((link.incident_action, link.alert_id)), alerts) for link in links]
    with reader_may_leave():
        print("\n".join(verdict), end="\n\n")
        print_table(rows)
        if len(rows) == 1:
            print("no alerts tracked yet")
    return code


def _row(link: Link, transition: Transition | None, alerts: Mapping[str, int]) -> tuple[str, ...]:
    filtered = transition is not None and transition.outcome == "filtered"
    if filtered:
        state = "filtered"
    else:
        state = (link.mirror_status or "waiting").lower() if link.is_open else "done"
    return (
        link.incident_action,
        str(link.alert_id),
        state,
        _incident_cell(link, alerts),
        _status_cell(link),
        f"{transition.event}:{transition.outcome}" if transition else "-",
        f"filtered: {transition.reason}"
        if filtered and transition and not link.last_error
        else _problem(link),
    )


def health_lines(replicas: Sequence[Replica], failing: int, now: datetime) -> list[str]:
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


def _leader_line(leader: Replica | None, now: datetime) -> str:
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


def _incident_cell(link: Link, alerts: Mapping[str, int]) -> str:
    """The incident id; a shared one (group = "action") with how many alerts it mirrors."""
    incident = link.statuspage_incident_id
    if incident is None:
        return "-"
    count = alerts.get(incident, 1)
    return f"{incident} ({count} alerts)" if count > 1 else incident


def _status_cell(link: Link) -> str:
    status = link.statuspage_status or "-"
    return f"{status} (set by a person)" if link.human_override else status


def _problem(link: Link) -> str:
    if not link.last_error:
        return "-"
    if not link.failures:  # a reason without back-off (e.g. iLert answers 404 for it)
        return link.last_error[:120]
    retry = link.next_attempt_at.strftime("%H:%M:%SZ") if link.next_attempt_at else "next pass"
    return f"{link.failures}x, retry {retry}: {link.last_error[:120]}"
