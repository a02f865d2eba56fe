"""Tests of the iLert JSON parsers: alerts, log entries and comment text."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.parse import (
    COMMENT_ENTRY_TYPES,
    comment_text,
    parse_alert,
    parse_log_entry,
    parse_time,
)
from ilert_statuspage_sync.errors import PayloadError
from ilert_statuspage_sync.simulators import IlertSimulator

ALERT_ID = 4711


def _alert_json() -> dict[str, Any]:
    """An alert as ``GET /api/alerts`` returns it (the OpenAPI Alert schema, filled in)."""
    return {
        "id": ALERT_ID,
        "summary": "Checkout latency above 2 s",
        "details": "p99 latency 2.4 s for 5 minutes",
        "reportTime": "2024-05-01T10:00:00.123Z",
        "resolvedOn": None,
        "status": "ACCEPTED",
        "alertSource": {"id": 101, "name": "Checkout API", "integrationType": "API"},
        "escalationPolicy": {"id": 7, "name": "Web team"},
        "priority": "HIGH",
        "alertKey": "checkout-latency",
        "assignedTo": None,
        "nextEscalation": "2024-05-01T10:05:00.123Z",
        "escalationRules": [{"escalationTimeout": 5, "user": {"id": 5}}],
        "nextEscalationUser": {"id": 5, "firstName": "Barbara", "lastName": "Liskov"},
        "nextEscalationRuleIndex": 1,
        "images": [],
        "links": [{"href": "https://grafana.example/d/checkout", "text": "Dashboard"}],
        "responders": [
            {
                "user": {"id": 5, "firstName": "Barbara", "lastName": "Liskov"},
                "status": "ACCEPTED",
                "acceptedAt": "2024-05-01T10:03:30.500Z",
            },
            {
                "user": {"id": 3, "firstName": "Alan", "lastName": "Turing"},
                "status": "ACCEPTED",
                "acceptedAt": "2024-05-01T10:02:00Z",
            },
            {
                "user": {"id": 4, "firstName": "Edsger", "lastName": "Dijkstra"},
                "status": "PENDING",
                "acceptedAt": None,
            },
        ],
        "severity": None,
        "labels": {"team": "web"},
    }


def _entry_json(entry_type: str = "AlertCommentAddedLogEntry", **changes: Any) -> dict[str, Any]:
    """A log entry as ``GET /api/alerts/{id}/log-entries?include=vars`` returns it."""
    entry: dict[str, Any] = {
        "id": 9001,
        "timestamp": "2024-05-01T10:04:00.000Z",
        "logEntryType": entry_type,
        "text": "Ada Lovelace commented: rolling back the deploy",
        "alertId": ALERT_ID,
        "filterTypes": ["ALERT_UPDATES"],
        "vars": {"comment": "rolling back the deploy", "author": "Ada Lovelace"},
    }
    entry.update(changes)
    return entry


@pytest.fixture(name="payload")
def _payload() -> dict[str, Any]:
    return _alert_json()


@pytest.fixture(name="simulator")
def _simulator() -> IlertSimulator:
    """A simulator that is never started: its control methods produce the served JSON."""
    return IlertSimulator()


def _at(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class TestParseAlert:
    def test_realistic_alert_is_parsed(self, payload):
        """Every field the core uses is read from a schema-shaped alert."""
        alert = parse_alert(payload)

        assert alert == Alert(
            id=ALERT_ID,
            source_id=101,
            summary="Checkout latency above 2 s",
            details="p99 latency 2.4 s for 5 minutes",
            status="ACCEPTED",
            priority="HIGH",
            report_time=datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC),
            resolved_on=None,
            responder_ids=("3", "4", "5"),
            accepted_at=_at(2024, 5, 1, 10, 2, 0),
            escalation_policy_id=7,
            escalation_rule_index=1,
            next_escalation=datetime(2024, 5, 1, 10, 5, 0, 123000, tzinfo=UTC),
            source_name="Checkout API",
        )

    def test_simulator_alert_round_trips_through_its_lifecycle(self, simulator):
        """What the simulator serves for a new, escalated, accepted, resolved alert parses."""
        reported = datetime(2024, 5, 1, 9, 30, 15, 250000, tzinfo=UTC)
        alert_id = simulator.create_alert(
            101, "Disk full", details="/var at 100%", priority="LOW", report_time=reported
        )

        created = parse_alert(simulator.alert(alert_id))
        assert created.id == alert_id
        assert created.source_id == 101
        assert created.status == "PENDING"
        assert created.priority == "LOW"
        assert created.report_time == reported
        assert created.responder_ids == ("1",)
        assert created.accepted_at is None
        assert created.escalation_policy_id == 1
        assert created.escalation_rule_index == 1
        assert created.next_escalation is not None

        simulator.escalate(alert_id)
        simulator.accept(alert_id, user_id=2)
        accepted = parse_alert(simulator.alert(alert_id))
        assert accepted.status == "ACCEPTED"
        assert accepted.responder_ids == ("1", "2")
        assert accepted.escalation_rule_index == 2
        assert accepted.accepted_at is not None
        assert accepted.next_escalation is None

        simulator.resolve(alert_id)
        resolved = parse_alert(simulator.alert(alert_id))
        assert resolved.status == "RESOLVED"
        assert resolved.resolved_on is not None
        assert resolved.resolved_on.tzinfo == UTC

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2024-05-01T10:00:00Z", _at(2024, 5, 1, 10, 0, 0)),
            ("2024-05-01T10:00:00z", _at(2024, 5, 1, 10, 0, 0)),
            ("2024-05-01T10:00:00.123Z", datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)),
            ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
            ("2024-05-01T10:00:00+00:00", _at(2024, 5, 1, 10, 0, 0)),
            ("2024-05-01T12:00:00.5+02:00", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
            ("2024-05-01T05:30:00-04:30", _at(2024, 5, 1, 10, 0, 0)),
            ("2024-05-01T10:00:00", _at(2024, 5, 1, 10, 0, 0)),
            (" 2024-05-01T10:00:00Z ", _at(2024, 5, 1, 10, 0, 0)),
        ],
        ids=[
            "z",
            "lower-z",
            "millis",
            "micros",
            "utc-offset",
            "plus-two",
            "minus-four-thirty",
            "naive-read-as-utc",
            "padded",
        ],
    )
    def test_timestamps_parse_to_aware_utc(self, payload, text, expected):
        """Every ISO-8601 precision and offset iLert may send becomes an aware UTC datetime."""
        payload["reportTime"] = text

        report_time = parse_alert(payload).report_time

        assert report_time == expected
        assert report_time.tzinfo == UTC

    @pytest.mark.parametrize(
        "text",
        ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
        ids=["before-year-1-in-utc", "after-year-9999-in-utc"],
    )
    def test_timestamp_outside_the_utc_range_is_a_payload_error(self, payload, text):
        """A timestamp whose UTC value falls outside datetime's range is a PayloadError."""
        payload["reportTime"] = text

        with pytest.raises(PayloadError, match=f"alert {ALERT_ID}: reportTime"):
            parse_alert(payload)

    def test_unknown_fields_are_ignored(self, payload):
        """Fields iLert adds in later releases do not change the result."""
        extended = copy.deepcopy(payload)
        extended.update(
            aiSummary={"text": "probably the deploy"},
            incidentLinks=[1, 2],
            futureFlag=True,
        )
        extended["alertSource"]["newField"] = "x"
        extended["responders"][0]["channel"] = "SMS"

        assert parse_alert(extended) == parse_alert(payload)

    @pytest.mark.parametrize(
        ("field", "value"),
        [("status", "SNOOZED"), ("priority", "CRITICAL")],
        ids=["status", "priority"],
    )
    def test_unknown_enum_values_are_kept_as_strings(self, payload, field, value):
        """An enum value this version does not know is passed through, not rejected."""
        payload[field] = value

        assert getattr(parse_alert(payload), field) == value

    def test_optional_fields_may_be_absent(self):
        """Only id, status and reportTime are required; the rest have defaults."""
        alert = parse_alert({"id": 12, "status": "PENDING", "reportTime": "2024-05-01T10:00:00Z"})

        assert alert == Alert(
            id=12,
            source_id=None,
            summary="iLert alert 12",
            details="",
            status="PENDING",
            priority="HIGH",
            report_time=_at(2024, 5, 1, 10, 0, 0),
        )

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("4711", 4711), (4711.0, 4711), ("  4711 ", 4711)],
        ids=["numeric-string", "integral-float", "padded-string"],
    )
    def test_integer_like_ids_are_accepted(self, payload, value, expected):
        """An id sent as a numeric string or an integral float is read as an integer."""
        payload["id"] = value

        assert parse_alert(payload).id == expected

    def test_missing_id_names_the_field(self, payload):
        """An alert without an id is a PayloadError naming the 'id' field."""
        del payload["id"]

        with pytest.raises(PayloadError, match=r"^alert: field 'id' is missing$"):
            parse_alert(payload)

    @pytest.mark.parametrize(
        ("value", "kind"),
        [
            ("abc", "a string"),
            (True, "a boolean"),
            (47.5, "a number"),
            ([1], "a list"),
            ({"id": 1}, "an object"),
        ],
        ids=["word", "bool", "fraction", "list", "object"],
    )
    def test_wrong_id_type_names_the_field(self, payload, value, kind):
        """An id that is not an integer is a PayloadError naming the field and the type seen."""
        payload["id"] = value

        with pytest.raises(PayloadError) as caught:
            parse_alert(payload)

        assert str(caught.value) == f"alert: field 'id' must be an integer, got {kind}"

    @pytest.mark.parametrize(
        "value",
        ["--5", "-", "5-", "\u00b2", "1_000"],
        ids=["double-minus", "minus", "trailing-minus", "superscript-two", "underscore"],
    )
    def test_malformed_numeric_id_strings_are_payload_errors(self, payload, value):
        """A string id that only looks numeric is a PayloadError, not a crash."""
        payload["id"] = value

        with pytest.raises(PayloadError, match="field 'id' must be an integer"):
            parse_alert(payload)

    @pytest.mark.parametrize(
        ("field", "value", "fragment"),
        [
            ("status", None, "field 'status' is missing"),
            ("status", 3, "field 'status' must be a string, got a number"),
            ("summary", ["x"], "field 'summary' must be a string, got a list"),
            ("details", {"a": 1}, "field 'details' must be a string, got an object"),
            ("priority", False, "field 'priority' must be a string, got a boolean"),
            ("alertSource", "src", "field 'alertSource' must be an object, got a string"),
            ("alertSource", {"id": "x1"}, "alertSource: field 'id' must be a number"),
            ("escalationPolicy", [7], "field 'escalationPolicy' must be an object, got a list"),
            (
                "nextEscalationRuleIndex",
                "first",
                "field 'nextEscalationRuleIndex' must be a number",
            ),
            ("reportTime", None, "reportTime: expected an ISO-8601 string, got null"),
            ("reportTime", 1714557600, "reportTime: expected an ISO-8601 string, got a number"),
            ("reportTime", "yesterday", "reportTime: 'yesterday' is not an ISO-8601 timestamp"),
            ("resolvedOn", "2024-13-01T00:00:00Z", "resolvedOn: '2024-13-01T00:00:00Z' is not"),
            ("nextEscalation", 5, "nextEscalation: expected an ISO-8601 string"),
            ("responders", "all", "responders: expected a list, got a string"),
        ],
        ids=[
            "status-missing",
            "status-number",
            "summary-list",
            "details-object",
            "priority-bool",
            "source-string",
            "source-id-word",
            "policy-list",
            "rule-index-word",
            "report-time-missing",
            "report-time-epoch",
            "report-time-word",
            "resolved-on-month-13",
            "next-escalation-number",
            "responders-string",
        ],
    )
    def test_wrong_field_names_alert_and_field(self, payload, field, value, fragment):
        """A bad field is a PayloadError naming the alert id and the field."""
        if value is None:
            del payload[field]
        else:
            payload[field] = value

        with pytest.raises(PayloadError) as caught:
            parse_alert(payload)

        message = str(caught.value)
        assert message.startswith(f"alert {ALERT_ID}: ")
        assert fragment in message

    @pytest.mark.parametrize(
        "value", [[], "alert", 42, None], ids=["list", "string", "number", "null"]
    )
    def test_non_object_payload_is_a_payload_error(self, value):
        """Something other than a JSON object is refused with the type seen."""
        with pytest.raises(PayloadError, match=r"^alert: expected a JSON object"):
            parse_alert(value)


