"""Alert storms (``group = "action"``): one open incident shared by an action's alerts.

Between ``plan_calls`` and publishing, for an action that groups:

- ``target_for`` decides where an alert goes: the first alert opens the
  incident (``OPEN``); while that incident is open, a further alert joins it
  (``JOIN``); a linked alert is a ``MEMBER``; while another alert's create may
  still be landing (an intent not yet settled), the alert ``WAIT``s, so a crash
  or a replica never opens a second incident for the same storm.
- ``share_plan`` rewrites the alert's own plan (planned as if the alert had the
  incident to itself, from its own status, its *share*) into writes to the
  shared incident. A join's create becomes one update ("Also affected: ...").
  The incident shows the least advanced status of its open alerts under the
  lifecycle (investigating < identified < in_progress/monitoring), so one
  accepted alert does not announce progress while others are untouched; it
  resolves when its last open alert resolves. A status change that does not
  move the shared status is no change (audited with the alert's share); text
  (comments) still posts. Once the incident is resolved the next alert opens a
  new one.

Every decision carries ``share_status``, the alert's own status after it, which
the shell stores per link: the open alerts' shares are the input of the next
decision. ``Ledger`` holds them with each incident's running totals, so a storm
decision costs the same at its 1,000th alert as at its 2nd (``target_for``
looks at every share, and is what the ledger falls back to where only the
shares' order can tell).
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from ilert_statuspage_sync.core.model import CLOSED_STATUSES
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Plan, Step

__all__ = [
    "FINAL",
    "IdRuns",
    "Ledger",
    "Share",
    "Target",
    "TargetKind",
    "id_runs",
    "least_advanced",
    "share_plan",
    "target_for",
]

# Consecutive alert ids as (first, last): a storm's members, however many, in a few runs.
Runs = tuple[tuple[int, int], ...]
# Open shares as (status, how many), each status where it first appears (oldest link first).
Counted = tuple[tuple[str, int], ...]

FINAL = CLOSED_STATUSES
# How far along the lifecycle a status is; equal ranks are equally advanced.
_RANK = {
    "scheduled": 0,
    "investigating": 0,
    "identified": 1,
    "in_progress": 2,
    "verifying": 2,
    "monitoring": 2,
    "resolved": 3,
    "completed": 3,
    "postmortem": 3,
}


def _rank(status: str) -> int:
    return _RANK.get(status, 1)


def least_advanced(statuses: Iterable[str]) -> str | None:
    """The status least far along the lifecycle (the first of equals); None for none.

    A storm's incident has as many open shares as alerts, mostly of a few
    statuses: the ranks are compared per distinct status, the first of equals
    found by ``index`` (not one key call per share).
    """
    listed = list(statuses)
    distinct = set(listed)
    if not distinct:
        return None
    lowest = min(_rank(status) for status in distinct)
    return min((s for s in distinct if _rank(s) == lowest), key=listed.index)


@dataclass(frozen=True)
class Share:
    """One alert of a grouping action, as the store holds it."""

    alert_id: int
    incident_id: str | None
    # The status the lifecycle gives this alert alone; None before its first write.
    alert_status: str | None
    # What the daemon last wrote to (or, after a person's edit, saw on) the incident.
    incident_status: str | None
    is_open: bool
    # A create's intent is recorded and not yet settled: the incident may exist already.
    creating: bool = False
    human_override: bool = False


class TargetKind(enum.StrEnum):
    """Where an alert of a grouping action goes."""

    OPEN = "open"
    JOIN = "join"
    MEMBER = "member"
    WAIT = "wait"


@dataclass(frozen=True)
class Target:
    """The decision of ``target_for``."""

    kind: TargetKind
    incident_id: str | None = None
    status: str | None = None
    # The shares of the incident's other open alerts, counted per status.
    others: Counted = ()
    human_override: bool = False
    # Every alert on the incident, this one included, as runs of consecutive ids.
    members: Runs = ()

    @property
    def alerts(self) -> int:
        """Open alerts on the incident, this one included."""
        return sum(count for _status, count in self.others) + 1


def target_for(alert_id: int, shares: Sequence[Share]) -> Target:
    """Where ``alert_id`` goes, given every share of its action (oldest link first).

    One look at each share (a storm's every alert sees all the others).
    """
    mine: Share | None = None
    waits = False
    joined: str | None = None  # the oldest share's incident that is open
    for share in shares:
        if share.alert_id == alert_id:
            mine = mine or share
        elif share.creating:
            waits = True
        status = share.incident_status
        if joined is None and share.incident_id is not None and status is not None:
            joined = share.incident_id if status not in FINAL else None
    if mine is not None and mine.incident_id is not None:
        return _on(TargetKind.MEMBER, mine.incident_id, alert_id, shares)
    if waits:
        return Target(TargetKind.WAIT)
    if joined is not None:
        return _on(TargetKind.JOIN, joined, alert_id, shares)
    return Target(TargetKind.OPEN)


def _on(kind: TargetKind, incident_id: str, alert_id: int, shares: Sequence[Share]) -> Target:
    others: list[str] = []
    status: str | None = None
    human = False
    ids = {alert_id}
    for share in shares:
        if share.incident_id != incident_id:
            continue
        ids.add(share.alert_id)
        status = share.incident_status if status is None else status
        human = human or share.human_override
        own = share.alert_status
        if share.alert_id != alert_id and share.is_open and own is not None and own not in FINAL:
            others.append(own)
    counted = tuple(Counter(others).items())  # a Counter keeps first appearances in order
    return Target(kind, incident_id, status, counted, human, id_runs(sorted(ids)))


def id_runs(ids: Sequence[int]) -> Runs:
    """Sorted unique ids as runs of consecutive ids."""
    runs = IdRuns()
    for alert_id in ids:
        runs.add(alert_id)
    return runs.runs()


def shown_status(others: Counted, own: str | None) -> str | None:
    """The shared incident's status: the least advanced open share, else this alert's."""
    open_shares = [status for status, _count in others]
    if own is not None and own not in FINAL:
        open_shares.append(own)
    return least_advanced(open_shares) or own


def share_plan(plan: Plan, target: Target, own: str | None) -> Plan:
    """``plan`` (planned from the alert's own status ``own``) as writes to ``target``."""
    if target.kind is TargetKind.OPEN:
        return _annotated(plan)
    assert target.kind in (TargetKind.JOIN, TargetKind.MEMBER), target.kind
    shown = target.status
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(replace(step, from_status=shown, to_status=shown, share_status=own))
            continue
        new_own = step.status if step.status is not None else own
        new_shown = shown_status(target.others, new_own)
        moves = new_shown != shown and shown not in FINAL
        status = new_shown if moves else None
        joins = step.kind is CallKind.CREATE
        decisions = [
            _shared(d, shown, new_shown if moves else shown, target, joins=joins)
            for d in step.decisions
        ]
        if joins:
            steps.append(
                Call(
                    CallKind.UPDATE,
                    status=status,
                    decisions=decisions,
                    incident_id=target.incident_id,
                    members=target.members,
                )
            )
        elif status is None and not step.has_body:
            steps.extend(decisions)  # the shared status holds: nothing to send
        else:
            steps.append(replace(step, status=status, decisions=decisions))
        if moves:
            shown = new_shown
        own = new_own
    return Plan(tuple(steps), shown)


def _shared(
    decision: Decision, before: str | None, after: str | None, target: Target, *, joins: bool
) -> Decision:
    """One decision of the alert, restated for the shared incident."""
    own = decision.to_status
    count = target.alerts
    if decision.outcome is Outcome.CREATED and joins:
        reason = f"joined shared incident {target.incident_id} ({count} open alerts)"
        return Decision(decision.event, Outcome.JOINED, before, after, reason, own)
    if decision.outcome is Outcome.STATUS_CHANGED and before == after:
        reason = _holds(before, own, count)
        return Decision(decision.event, Outcome.NO_CHANGE, before, after, reason, own)
    if decision.outcome is Outcome.NO_CHANGE:
        return replace(decision, from_status=before, to_status=before, share_status=own)
    return replace(decision, from_status=before, to_status=after, share_status=own)


def _holds(status: str | None, own: str | None, alerts: int) -> str:
    if own in FINAL:
        return (
            f"shared incident stays {status} until its last alert resolves "
            f"({alerts - 1} still open); this alert's share: {own}"
        )
    return (
        f"shared incident stays {status}: the least advanced of its {alerts} open alerts; "
        f"this alert's share: {own}"
    )


def _annotated(plan: Plan) -> Plan:
    """The opener's plan as it is, each decision noting the alert's own status."""
    steps: list[Step] = []
    for step in plan.steps:
        if isinstance(step, Decision):
            steps.append(replace(step, share_status=step.to_status))
        else:
            shares = [replace(d, share_status=d.to_status) for d in step.decisions]
            steps.append(replace(step, decisions=shares))
    return Plan(tuple(steps), plan.final_status)


class IdRuns:
    """A set of alert ids kept as sorted runs of consecutive ids.

    A storm's ids come close together, mostly consecutive: adding or removing
    one costs a step per run, not per id, and so does a copy.
    """

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []

    def runs(self) -> Runs:
        """The runs, lowest first."""
        return tuple(zip(self._firsts, self._lasts, strict=True))

    def with_id(self, alert_id: int) -> Runs:
        """The runs with ``alert_id`` added, this set unchanged."""
        if self._find(alert_id) >= 0:
            return self.runs()
        copy = IdRuns()
        copy._firsts, copy._lasts = list(self._firsts), list(self._lasts)
        copy.add(alert_id)
        return copy.runs()

    def _find(self, alert_id: int) -> int:
        """The index of the run holding ``alert_id``, else -1."""
        index = bisect_right(self._firsts, alert_id) - 1
        return index if index >= 0 and alert_id <= self._lasts[index] else -1

    def add(self, alert_id: int) -> None:
        """Add ``alert_id`` (no change if present)."""
        firsts, lasts = self._firsts, self._lasts
        index = bisect_right(firsts, alert_id) - 1
        if index >= 0 and alert_id <= lasts[index]:
            return
        left = index >= 0 and lasts[index] == alert_id - 1
        right = index + 1 < len(firsts) and firsts[index + 1] == alert_id + 1
        if left and right:
            lasts[index] = lasts.pop(index + 1)
            del firsts[index + 1]
        elif left:
            lasts[index] = alert_id
        elif right:
            firsts[index + 1] = alert_id
        else:
            firsts.insert(index + 1, alert_id)
            lasts.insert(index + 1, alert_id)

    def remove(self, alert_id: int) -> None:
        """Remove ``alert_id``, which is present."""
        index = self._find(alert_id)
        first, last = self._firsts[index], self._lasts[index]
        if first == last:
            del self._firsts[index], self._lasts[index]
        elif alert_id == first:
            self._firsts[index] = alert_id + 1
        elif alert_id == last:
            self._lasts[index] = alert_id - 1
        else:
            self._lasts[index] = alert_id - 1
            self._firsts.insert(index + 1, alert_id + 1)
            self._lasts.insert(index + 1, last)

    def __bool__(self) -> bool:
        return bool(self._firsts)


def listed(share: Share) -> bool:
    """Whether a share may take part in an open shared incident (``repo.may_share``)."""
    if share.incident_id is not None:
        return share.incident_status is None or share.incident_status not in FINAL
    return share.is_open


@dataclass
class _Facts:
    """One incident's running totals over the ledger's listed shares of it."""

    members: IdRuns = field(default_factory=IdRuns)
    statuses: Counter[str] = field(default_factory=Counter)  # incident statuses held
    human: int = 0  # shares flagged as a person's
    others: Counter[str] = field(default_factory=Counter)  # open alerts' own statuses
    shares: int = 0

    def count(self, share: Share, sign: int) -> None:
        if sign > 0:
            self.members.add(share.alert_id)
        else:
            self.members.remove(share.alert_id)
        self.shares += sign
        if share.incident_status is not None:
            self.statuses[share.incident_status] += sign
            if not self.statuses[share.incident_status]:
                del self.statuses[share.incident_status]
        self.human += sign if share.human_override else 0
        own = share.alert_status
        if share.is_open and own is not None and own not in FINAL:
            self.others[own] += sign
            if not self.others[own]:
                del self.others[own]


class Ledger:
    """An action's shares (alert id -> (link id, share), oldest link first) and running facts.

    A storm's every decision needs its incident's facts (status, open shares,
    members): each decision reads them from totals kept as shares are put,
    not from a look at every share, so a storm of n alerts costs n steps, not
    n². Where the totals cannot tell the order-dependent answer (two open
    incidents, two statuses of equal rank), it looks at every share
    (``target_for``): the same answer either way.
    """

    def __init__(self, rows: Iterable[tuple[int, Share]] = ()) -> None:
        self._rows: dict[int, tuple[int, Share]] = {}
        self._facts: dict[str, _Facts] = {}
        self._creating = 0  # listed shares whose create may still be landing
        for link_id, share in rows:
            self.put(link_id, share)
        # Shares looked at one by one (``target_for``): a storm's should not grow with it.
        self.examined = 0

    def __iter__(self) -> Iterator[tuple[int, Share]]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, alert_id: int) -> tuple[int, Share] | None:
        """The alert's link id and share, if held."""
        return self._rows.get(alert_id)

    def put(self, link_id: int, share: Share) -> None:
        """Hold ``share`` (replacing the alert's), its link kept in link order."""
        old = self._rows.get(share.alert_id)
        if old is not None:
            self._count(old[1], -1)
        newest = old is None and (not self._rows or link_id > self._newest())
        self._rows[share.alert_id] = (link_id, share)
        if old is None and not newest:
            self._rows = dict(sorted(self._rows.items(), key=lambda kv: kv[1][0]))
        self._count(share, +1)

    def _newest(self) -> int:
        return self._rows[next(reversed(self._rows))][0]

    def _count(self, share: Share, sign: int) -> None:
        if not listed(share):
            return
        self._creating += sign if share.creating else 0
        if share.incident_id is None:
            return
        facts = self._facts.setdefault(share.incident_id, _Facts())
        facts.count(share, sign)
        if not facts.shares:
            del self._facts[share.incident_id]

    def listed(self, alert_id: int, own: Share | None) -> list[Share]:
        """What a decision of ``alert_id`` sees: the listed shares but its own, then ``own``."""
        shares = [s for a, (_id, s) in self._rows.items() if a != alert_id and listed(s)]
        self.examined += len(self._rows)
        return [*shares, *([own] if own is not None else [])]

    def target(self, alert_id: int, own: Share | None) -> Target:
        """``target_for(alert_id, self.listed(alert_id, own))``, from the running totals."""
        held = self._rows.get(alert_id)
        if held is not None:
            self._count(held[1], -1)  # the alert's own share is ``own``, not the held one
        try:
            target = self._target(alert_id, own)
        finally:
            if held is not None:
                self._count(held[1], +1)
        return target if target is not None else target_for(alert_id, self.listed(alert_id, own))

    def _target(self, alert_id: int, own: Share | None) -> Target | None:
        if own is not None and own.alert_id != alert_id:
            return None  # not the alert's own share: one more to look at in order
        if own is not None and own.incident_id is not None:
            return self._on(TargetKind.MEMBER, own.incident_id, alert_id, own)
        if self._creating:
            return Target(TargetKind.WAIT)
        held = [incident for incident, facts in self._facts.items() if facts.statuses]
        if len(held) > 1:
            return None  # which was linked first: the order decides
        return (
            self._on(TargetKind.JOIN, held[0], alert_id, own) if held else Target(TargetKind.OPEN)
        )

    def _on(
        self, kind: TargetKind, incident: str, alert_id: int, own: Share | None
    ) -> Target | None:
        facts = self._facts.get(incident) or _Facts()
        mine = own if own is not None and own.incident_id == incident else None
        if len(facts.statuses) > 1 or len({_rank(s) for s in facts.others}) < len(facts.others):
            return None  # the first of several: the order decides
        status = next(iter(facts.statuses), mine.incident_status if mine else None)
        human = bool(facts.human) or (mine is not None and mine.human_override)
        others = tuple(sorted(facts.others.items(), key=lambda item: _rank(item[0])))
        return Target(kind, incident, status, others, human, facts.members.with_id(alert_id))
