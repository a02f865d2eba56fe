"""The simulators' self-tests speak to simulators with their default keys and no pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator


@pytest.fixture(name="ilert")
def _ilert() -> Iterator[IlertSimulator]:
    with IlertSimulator() as simulator:
        yield simulator


@pytest.fixture(name="statuspage")
def _statuspage() -> Iterator[StatuspageSimulator]:
    with StatuspageSimulator(seed=7) as simulator:
        yield simulator


@pytest.fixture(name="http")
def _http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