class TestResponders:
    def test_responder_ids_are_sorted_and_unique(self, payload):
        """Responder ids come out sorted, as strings, without duplicates."""
        payload["responders"] = [
            {"user": {"id": 5}},
            {"user": {"id": "3"}},
            {"user": {"id": 5}, "status": "ACCEPTED", "acceptedAt": None},
            {"user": {"id": 4}},
        ]

        assert parse_alert(payload).responder_ids == ("3", "4", "5")

    def test_responders_without_a_usable_user_id_are_skipped(self, payload):
        """Responders lacking a user or with an odd id are ignored, not an error."""
        payload["responders"] = [
            {"user": {"id": 2}},
            {"user": None},
            {"user": {"id": True}},
            {"user": {"id": [1]}},
            {"status": "PENDING"},
            "not-a-responder",
        ]

        assert parse_alert(payload).responder_ids == ("2",)

    def test_accepted_at_is_the_earliest_acceptance(self, payload):
        """When several responders accepted, accepted_at is the earliest acceptedAt."""
        payload["responders"] = [
            {"user": {"id": 1}, "acceptedAt": "2024-05-01T10:09:00Z"},
            {"user": {"id": 2}, "acceptedAt": "2024-05-01T12:01:00+02:00"},
            {"user": {"id": 3}, "acceptedAt": None},
            {"user": {"id": 4}, "acceptedAt": "2024-05-01T10:03:00.000001Z"},
        ]

        assert parse_alert(payload).accepted_at == _at(2024, 5, 1, 10, 1, 0)

    @pytest.mark.parametrize(
        "responders",
        [None, [], [{"user": {"id": 1}, "acceptedAt": None}]],
        ids=["null", "empty", "pending-only"],
    )
    def test_accepted_at_is_none_without_acceptance(self, payload, responders):
        """Without any acceptedAt the alert has no acceptance time."""
        payload["responders"] = responders

        assert parse_alert(payload).accepted_at is None

    def test_bad_accepted_at_names_alert_and_field(self, payload):
        """An unreadable acceptedAt is a PayloadError naming the alert and the field."""
        payload["responders"] = [{"user": {"id": 1}, "acceptedAt": "soon"}]

        with pytest.raises(PayloadError, match=rf"^alert {ALERT_ID}: responders\[\]\.acceptedAt"):
            parse_alert(payload)


