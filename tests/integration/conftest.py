"""Fixtures for tests that run the daemon as a real process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.demo.play import AUTO_PAGE, MANUAL_PAGE
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.integration.proc import ILERT_KEY, SP_KEY


@pytest.fixture(name="sims")
def _sims() -> Iterator[tuple[IlertSimulator, StatuspageSimulator]]:
    """Both simulators, with the keys the process tests' config files name."""
    with (
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=SP_KEY, page_ids=(AUTO_PAGE, MANUAL_PAGE)) as statuspage,
    ):
        yield ilert, statuspage
