"""In-process HTTP simulators of the iLert and Statuspage APIs, for tests and `demo`.

Each simulator is a real HTTP server on 127.0.0.1 (a free port), so the daemon's
clients are exercised over the wire, timeouts and all. `running_simulators`
starts one of each and stops them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ilert_statuspage_sync.simulators._server import RecordedRequest, Stall
from ilert_statuspage_sync.simulators.ilert import IlertSimulator
from ilert_statuspage_sync.simulators.statuspage import StatuspageSimulator

__all__ = [
    "IlertSimulator",
    "RecordedRequest",
    "Stall",
    "StatuspageSimulator",
    "running_simulators",
]


@contextmanager
def running_simulators(
    ilert_key: str = "ilert-sim-key",
    statuspage_key: str = "statuspage-sim-key",
    page_ids: Iterable[str] = ("kctbh9vrtdwd",),
) -> Iterator[tuple[IlertSimulator, StatuspageSimulator]]:
    """Yield a started (iLert, Statuspage) pair; both are stopped on exit."""
    with (
        IlertSimulator(api_key=ilert_key) as ilert,
        StatuspageSimulator(api_key=statuspage_key, page_ids=page_ids) as statuspage,
    ):
        yield ilert, statuspage