class TestLogEntries:
    def test_simulator_comment_entry_is_parsed(self, simulator):
        """A user comment as the simulator serves it becomes a comment LogEntry."""
        alert_id = simulator.create_alert(101, "Disk full")
        entry_id = simulator.comment(alert_id, "  rolling back the deploy  ")
        (raw,) = [entry for entry in simulator.log_entries(alert_id) if entry["id"] == entry_id]

        entry = parse_log_entry(raw, alert_id)

        assert entry.id == entry_id
        assert entry.type == "AlertCommentAddedLogEntry"
        assert entry.comment == "rolling back the deploy"
        assert entry.timestamp.tzinfo == UTC

    def test_simulator_timeline_parses_with_comments_only_on_comment_entries(self, simulator):
        """Every entry of a busy simulated timeline parses; only comments carry text."""
        alert_id = simulator.create_alert(101, "Disk full", priority="LOW")
        simulator.raise_priority(alert_id)
        simulator.escalate(alert_id)
        simulator.comment(alert_id, "looking", system=True)
        simulator.reassign(alert_id, 3)
        simulator.accept(alert_id)
        simulator.resolve(alert_id)

        entries = [parse_log_entry(raw, alert_id) for raw in simulator.log_entries(alert_id)]

        comments = {entry.type: entry.comment for entry in entries if entry.comment is not None}
        assert comments == {"AlertCommentAddedBySystemLogEntry": "looking"}
        assert len(entries) == 7

    def test_log_entry_is_parsed(self):
        """A schema-shaped entry becomes a LogEntry with an aware UTC timestamp."""
        entry = parse_log_entry(_entry_json(), ALERT_ID)

        assert entry == LogEntry(
            id=9001,
            timestamp=_at(2024, 5, 1, 10, 4, 0),
            type="AlertCommentAddedLogEntry",
            comment="rolling back the deploy",
        )

    @pytest.mark.parametrize("entry_type", sorted(COMMENT_ENTRY_TYPES), ids=str)
    def test_every_comment_entry_type_carries_its_comment(self, entry_type):
        """User, system and published comments all carry their text."""
        assert parse_log_entry(_entry_json(entry_type), ALERT_ID).comment == (
            "rolling back the deploy"
        )

    @pytest.mark.parametrize(
        "entry_type",
        [
            "AlertReceivedLogEntry",
            "UserResponseLogEntry",
            "AlertEscalatedToLevelLogEntry",
            "SomeFutureLogEntry",
        ],
        ids=str,
    )
    def test_non_comment_entries_have_no_comment(self, entry_type):
        """Other entry types (known or not) have comment None even when vars has one."""
        entry = parse_log_entry(_entry_json(entry_type), ALERT_ID)

        assert entry.comment is None
        assert entry.type == entry_type

    @pytest.mark.parametrize(
        ("changes", "fragment"),
        [
            ({"id": None}, f"alert {ALERT_ID}: log entry: field 'id' is missing"),
            ({"id": "x"}, f"alert {ALERT_ID}: log entry: field 'id' must be an integer"),
            ({"logEntryType": None}, f"alert {ALERT_ID}: log entry 9001: field 'logEntryType'"),
            ({"timestamp": None}, f"alert {ALERT_ID}: log entry 9001: timestamp"),
            ({"timestamp": "now"}, f"alert {ALERT_ID}: log entry 9001: timestamp"),
        ],
        ids=["id-missing", "id-word", "type-missing", "timestamp-missing", "timestamp-word"],
    )
    def test_bad_entry_names_alert_entry_and_field(self, changes, fragment):
        """A bad log entry is a PayloadError naming the alert, the entry and the field."""
        with pytest.raises(PayloadError) as caught:
            parse_log_entry(_entry_json(**changes), ALERT_ID)

        assert str(caught.value).startswith(fragment)

    def test_non_object_entry_is_a_payload_error(self):
        """A log entry that is not a JSON object is refused, naming the alert."""
        with pytest.raises(PayloadError, match=f"^alert {ALERT_ID}: log entry: expected"):
            parse_log_entry(["x"], ALERT_ID)


