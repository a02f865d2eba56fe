"""The cyclic garbage collector's thresholds for a process that runs passes.

A pass holds a few objects per open link until it ends (the open links, the
work items, the snapshots), so at 10,000 open alerts it allocates hundreds of
thousands of container objects that outlive the youngest generation. With
CPython's default thresholds (700, 10, 10) that promoted a few full
collections a pass, each walking the whole heap: about a quarter of a quiet
pass's CPU at 10,000 open alerts. Collecting the youngest generation every
50,000 net allocations instead of 700 keeps full collections to one every few
passes; nearly all of a pass's garbage is freed by reference counting anyway,
and what waits for the collector is bounded by the threshold.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["PASS_THRESHOLDS", "tune_collector"]

# (youngest, middle, oldest): CPython's default is (700, 10, 10).
PASS_THRESHOLDS: Final = (50_000, 20, 10)


def tune_collector() -> None:
    """Raise the collector's thresholds to ``PASS_THRESHOLDS`` (never lower them)."""
    current = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(current, PASS_THRESHOLDS, strict=True)))
