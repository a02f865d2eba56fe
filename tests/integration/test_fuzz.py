"""Fuzz: malformed iLert alerts never crash a pass, are named precisely, and block nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from ilert_statuspage_sync.demo import AUTO_SOURCE
from tests.conftest import Harness

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
)


def _valid(alert_id: int) -> dict[str, Any]:
    return {
        "id": alert_id,
        "summary": "fuzzed",
        "details": "",
        "reportTime": "2999-01-01T00:00:00.000Z",
        "status": "PENDING",
        "alertSource": {"id": AUTO_SOURCE},
        "priority": "HIGH",
        "responders": [],
    }


@st.composite
def mutated(draw: st.DrawFn, alert_id: int) -> dict[str, Any]:
    payload = _valid(alert_id)
    for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        if field == "id":
            continue  # the simulator needs an id to serve it; a bad id is tested in test_parse
        if draw(st.booleans()):
            payload.pop(field, None)
        else:
            payload[field] = draw(junk)
    payload["unknownField"] = draw(junk)
    return payload


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_alerts_never_block_good_ones(harness: Harness, data: st.DataObject):
    """A pass with a malformed alert finishes, names the problem, and still syncs the good alert."""
    bad_id = harness.ilert.add_raw_alert({"id": 0})
    harness.ilert.set_raw_alert(bad_id, data.draw(mutated(bad_id)))
    good_id = harness.ilert.create_alert(AUTO_SOURCE, "good alert", "")
    with capture_logs() as logs:
        report = harness.sync()
    assert report.ilert_ok
    mirrored = {incident["metadata"]["ilert"]["alert_id"] for incident in harness.incidents()}
    assert str(good_id) in mirrored
    problems = [
        entry
        for entry in logs
        if entry["event"] in ("alert_unreadable", "alert_sync_failed", "alert_sync_crashed")
    ]
    assert not [p for p in problems if p["event"] == "alert_sync_crashed"], problems
    for problem in problems:
        assert str(bad_id) in str(problem.get("alert_id")) or str(bad_id) in problem["error"]
    # Keep the next example's pass small: the bad alert leaves, the good one resolves.
    harness.ilert.set_raw_alert(bad_id, {**_valid(bad_id), "alertSource": {"id": -1}})
    harness.ilert.resolve(good_id)