class TestCommentText:
    @pytest.mark.parametrize(
        ("entry", "expected"),
        [
            ({"vars": {"comment": "from comment"}, "text": "t"}, "from comment"),
            ({"vars": {"content": "from content"}, "text": "t"}, "from content"),
            ({"vars": {"comment": "first", "content": "second"}}, "first"),
            ({"vars": {"comment": "  ", "content": "second"}}, "second"),
            ({"vars": {"comment": 5, "content": "second"}}, "second"),
            ({"vars": {"author": "Ada"}, "text": "the text"}, "the text"),
            ({"vars": {}, "text": "  the text \n"}, "the text"),
            ({"vars": "not-a-map", "text": "the text"}, "the text"),
            ({"text": "the text"}, "the text"),
            ({"text": None}, ""),
            ({}, ""),
        ],
        ids=[
            "vars-comment",
            "vars-content",
            "comment-before-content",
            "blank-comment-skipped",
            "non-string-comment-skipped",
            "no-comment-var",
            "empty-vars",
            "vars-not-a-map",
            "no-vars",
            "null-text",
            "nothing",
        ],
    )
    def test_comment_text_prefers_vars_then_text(self, entry, expected):
        """The comment comes from vars["comment"] / vars["content"], else from text, stripped."""
        assert comment_text(entry) == expected

    def test_log_entry_without_vars_falls_back_to_text(self):
        """Without include=vars, a comment entry's text is used as its comment."""
        raw = _entry_json()
        del raw["vars"]

        assert parse_log_entry(raw, ALERT_ID).comment == raw["text"]


