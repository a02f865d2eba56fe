"""Whether one ``run`` process is healthy, for the ``/healthz`` probe.

A leader is healthy while its last successful pass finished within three poll
intervals (one failing item makes a pass "not ok", but its retry backoff keeps
most passes ok, so a single bad alert does not flap the probe). A follower does
not sync by design: it is healthy while it keeps checking the leader lock; a
missing leader is a cluster-wide alert, not a reason to restart a follower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["STALE_INTERVALS", "Liveness", "liveness"]

# The same threshold as `status`: three poll intervals without a pass is stale.
STALE_INTERVALS = 3


@dataclass(frozen=True)
class Liveness:
    """The verdict and the one-line reason the probe answers with."""

    healthy: bool
    reason: str


def liveness(
    *,
    now: datetime,
    interval: float,
    role: str | None,
    seen_at: datetime | None,
    last_ok_at: datetime | None,
    last_pass_at: datetime | None,
) -> Liveness:
    """The verdict for a process whose role is ``leader``, ``follower`` or None (no tick yet)."""
    limit = STALE_INTERVALS * interval
    if role == "follower":
        seen = _age(now, seen_at)
        if seen is not None and seen <= limit:
            return Liveness(True, f"follower: waiting for the leader lock, checked {seen:.0f}s ago")
        return Liveness(False, f"follower: has not checked the leader lock for over {limit:g}s")
    if role is None or last_pass_at is None:
        return Liveness(False, "starting: no pass finished yet")
    ok_age = _age(now, last_ok_at)
    if ok_age is None:
        return Liveness(False, "no successful pass yet; the last pass failed (see the log)")
    if ok_age > limit:
        return Liveness(
            False,
            f"last successful pass {ok_age:.0f}s ago, more than {STALE_INTERVALS} poll "
            f"intervals ({limit:g}s)",
        )
    return Liveness(True, f"ok: last successful pass {ok_age:.0f}s ago")


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)
