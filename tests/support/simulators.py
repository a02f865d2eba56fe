"""The iLert and Statuspage simulators as fixtures, serving on loopback in this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.proc import ILERT_KEY as PROC_ILERT_KEY
from tests.support.proc import SP_KEY as PROC_SP_KEY
from tests.support.world import AUTO_PAGE, ILERT_KEY, MANUAL_PAGE, STATUSPAGE_KEY


def simulator_fixtures(ilert_key: str, statuspage_key: str) -> tuple[Any, Any]:
    """The ``ilert`` and ``statuspage`` fixtures, serving with these API keys."""

    @pytest.fixture(name="ilert")
    def ilert_fixture() -> Iterator[IlertSimulator]:
        with IlertSimulator(api_key=ilert_key) as simulator:
            yield simulator

    @pytest.fixture(name="statuspage")
    def statuspage_fixture() -> Iterator[StatuspageSimulator]:
        with StatuspageSimulator(
            api_key=statuspage_key, page_ids=(AUTO_PAGE, MANUAL_PAGE), seed=7
        ) as simulator:
            yield simulator

    return ilert_fixture, statuspage_fixture


_ilert, _statuspage = simulator_fixtures(ILERT_KEY, STATUSPAGE_KEY)


@pytest.fixture(name="sims")
def _sims() -> Iterator[tuple[IlertSimulator, StatuspageSimulator]]:
    """Both simulators, with the keys the process tests' config files name."""
    with (
        IlertSimulator(api_key=PROC_ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=PROC_SP_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as statuspage,
    ):
        yield ilert, statuspage
