"""A process that runs passes collects its cyclic garbage less often (runtime.collector):
a pass holds objects per open link, and the default thresholds promoted them into
several full collections a pass. Checked on the thresholds, never timed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ilert_statuspage_sync.runtime.collector import PASS_THRESHOLDS, tune_collector


@pytest.fixture(name="defaults")
def _defaults() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_building_a_syncer_raises_the_collector_thresholds(defaults, make_harness):
    """A syncer built by the wiring leaves the youngest generation collected every 50,000."""
    make_harness()
    assert gc.get_threshold() == PASS_THRESHOLDS
    assert PASS_THRESHOLDS[0] >= 50_000


def test_a_higher_threshold_is_kept(defaults):
    """Tuning never lowers a threshold the process already raised."""
    gc.set_threshold(100_000, 5, 50)
    tune_collector()
    assert gc.get_threshold() == (100_000, 20, 50)
