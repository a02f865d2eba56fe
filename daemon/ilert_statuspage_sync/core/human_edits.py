"""Human edits win: a person who changed a mirrored incident's status on the page is right.

``edits`` compares, per incident, what the daemon last wrote with what the page
shows in its list of unresolved incidents (one read per page per pass, shared
with the duplicate check). An incident whose status differs in the list, or
that is gone from it, is read on its own (``confirmed``: a list can be cut at
its 1,000, or serve a stale status); one that then still shows another status,
or is resolved or deleted, is overridden from then on;
a later change by a person (say, a resolve after setting monitoring) only
updates the status the daemon knows the incident has.

``respect`` keeps the daemon from fighting that person: on an overridden
incident no write carries a status any more; text (comments, a storm's "Also
affected") still posts while the incident is unresolved, and a resolved one
gets nothing more. Each event whose status change is dropped is audited as
``no_change`` with ``HUMAN_REASON``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ilert_statuspage_sync.core.model import CLOSED_STATUSES
from ilert_statuspage_sync.core.plan import Decision, Outcome, Plan, Step

__all__ = [
    "DELETED_STATUS",
    "HUMAN_REASON",
    "Edit",
    "Written",
    "changed_by_person",
    "confirmed",
    "edits",
    "respect",
]

HUMAN_REASON = "changed on Statuspage by a person"
# A deleted incident counts as a person's resolve: closed for good, never written to.
DELETED_STATUS = "resolved"
_FINAL = CLOSED_STATUSES


@dataclass(frozen=True)
class Written:
    """A mirrored incident as the daemon last wrote it."""

    incident_id: str
    status: str
    # The page was read after this incident was written (no write of it in flight).
    settled: bool = True
    overridden: bool = False


@dataclass(frozen=True)
class Edit:
    """A person changed ``incident_id`` from ``from_status`` to ``to_status``."""

    incident_id: str
    from_status: str
    to_status: str
    # False when a person had changed it before: only the status seen is updated.
    first: bool = True
    # False when the incident is only missing from the list. Either way the shell reads
    # the incident itself (``confirmed``) before it believes a person: a list can be
    # cut, or stale.
    listed: bool = True


def edits(written: Iterable[Written], unresolved: Mapping[str, str]) -> list[Edit]:
    """The incidents a person changed: ``unresolved`` maps the page's open incidents to status.

    An incident with a write of ours that may have landed unrecorded (an intent
    still pending) is left for a later pass: its page status proves nothing.
    """
    by_incident: dict[str, list[Written]] = {}
    for incident in written:
        by_incident.setdefault(incident.incident_id, []).append(incident)
    found = []
    for incident_id, rows in by_incident.items():
        if not all(row.settled for row in rows):
            continue
        status = rows[-1].status
        if status in _FINAL:
            continue
        shown = unresolved.get(incident_id, "resolved")
        if shown != status:
            first = not any(row.overridden for row in rows)
            found.append(Edit(incident_id, status, shown, first, incident_id in unresolved))
    return found


def confirmed(edit: Edit, shown: str | None) -> Edit | None:
    """An edit inferred from the list, once the incident itself was read.

    ``shown`` is its status, or None when it is gone (a person deleted it). The
    status the daemon wrote shown again means the list lied: no edit.
    """
    status = DELETED_STATUS if shown is None else shown
    if status == edit.from_status:
        return None
    return replace(edit, to_status=status, listed=True)


def changed_by_person(written: str | None, intended: str | None, shown: str) -> bool:
    """After an interrupted write that did not land: the page shows neither our last status
    nor the one we were sending, so a person set it meanwhile."""
    return written is not None and shown not in (written, intended)


def respect(plan: Plan, page_status: str | None) -> Plan:
    """``plan`` without any status change; nothing at all once the incident is resolved."""
    closed = page_status in _FINAL
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(_kept(step, page_status, closed=closed))
            continue
        decisions = [_kept(d, page_status, closed=closed) for d in step.decisions]
        # A join (``incident_id``) always writes: its text is rendered after this step.
        if closed or (not step.has_body and step.incident_id is None):
            steps.extend(decisions)
        else:
            steps.append(replace(step, status=None, decisions=decisions))
    return Plan(tuple(steps), page_status)


def _kept(decision: Decision, status: str | None, *, closed: bool) -> Decision:
    if closed and decision.outcome is not Outcome.NO_CHANGE:
        return replace(
            decision,
            outcome=Outcome.NO_CHANGE,
            from_status=status,
            to_status=status,
            reason=HUMAN_REASON,
        )
    if decision.outcome is Outcome.STATUS_CHANGED:
        return replace(
            decision,
            outcome=Outcome.NO_CHANGE,
            from_status=status,
            to_status=status,
            reason=HUMAN_REASON,
        )
    if decision.from_status != decision.to_status:
        reason = f"{decision.reason}; {HUMAN_REASON}" if decision.reason else HUMAN_REASON
        return replace(decision, from_status=status, to_status=status, reason=reason)
    return replace(decision, from_status=status, to_status=status)