class TestParseTime:
    def test_where_is_named_in_the_error(self):
        """parse_time's error names the place it was given."""
        with pytest.raises(PayloadError, match=r"^somewhere: 'x' is not an ISO-8601 timestamp$"):
            parse_time("x", "somewhere")

    def test_long_garbage_is_truncated_in_the_message(self):
        """An absurdly long timestamp is quoted only in part."""
        with pytest.raises(PayloadError) as caught:
            parse_time("9" * 10_000, "here")

        assert len(str(caught.value)) < 200


# -- property --------------------------------------------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]
)
_timestamps = st.datetimes(timezones=_offsets).map(datetime.isoformat) | st.text(
    alphabet="0123456789-:.TZz+ ", max_size=32
)
_numberish = st.integers() | st.floats() | st.text(alphabet="-0123456789 \u00b2\u0663", max_size=5)
_responder = st.fixed_dictionaries(
    {},
    optional={
        "user": st.fixed_dictionaries({}, optional={"id": _numberish | _json_values})
        | _json_values,
        "acceptedAt": _timestamps | _json_values,
        "status": _json_values,
    },
)
_alert_like = st.fixed_dictionaries(
    {},
    optional={
        "id": _numberish | _json_values,
        "status": st.sampled_from(["PENDING", "ACCEPTED", "RESOLVED", "NEW"]) | _json_values,
        "summary": _json_values,
        "details": _json_values,
        "priority": _json_values,
        "reportTime": _timestamps | _json_values,
        "resolvedOn": _timestamps | _json_values,
        "nextEscalation": _timestamps | _json_values,
        "nextEscalationRuleIndex": _numberish | _json_values,
        "alertSource": st.fixed_dictionaries({}, optional={"id": _numberish}) | _json_values,
        "escalationPolicy": st.fixed_dictionaries({}, optional={"id": _numberish}) | _json_values,
        "responders": st.lists(_responder | _json_values, max_size=3) | _json_values,
    },
)


