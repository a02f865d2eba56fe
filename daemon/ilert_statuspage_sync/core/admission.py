"""Whether one work item syncs now, and if not, why it waits.

Asked in order, cheapest first: a backed-off item, a service down or a stop
requested defer it; an alert whose timeline this pass does not read waits for
its check; past this pass's Statuspage allowance it is paced to the next pass;
another process's write that may still land defers it. The last two are asked
only when needed (each may count or query), so they are passed as callables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Admission", "Gate", "admit"]


class Admission(StrEnum):
    """The outcome for one work item in this pass."""

    DEFERRED = "deferred"
    WAITING_CHECK = "waiting_check"
    PACED = "paced"
    IN_FLIGHT = "in_flight"
    SYNC = "sync"


@dataclass(frozen=True)
class Gate:
    """The facts one item's admission is decided on."""

    waiting: bool  # its retry delay has not passed
    service_down: bool  # iLert or its connector is down this pass
    stopping: bool  # a stop was requested: the rest waits for the next start
    selected: bool  # its timeline is read this pass (or it needs no read)
    may_start: Callable[[], bool]  # the pacer's answer (asked only when reached)
    in_flight: Callable[[], bool]  # another process's write may still land (idem)


def admit(gate: Gate) -> Admission:
    """The admission of one item (see the module docstring for the order)."""
    if gate.waiting or gate.service_down or gate.stopping:
        return Admission.DEFERRED
    if not gate.selected:
        return Admission.WAITING_CHECK
    if not gate.may_start():
        return Admission.PACED
    if gate.in_flight():
        return Admission.IN_FLIGHT
    return Admission.SYNC
