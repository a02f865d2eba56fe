"""Fuzz: malformed iLert alerts never crash a pass, are named precisely, and block nothing.

Runs on both databases (the ``database_url`` fixture behind ``make_harness``):
one harness and one database serve every example of a run. Beyond wrong types
and missing fields, the classes a column cannot hold are drawn on purpose: ids
at and beyond a signed 64-bit integer (and 1e20, negatives, numeric strings),
lone surrogates, NUL and other control characters, 1 MB strings, deep nesting,
in the alert and in a comment of its timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from ilert_statuspage_sync.simulators._wire import format_timestamp
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

FIELDS = [
    "id",
    "summary",
    "details",
    "reportTime",
    "resolvedOn",
    "status",
    "alertSource",
    "escalationPolicy",
    "priority",
    "responders",
    "nextEscalation",
    "nextEscalationRuleIndex",
]
INT64 = 2**63
MEGABYTE = 1_000_000
# Lines that mean a bad alert got past parsing and broke something.
CRASHES = (
    "alert_sync_crashed",
    "alert_store_failed",
    "alert_failure_unrecorded",
    "alert_unstorable",
    "links_store_failed",
    "rollback_failed",
)
_UNSTORABLE = ("\x00", "\ud800", "\udcff", "\x1b", "\x7f", "\x85")


def _nested(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


# Ids a column cannot hold, and those at its very edge; never a small positive one,
# which could collide with the good alert.
edge_ids = st.one_of(
    st.sampled_from(
        [
            INT64 - 1,
            INT64,
            2**64,
            -INT64,
            -INT64 - 1,
            0,
            -1,
            1e20,
            9.2e18,
            2.0**53 + 2,
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
        ]
    ),
    st.integers(min_value=INT64 - 3, max_value=INT64 + 3),
    st.integers(min_value=2**62, max_value=2**70),
    st.integers(max_value=0),
)
odd_char = st.characters(blacklist_categories=()) | st.sampled_from(_UNSTORABLE)
odd_text = st.text(alphabet=odd_char, max_size=40)
huge_text = st.sampled_from(
    [
        "x" * MEGABYTE,
        "\x00" * MEGABYTE,
        "\u00e9\udcff" * (MEGABYTE // 2),
        "\x1b[0m" * (MEGABYTE // 4),
    ]
)
deep = st.integers(min_value=1, max_value=150).map(_nested)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.integers(min_value=1, max_value=200_000).map(lambda n: "x" * n),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(["SNOOZED", "2026-13-45T99:00:00Z", "0001-01-01T00:00:00+01:00", "--5", "²"]),
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]),
    edge_ids,
    odd_text,
    huge_text,
    deep,
)
# A field that is the right shape but holds a value from the classes above.
shaped: dict[str, Callable[[st.DrawFn], object]] = {
    "id": lambda draw: draw(edge_ids),
    "summary": lambda draw: draw(odd_text | huge_text),
    "details": lambda draw: draw(odd_text | huge_text),
    "status": lambda draw: draw(odd_text | st.just("PENDING" * 6)),
    "priority": lambda draw: draw(odd_text | st.just("HIGH" * 9)),
    "escalationPolicy": lambda draw: {"id": draw(edge_ids)},
    "nextEscalationRuleIndex": lambda draw: draw(edge_ids | st.sampled_from([2**31 - 1, 2**31])),
    "responders": lambda draw: [{"user": {"id": draw(edge_ids | odd_text | huge_text)}}],
}


def _valid(alert_id: int, reported: str) -> dict[str, Any]:
    return {
        "id": alert_id,
        "summary": "fuzzed",
        "details": "",
        "reportTime": reported,
        "status": "PENDING",
        "alertSource": {"id": AUTO_SOURCE},
        "priority": "HIGH",
        "responders": [],
    }


@st.composite
def mutated(draw: st.DrawFn, alert_id: int, reported: str) -> dict[str, Any]:
    payload = _valid(alert_id, reported)
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        choice = draw(st.sampled_from(["drop", "junk", "shaped"]))
        if choice == "shaped" and field in shaped:
            payload[field] = shaped[field](draw)
        elif choice == "drop" and field != "id":
            payload.pop(field, None)
        elif field != "id":
            payload[field] = draw(junk)
    payload["unknownField"] = draw(junk)
    return payload


@st.composite
def comment_entries(draw: st.DrawFn, reported: str) -> list[dict[str, Any]]:
    """Zero or one comment for the bad alert's timeline, with an odd id or odd text."""
    if not draw(st.booleans()):
        return []
    text = draw(odd_text | huge_text | st.just("plain comment"))
    entry_id = draw(edge_ids | st.integers(min_value=1, max_value=10**9))
    return [
        {
            "id": entry_id,
            "timestamp": reported,
            "logEntryType": "AlertCommentAddedLogEntry",
            "text": text,
            "vars": {"comment": text},
        }
    ]


