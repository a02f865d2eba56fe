"""The iLert and Statuspage simulators as fixtures, serving on loopback in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import ILERT_KEY as PROC_ILERT_KEY
from tests.support.proc import SP_KEY as PROC_SP_KEY
from tests.support.world import AUTO_PAGE, ILERT_KEY, MANUAL_PAGE, STATUSPAGE_KEY


@pytest.fixture(name="ilert")
def _ilert() -> Iterator[IlertSimulator]:
    with IlertSimulator(api_key=ILERT_KEY) as simulator:
        yield simulator


@pytest.fixture(name="statuspage")
def _statuspage() -> Iterator[StatuspageSimulator]:
    with StatuspageSimulator(
        api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE), seed=7
    ) as sim:
        yield sim


@pytest.fixture(name="sims")
def _sims() -> Iterator[tuple[IlertSimulator, StatuspageSimulator]]:
    """Both simulators, with the keys the process tests' config files name."""
    with (
        IlertSimulator(api_key=PROC_ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=PROC_SP_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as statuspage,
    ):
        yield ilert, statuspage
