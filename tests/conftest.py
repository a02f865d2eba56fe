"""Registers the shared fixtures of ``tests/support`` for every folder of tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from hypothesis import settings

from ilert_statuspage_sync.clients.http import reset_budgets
from ilert_statuspage_sync.runtime import shutdown
from tests.support.bridges import _world
from tests.support.database import _database_templates, _database_url
from tests.support.harness import _harness, _make_harness
from tests.support.logs import _json_log
from tests.support.proc import _config, _config_path
from tests.support.simulators import _ilert, _sims, _statuspage

__all__ = [
    "_config",
    "_config_path",
    "_database_templates",
    "_database_url",
    "_harness",
    "_ilert",
    "_json_log",
    "_make_harness",
    "_sims",
    "_statuspage",
    "_world",
]

# Parallel workers on a shared machine make wall-clock timing noise: Hypothesis's per-example
# deadline (a speed hint, not a property of the code) would fail tests at random.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(autouse=True)
def _reset_process_state() -> Iterator[None]:
    """Budgets are per process and per key; tests must not inherit each other's pauses."""
    reset_budgets()
    shutdown.reset()
    yield
    structlog.reset_defaults()
    reset_budgets()
    shutdown.reset()
