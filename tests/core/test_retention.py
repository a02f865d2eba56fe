"""retention_days: its setting, and the pure cutoff that decides what history is pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ilert_statuspage_sync.config import DEFAULT_RETENTION_DAYS, parse_config
from ilert_statuspage_sync.core.clock import PLAUSIBLE_SKEW
from ilert_statuspage_sync.core.retention import PRUNE_BATCH, prune_cutoff
from ilert_statuspage_sync.errors import ConfigError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ENV = {"ILERT_API_KEY": "ilert-key", "STATUSPAGE_API_KEY": "sp-key"}


def _config(**top: Any) -> dict[str, Any]:
    return {
        "ilert": {"api_key_env": "ILERT_API_KEY"},
        "connectors": {"main": {"api_key_env": "STATUSPAGE_API_KEY"}},
        "incident_actions": [
            {"name": "a", "alert_sources": [1], "connector": "main", "page_id": "page1"}
        ],
        **top,
    }


def test_retention_defaults_to_400_days():
    """Without the setting, history older than 400 days is pruned."""
    assert DEFAULT_RETENTION_DAYS == 400
    assert parse_config(_config(), ENV).retention_days == 400


@pytest.mark.parametrize("days", [0, 1, 30, 36_500])
def test_retention_accepts_whole_days_and_zero(days: int):
    """0 (keep everything) and whole numbers of days up to a century are accepted."""
    assert parse_config(_config(retention_days=days), ENV).retention_days == days


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (-1, "must be a whole number of days >= 0 (0 keeps everything), got the number -1"),
        (True, "got a boolean"),
        ("400", "got a string"),
        (1.5, "got the number 1.5"),
        (36_501, "must be at most 36,500 days; use 0 to keep everything"),
    ],
)
def test_retention_refuses_other_values_in_one_line(value: object, fragment: str):
    """A wrong retention_days is one line naming the file and the key."""
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(retention_days=value), ENV, origin="test.toml")
    message = str(caught.value)
    assert message.startswith("test.toml: retention_days: ")
    assert fragment in message
    assert "\n" not in message


def test_zero_days_keeps_everything():
    """retention_days = 0 gives no cutoff at all."""
    assert prune_cutoff([NOW], 0, NOW) is None


def test_the_cutoff_is_retention_before_now():
    """Normally the cutoff is retention_days before now."""
    assert prune_cutoff([NOW, NOW], 400, NOW - timedelta(minutes=5)) == NOW - timedelta(days=400)


def test_the_earliest_clock_counts():
    """A clock that jumped (or lies) ahead never prunes what is still young by the other."""
    ahead = NOW + timedelta(days=3 * 365)
    assert prune_cutoff([ahead, NOW], 400, NOW) == NOW - timedelta(days=400)
    assert prune_cutoff([NOW, None, ahead], 400, NOW) == NOW - timedelta(days=400)


def test_no_clock_no_pruning():
    """Without any reading of the time nothing is pruned."""
    assert prune_cutoff([None], 400, NOW) is None


def test_the_cutoff_stays_before_the_reported_since_listing():
    """After a long downtime, links the "reported since" listing can still return are kept."""
    since = NOW - timedelta(days=500)
    assert prune_cutoff([NOW], 400, since) == since - PLAUSIBLE_SKEW


def test_the_batch_is_small():
    """A pass deletes at most a few hundred rows of each kind (documented in docs/operations.md)."""
    assert 100 <= PRUNE_BATCH <= 1_000