@given(payload=_alert_like | _json_values)
@example(payload={"id": "--5", "status": "PENDING", "reportTime": "2024-05-01T10:00:00Z"})
@example(payload={"id": 1, "status": "PENDING", "reportTime": "0001-01-01T00:00:00+01:00"})
def test_parse_alert_returns_an_alert_or_raises_payload_error(payload):
    """On any JSON-like value parse_alert returns an Alert or raises PayloadError, nothing else."""
    try:
        alert = parse_alert(payload)
    except PayloadError:
        return
    assert isinstance(alert, Alert)
    assert alert.report_time.tzinfo == UTC


@given(
    payload=_json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "id": _numberish | _json_values,
            "timestamp": _timestamps | _json_values,
            "logEntryType": st.sampled_from(sorted(COMMENT_ENTRY_TYPES)) | _json_values,
            "text": _json_values,
            "vars": st.dictionaries(st.sampled_from(["comment", "content", "x"]), _json_values)
            | _json_values,
        },
    )
)
@example(payload={"id": "\u00b2", "timestamp": "2024-05-01T10:00:00Z", "logEntryType": "X"})
@example(payload={"id": 1, "timestamp": "9999-12-31T23:59:59-01:00", "logEntryType": "X"})
def test_parse_log_entry_returns_an_entry_or_raises_payload_error(payload):
    """On any JSON-like value parse_log_entry returns a LogEntry or raises PayloadError."""
    try:
        entry = parse_log_entry(payload, ALERT_ID)
    except PayloadError:
        return
    assert isinstance(entry, LogEntry)
    assert entry.comment is None or isinstance(entry.comment, str)


@pytest.mark.parametrize("value", ["0\x1f", "5\x1c", "\x1e7", "1\x0b"])
def test_an_id_with_a_separator_character_is_a_payload_error(value):
    """An id string that str.strip() would clean but int() refuses is named, never a crash."""
    with pytest.raises(PayloadError):
        parse_alert({"id": value, "status": "PENDING", "reportTime": "2020-01-01T00:00:00Z"})