@pytest.fixture(name="fuzz_harness")
def _fuzz_harness(make_harness: Callable[..., Harness]) -> Harness:
    """An activated harness whose pacing never slows a fuzz run (tests count requests)."""
    harness = make_harness("classic")
    harness.syncer = harness.new_syncer(rate_window=0.05)
    harness.sync()
    return harness


def _incident_of(harness: Harness, alert_id: int) -> dict[str, Any] | None:
    link = harness.link("public-api", alert_id)
    if link is None or link.statuspage_incident_id is None:
        return None
    return harness.statuspage.incident(link.statuspage_incident_id)


def _clean(text: str) -> bool:
    return not any(char in text for char in _UNSTORABLE)


@settings(
    max_examples=150,  # per database: 300 a run, well under a minute
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data())
def test_malformed_alerts_never_block_good_ones(fuzz_harness: Harness, data: st.DataObject):
    """A pass with a malformed alert finishes, names the problem, and still syncs the good alert."""
    harness = fuzz_harness
    reported = format_timestamp(harness.ilert.now())
    bad_key = harness.ilert.create_alert(AUTO_SOURCE, "placeholder", "")
    # Draw everything first: a draw may end the example, and nothing planted may stay behind.
    payload = data.draw(mutated(bad_key, reported))
    entries = data.draw(comment_entries(reported))
    harness.ilert.set_raw_alert(bad_key, payload)
    harness.ilert.set_raw_log_entries(bad_key, entries)
    good_id = harness.ilert.create_alert(AUTO_SOURCE, "good alert", "")

    try:
        _check_pass(harness, payload, bad_key, good_id)
    finally:
        # Keep the next example's pass small: the bad alert ends, long ago; the good one resolves.
        past = format_timestamp(datetime(2000, 1, 1, tzinfo=UTC))
        harness.ilert.set_raw_alert(
            bad_key, {**_valid(bad_key, past), "status": "RESOLVED", "resolvedOn": past}
        )
        harness.ilert.set_raw_log_entries(bad_key, [])
        harness.ilert.resolve(good_id)
        # Out of the next listings too: the next pass reads it by id once, to mirror the resolve.
        harness.ilert.set_raw_alert(good_id, {**harness.ilert.alert(good_id), "reportTime": past})


def _check_pass(harness: Harness, payload: dict[str, Any], bad_key: int, good_id: int) -> None:
    with capture_logs() as logs:
        report = harness.sync()

    assert report.ilert_ok
    crashes = [line for line in logs if line["event"] in CRASHES]
    assert not crashes, crashes
    assert len([line for line in logs if line["event"] == "pass_finished"]) == 1
    bad_ids = {str(bad_key), str(payload.get("id"))}
    assert _incident_of(harness, good_id) is not None, "the good alert was not mirrored"
    bad = _incident_of(harness, bad_key)
    if bad is not None:
        assert _clean(bad["name"]), bad["name"][:80]
        assert all(_clean(update["body"]) for update in bad["incident_updates"])
    for line in logs:
        if line["event"] == "alert_unreadable":
            named = f"{line.get('alert_id')} {line['error']}"
            assert any(bad in named for bad in bad_ids) or "'id'" in named, line
