"""Which alerts each incident action mirrors this pass.

An automatic action takes the alerts of its sources reported after its
activation, and every alert it already tracks; a manual one only the alerts
triggered for it. A tracked open alert this pass did not list is either still
open (the listing cycle has not finished, or listed it earlier in the cycle:
its latest snapshot stands in) or it left the open set: then it is read by id
to learn how it ended. A mirrored alert the pass chose to refresh
(``core.refresh``) is read by id even while the cycle may hold it open; its
snapshot stands in when the read gets no answer. A manual action's triggers
are always read by id.

A snapshot already diffed against an unchanged link with nothing to do (the
caller's ``settled``: no events, no write to settle, no failure) is no work
item again until it is listed anew or its link changes: it only competes for a
timeline read, so a quiet pass does not decide again, per open alert, what it
decided before.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime

from ilert_statuspage_sync.core.listing import OpenSetCycle
from ilert_statuspage_sync.core.model import Alert

__all__ = ["Scope", "Selection", "Tracked", "mirrors_read", "select_alerts"]


@dataclass(frozen=True)
class Scope:
    """What of an incident action decides which alerts it mirrors."""

    sources: Collection[int]
    manual: bool
    activated_at: datetime


@dataclass(frozen=True)
class Tracked:
    """A link the action holds for an alert."""

    is_open: bool
    triggered: bool  # a person triggered it (manual actions)


@dataclass
class Selection:
    """The alerts in hand, by id, and the tracked ids still to read one by one."""

    chosen: dict[int, Alert] = field(default_factory=dict)
    read_by_id: list[int] = field(default_factory=list)
    # Snapshots of the refreshed alerts (read by id while maybe open): used when unanswered.
    fallback: dict[int, Alert] = field(default_factory=dict)
    # Settled snapshots: not chosen; each only competes for a timeline read.
    settled: list[int] = field(default_factory=list)


def select_alerts(
    scope: Scope,
    alerts: Mapping[int, Alert],
    tracked: Mapping[int, Tracked],
    cycle: OpenSetCycle,
    snapshots: Mapping[int, Alert],
    refresh: Set[int] = frozenset(),
    settled: Set[int] = frozenset(),
) -> Selection:
    """The action's alerts this pass (see the module docstring)."""
    found = Selection({a.id: a for a in alerts.values() if _takes(scope, a, tracked.get(a.id))})
    for alert_id, link in tracked.items():
        wanted = link.is_open and (not scope.manual or link.triggered)
        if not wanted or alert_id in found.chosen:
            continue
        if scope.manual or not cycle.may_be_open(alert_id):
            found.read_by_id.append(alert_id)
            continue
        # Unread this cycle, or listed open earlier in it: not closed. Listed
        # earlier, its latest snapshot stays a candidate for a timeline read,
        # so reads are spread over all open alerts, not this pass's pages only.
        if alert_id in refresh:  # a mirrored alert read by id all the same (core.refresh)
            found.read_by_id.append(alert_id)
            snapshot = snapshots.get(alert_id)
            if snapshot is not None:
                found.fallback[alert_id] = snapshot
        elif alert_id in settled and alert_id in snapshots:
            found.settled.append(alert_id)
        elif (snapshot := snapshots.get(alert_id)) is not None:
            found.chosen[alert_id] = snapshot
    return found


def _takes(scope: Scope, alert: Alert, link: Tracked | None) -> bool:
    """Whether the action mirrors an alert in hand."""
    if alert.source_id not in scope.sources:
        return False
    if scope.manual:
        return link is not None and link.triggered
    return link is not None or alert.report_time >= scope.activated_at


def mirrors_read(scope: Scope, alert: Alert | None) -> bool:
    """Whether an alert read by id belongs to the action (a trigger may name another source)."""
    return alert is not None and alert.source_id in scope.sources
