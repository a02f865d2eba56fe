"""Fuzz: malformed iLert alerts never crash a pass, are named precisely, and block nothing.

Runs on both databases (the ``database_url`` fixture behind ``make_harness``):
one harness and one database serve every example of a run. Beyond wrong types
and missing fields, the classes a column cannot hold are drawn on purpose: ids
at and beyond a signed 64-bit integer (and 1e20, negatives, numeric strings),
lone surrogates, NUL and other control characters, 1 MB strings, deep nesting,
in the alert and in a comment of its timeline.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from ilert_statuspage_sync.config.publish import parse_publish_policy
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


# -- hostile public text ------------------------------------------------------------------
# Any size (up to 10 MB), zero-width and compatibility characters hiding a secret, markers
# glued to their neighbours: every pass finishes, nothing fails, the published text is
# bounded and redacted, and a comment is published only with a marker standing alone.

TEN_MB = 10_000_000
SECRET = re.compile(r"db-\d+")
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\U000e0041"]
huge_public = st.sampled_from(
    [
        "<a" * (TEN_MB // 2),
        "x" * TEN_MB,
        "<!--" + "<b>" * (TEN_MB // 3),
        "db-1 " * (TEN_MB // 5),
        "&lt;" * (TEN_MB // 4),
        "&#" + "9" * TEN_MB,  # a character reference int() would refuse to parse
        # Non-ASCII travels as 6-byte JSON escapes: 1 million characters is 6 MB on the wire.
        "\u200b" * (TEN_MB // 10),
        "\ufdfa" * (TEN_MB // 10),  # NFKC writes 18 characters for each
    ]
)


@st.composite
def hidden_secret(draw: st.DrawFn) -> str:
    """``db-<digits>`` as a reader sees it, with invisible or look-alike characters inside."""
    text = f"db-{draw(st.integers(min_value=0, max_value=99_999))}"
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        at = draw(st.integers(min_value=1, max_value=len(text) - 1))
        piece = draw(st.sampled_from([*_INVISIBLE, "<b></b>", "<!-- x -->", "&#8203;"]))
        text = text[:at] + piece + text[at:]
    if draw(st.booleans()):
        text = text.replace("d", "\uff44").replace("b", "\uff42", 1)  # fullwidth letters
    return text


# A marker with what touches it on each side; True where it stands alone.
_BEFORE = [("", True), ("\u200b", True), ("<p>", True), ("\n", True), ("x", False), ("#", False)]
_BEFORE += [("https://wiki.corp/runbook", False), ("C", False)]
_AFTER = [("", True), ("\n", True), ("</p>", True), (",", False), ("x", False), ("\u200bx", False)]
_AFTER += [("#", False), (")", False)]


@st.composite
def public_text_case(draw: st.DrawFn) -> tuple[str, str, str, bool]:
    """(summary, details, comment, whether the comment carries a standalone marker)."""
    texts = huge_public | hidden_secret() | odd_text
    summary = draw(texts)
    details = draw(texts)
    before, alone_before = draw(st.sampled_from(_BEFORE))
    after, alone_after = draw(st.sampled_from(_AFTER))
    rest = draw(st.just(" FIXED") | huge_public.map(" FIXED ".__add__) | hidden_secret())
    standalone = alone_before and alone_after and "FIXED" in rest
    return summary, details, f"{before}#public{after}{rest}", standalone


def _visible(text: str) -> str:
    """``text`` without format characters (Unicode category Cf)."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _seen(text: str) -> str:
    """What a reader sees, for checking: NFKC, without format characters."""
    return unicodedata.normalize("NFKC", _visible(text))


@pytest.fixture(name="public_harness")
def _public_harness(make_harness: Callable[..., Harness]) -> Harness:
    """A harness whose automatic action publishes marked comments and redacts ``db-N``."""
    harness = make_harness("classic")
    policy = parse_publish_policy(
        {"comments": "marked", "redact": [SECRET.pattern]}, "incident_actions[0]", "fuzz.toml"
    )
    actions = tuple(
        dataclasses.replace(a, publish=policy) if a.name == "public-api" else a
        for a in harness.config.incident_actions
    )
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer(rate_window=0.05)
    harness.sync()
    return harness


@settings(
    max_examples=20,  # per database; every example sends up to 40 MB through real HTTP
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(case=public_text_case())
def test_hostile_text_publishes_bounded_redacted_and_blocks_nothing(
    public_harness: Harness, case: tuple[str, str, str, bool]
):
    """10 MB texts, hidden secrets and glued markers: clipped, redacted, the resolve still lands."""
    harness = public_harness
    summary, details, comment, standalone = case
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, summary, details)
    harness.ilert.comment(alert_id, comment)
    try:
        with capture_logs() as logs:
            harness.sync()
            harness.ilert.resolve(alert_id)
            harness.sync()
        _check_public_text(harness, alert_id, standalone, logs)
    finally:
        # Out of the next listings: later examples do not carry this one's megabytes.
        past = format_timestamp(datetime(2000, 1, 1, tzinfo=UTC))
        harness.ilert.set_raw_alert(
            alert_id, {**_valid(alert_id, past), "status": "RESOLVED", "resolvedOn": past}
        )
        harness.ilert.set_raw_log_entries(alert_id, [])


def _check_public_text(
    harness: Harness, alert_id: int, standalone: bool, logs: list[MutableMapping[str, Any]]
) -> None:
    assert not [line for line in logs if line["event"] in CRASHES]
    assert all(outcome != "failed" for _, outcome, _ in harness.transitions(alert_id))
    incident = _incident_of(harness, alert_id)
    assert incident is not None and incident["status"] == "resolved"
    published = [incident["name"], *(u["body"] for u in incident["incident_updates"])]
    assert len(incident["name"]) <= 255
    assert all(len(text) <= 25_000 for text in published)
    assert not [text for text in published if SECRET.search(_seen(text))]
    assert all(text == _visible(text) for text in published)
    assert any("FIXED" in text for text in published[1:]) == standalone
