"""Which Statuspage refusals can never succeed, what was refused, and what is left.

A 4xx answer judges either the request itself or the moment it was sent:

- 400, 413 and 422 judge the request: it is malformed, too large, or carries a
  field or status the page does not accept. Which part was refused decides
  what happens (``attribute``): a call carrying a status and a body is sent
  again with the status alone to find out. A refused body is recorded as
  failed once and what follows goes on; a refused maintenance status is a fact
  about the page; a status the page still lacks (a resolve, say) is never
  dropped: the alert keeps it, retried with a growing delay, and shows as a
  failing item until the page has it.
- 401 and 403 (the key or its rights), 404 (page or incident not found), 409 (a
  conflicting state) and 420/429 (throttled) can heal when a human fixes the key,
  the page or the incident, or when time passes: those are retried with a growing
  delay. Any other 4xx is treated the same way: only a refusal known to be about
  the payload stops the retries.

A refused maintenance status (``in_progress`` on a realtime incident, refused
when sent alone) is a fact about the page: the call's other events are planned
again without it, and later plans on that page leave it out
(``plan_calls(refused=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from ilert_statuspage_sync.core.model import Event, Mirror
from ilert_statuspage_sync.core.plan import Call, CallKind, Decision, Outcome, Step

__all__ = [
    "MAINTENANCE_STATUSES",
    "NEVER_SUCCEEDS",
    "Refusal",
    "Refused",
    "after_refusal",
    "attribute",
    "never_succeeds",
]

NEVER_SUCCEEDS = frozenset({400, 413, 422})
MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying", "completed"})


def never_succeeds(http_status: int | None) -> bool:
    """True when a refusal judges the request itself, so resending it cannot help."""
    return http_status in NEVER_SUCCEEDS


class Refused(StrEnum):
    """What a refused call's refusal is attributed to, and so what happens next."""

    BODY = "body"  # its text: recorded failed once, what follows goes on
    STATUS = "status"  # a maintenance status the page refuses: learned, planned without
    PROBE = "probe"  # status and body together: send the status alone to find out
    PENDING = "pending"  # the page still lacks it: kept, retried with a growing delay


def attribute(
    creates: bool, call_status: str | None, has_body: bool, http_status: int | None
) -> Refused:
    """What a refusal of a call is about (see the module docstring).

    A create is never passed over: without the incident nothing of the alert
    reaches the page, so it is kept (pending) unless the page refused its
    maintenance status; with a body it is first sent again without it.
    """
    if not never_succeeds(http_status):
        return Refused.PENDING
    if call_status is None and not creates:
        return Refused.BODY
    if has_body:
        return Refused.PROBE
    if call_status in MAINTENANCE_STATUSES:
        return Refused.STATUS
    return Refused.PENDING


@dataclass(frozen=True)
class Refusal:
    """What a refused call leaves: decisions failed once, events still to plan."""

    failed: tuple[Decision, ...]
    remaining: tuple[Event, ...]
    # The mirror the failed decisions reach, when nothing before them is left to do.
    mirror_after: Mirror | None


def after_refusal(steps: Sequence[Step], index: int, status: str | None) -> Refusal:
    """Split a plan at the refused call ``steps[index]`` (the steps before it are done).

    With ``status`` (a refused page status) only the call's decisions moving to
    that status fail and its other events are planned again; without, the whole
    call failed. Every later step's events are planned again.
    """
    call = steps[index]
    assert isinstance(call, Call)
    if status is None:
        failed, kept = list(call.decisions), []
    else:
        failed = [d for d in call.decisions if _moves_to(d, status)]
        # The event that creates the incident still creates it, in a status the page takes.
        creator = call.decisions[0] if call.kind is CallKind.CREATE else None
        kept = [d for d in call.decisions if d is creator or not _moves_to(d, status)]
    later = [
        decision.event
        for step in steps[index + 1 :]
        for decision in (step.decisions if isinstance(step, Call) else [step])
    ]
    done_first = (
        bool(failed)
        and call.decisions[: len(failed)] == failed
        and not (kept and kept[0] is call.decisions[0])
    )
    mirror = failed[-1].event.mirror_after if done_first else None
    return Refusal(tuple(failed), tuple([d.event for d in kept] + later), mirror)


def _moves_to(decision: Decision, status: str) -> bool:
    return decision.to_status == status and decision.outcome in _MOVES


_MOVES = frozenset({Outcome.CREATED, Outcome.STATUS_CHANGED})
