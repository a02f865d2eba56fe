"""``history``: the audit trail of transitions, as a table or as the log's JSON lines."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from ilert_statuspage_sync.commands.engines import readable
from ilert_statuspage_sync.commands.output import EXIT_OK, print_table
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.audit import trail_line
from ilert_statuspage_sync.store.database import make_sessions
from ilert_statuspage_sync.store.tables import Transition

__all__ = ["history"]

_HEADER = ("AT", "ALERT", "ACTION", "EVENT", "OUTCOME", "FROM", "TO", "INCIDENT", "REASON")


def history(config: Config, args: argparse.Namespace) -> int:
    """Print the newest transitions (of one alert with ``--alert``, then what it published)."""
    sessions = make_sessions(readable(config))
    with sessions() as session:
        rows = repo.history(session, alert_id=args.alert, limit=args.limit)
    if args.json:  # the log's own `transition` lines: one jq filter reads both
        for row in rows:
            print(json.dumps(trail_line(row)))
        return EXIT_OK
    print_table([_HEADER, *(_row(row) for row in rows)])
    if args.alert is not None:
        _print_published(rows)
    return EXIT_OK


def _row(row: Transition) -> tuple[str, ...]:
    return (
        row.at.strftime("%Y-%m-%d %H:%M:%SZ"),
        str(row.alert_id),
        row.incident_action,
        row.event,
        row.outcome,
        row.from_status or "-",
        row.to_status or "-",
        row.statuspage_incident_id or "-",
        (row.reason or "")[:80],
    )


def _print_published(rows: Sequence[Transition]) -> None:
    """The name and body each write showed the public, in full."""
    published = [row for row in rows if row.published_name or row.published_body]
    if not published:
        return
    print()
    print("PUBLISHED")
    for row in published:
        print(f"{row.at.strftime('%Y-%m-%d %H:%M:%SZ')}  {row.event}:{row.outcome}")
        if row.published_name is not None:
            print(f"  name: {row.published_name}")
        body = row.published_body.splitlines() if row.published_body else ["(no text)"]
        print(f"  body: {body[0]}")
        for line in body[1:]:
            print(f"        {line}")
