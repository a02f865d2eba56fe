"""What reaches a column is checked when parsed: ids in range, clean text, the tables' limits."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from ilert_statuspage_sync.clients.statuspage import parse_incident
from ilert_statuspage_sync.config import parse_config
from ilert_statuspage_sync.core import storable
from ilert_statuspage_sync.core.parse import parse_alert, parse_id, parse_log_entry
from ilert_statuspage_sync.core.storable import clean_text
from ilert_statuspage_sync.errors import ConfigError, PayloadError
from ilert_statuspage_sync.store.tables import Link, Transition
from ilert_statuspage_sync.sync.report import describe_error
from tests.support.settings import ENV, ORIGIN, minimal_settings, with_value

INT64_MAX = 2**63 - 1
BEYOND = [INT64_MAX + 1, 2**64, 1e20, 9.2e18, "9223372036854775808", 0, -1, -(2**63)]


def _alert(**fields: Any) -> dict[str, Any]:
    return {"id": 5, "status": "PENDING", "reportTime": "2024-05-01T10:00:00Z", **fields}


def _entry(**fields: Any) -> dict[str, Any]:
    return {
        "id": 9,
        "timestamp": "2024-05-01T10:00:00Z",
        "logEntryType": "AlertCommentAddedLogEntry",
        **fields,
    }


def _column(column: Any) -> sa.types.TypeEngine[Any]:
    return column.property.columns[0].type  # type: ignore[no-any-return]


def test_limits_match_the_tables() -> None:
    """The parse-time limits are the columns' own: BigInteger ids, Integer index, String(n)."""
    for column in (Link.alert_id, Link.mirror_policy_id, Link.last_log_entry_id):
        assert isinstance(_column(column), sa.BigInteger)
    assert type(_column(Link.mirror_rule_index)) is sa.Integer  # 32-bit on PostgreSQL
    assert _column(Link.mirror_status).length == storable.TOKEN_LENGTH  # type: ignore[attr-defined]
    assert _column(Link.mirror_priority).length == storable.TOKEN_LENGTH  # type: ignore[attr-defined]
    assert _column(Link.statuspage_status).length == storable.TOKEN_LENGTH  # type: ignore[attr-defined]
    assert _column(Link.alert_summary).length == storable.SUMMARY_LENGTH  # type: ignore[attr-defined]
    assert _column(Link.last_error).length == storable.ERROR_LENGTH  # type: ignore[attr-defined]
    assert _column(Transition.reason).length == storable.ERROR_LENGTH  # type: ignore[attr-defined]
    incident_id = _column(Link.statuspage_incident_id)
    assert incident_id.length == storable.INCIDENT_ID_LENGTH  # type: ignore[attr-defined]
    assert storable.ID_MAX == INT64_MAX and storable.INDEX_MAX == 2**31 - 1


@pytest.mark.parametrize("value", BEYOND, ids=[repr(v) for v in BEYOND])
@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (lambda v: {"id": v}, "alert: field 'id' "),
        (lambda v: {"alertSource": {"id": v}}, "alert 5: alertSource: field 'id' "),
        (lambda v: {"escalationPolicy": {"id": v}}, "alert 5: escalationPolicy: field 'id' "),
    ],
    ids=["alert", "source", "policy"],
)
def test_an_id_a_bigint_cannot_hold_names_its_field(fields, named, value) -> None:
    """Ids beyond int64, 1e20, inexact floats, zero and negatives are refused naming the field."""
    with pytest.raises(PayloadError) as caught:
        parse_alert(_alert(**fields(value)))
    assert named in str(caught.value)


@pytest.mark.parametrize("value", [INT64_MAX + 1, 2**64, 0, -1])
def test_a_responder_id_a_bigint_cannot_hold_names_its_field(value: int) -> None:
    """A numeric responder id outside 1..2^63-1 is refused naming the field."""
    with pytest.raises(PayloadError, match=r"field 'responders\[\]\.user\.id' is "):
        parse_alert(_alert(responders=[{"user": {"id": value}}]))


@pytest.mark.parametrize("value", [INT64_MAX + 1, 1e20, -5, 0])
def test_a_log_entry_id_a_bigint_cannot_hold_names_its_field(value: object) -> None:
    """A log-entry id beyond int64 (or not positive) is refused naming the entry and field."""
    with pytest.raises(PayloadError, match=r"^alert 5: log entry: field 'id' is "):
        parse_log_entry(_entry(id=value), 5)


def test_ids_at_the_int64_edge_are_kept() -> None:
    """2^63-1 is a valid id everywhere; so is an integral float within 2^53."""
    alert = parse_alert(
        _alert(
            id=INT64_MAX,
            escalationPolicy={"id": INT64_MAX},
            alertSource={"id": float(2**53)},
            responders=[{"user": {"id": INT64_MAX}}],
            nextEscalationRuleIndex=2**31 - 1,
        )
    )
    assert (alert.id, alert.escalation_policy_id, alert.source_id) == (
        INT64_MAX,
        INT64_MAX,
        2**53,
    )
    assert alert.responder_ids == (str(INT64_MAX),)
    assert parse_log_entry(_entry(id=INT64_MAX), 5).id == INT64_MAX


@pytest.mark.parametrize("value", [2**31, -1, 1e20])
def test_a_rule_index_an_integer_column_cannot_hold_is_refused(value: object) -> None:
    """nextEscalationRuleIndex is stored in a 32-bit column: beyond it, or negative, is refused."""
    with pytest.raises(PayloadError, match="field 'nextEscalationRuleIndex' is"):
        parse_alert(_alert(nextEscalationRuleIndex=value))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"status": "PENDING" * 5}, "field 'status'"),
        ({"status": "PEND\x00ING"}, "field 'status'"),
        ({"priority": "HIGH\udcff"}, "field 'priority'"),
        ({"responders": [{"user": {"id": "u" * 65}}]}, "field 'responders[].user.id'"),
        ({"responders": [{"user": {"id": "u\x00"}}]}, "field 'responders[].user.id'"),
        ({"nextEscalation": "9999-12-31T12:00:00Z"}, "nextEscalation: '9999-12-31T12:00:00Z'"),
    ],
    ids=["long-status", "nul-status", "surrogate-priority", "long-user", "nul-user", "year-9999"],
)
def test_values_their_column_cannot_hold_are_refused(fields: dict[str, Any], named: str) -> None:
    """Over-long or unprintable enum values and responder ids, edge timestamps: refused, named."""
    with pytest.raises(PayloadError) as caught:
        parse_alert(_alert(**fields))
    assert named in str(caught.value)


def test_odd_text_is_cleaned_not_refused() -> None:
    """Summary, details and comments lose NUL and controls; a lone surrogate becomes U+FFFD."""
    alert = parse_alert(_alert(summary="disk\x00 \udcff full\x1b[0m", details="a\tb\r\nc\x07\x85"))
    assert alert.summary == "disk \ufffd full[0m"
    assert alert.details == "a\tb\r\nc"
    entry = parse_log_entry(_entry(vars={"comment": " \x00looking\ud800 "}), 5)
    assert entry.comment == "looking\ufffd"


@given(st.text(alphabet=st.characters(blacklist_categories=())))
def test_clean_text_is_storable_and_idempotent(text: str) -> None:
    """Cleaned text always encodes as UTF-8, holds no NUL or control character, and stays put."""
    cleaned = clean_text(text)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned
    assert all(char in "\t\n\r" or char.isprintable() or ord(char) > 0x9F for char in cleaned)
    assert clean_text(cleaned) == cleaned


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs"))))
def test_clean_text_keeps_printable_text(text: str) -> None:
    """Text without control characters or surrogates is returned unchanged."""
    assert clean_text(text) == text


@pytest.mark.parametrize(
    "fields",
    [{"id": "i" * 65}, {"id": "ab\x00"}, {"id": ""}, {"status": "s" * 33}, {"status": "x\udcff"}],
    ids=["long-id", "nul-id", "empty-id", "long-status", "surrogate-status"],
)
def test_an_incident_the_columns_cannot_hold_is_a_payload_error(fields: dict[str, Any]) -> None:
    """Statuspage's incident id and status are stored: refused before they reach a column."""
    with pytest.raises(PayloadError, match="statuspage: incident"):
        parse_incident({"id": "abc123", "status": "identified", **fields})


def test_describe_error_keeps_one_line_without_sql() -> None:
    """A database error is described by its first line: no statement, no parameters."""
    error = sa.exc.DataError("INSERT INTO links VALUES (?)", ("secret comment",), ValueError("bad"))
    text = describe_error(error)
    assert text.startswith("DataError: ")
    assert "\n" not in text and "secret comment" not in text and "INSERT" not in text


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), ("7", 7), (7.0, 7), (INT64_MAX, INT64_MAX)]
)
def test_parse_id_reads_an_id_from_any_json(value: object, expected: int) -> None:
    """parse_id accepts what parse_alert accepts as an id (for ids read from other answers)."""
    assert parse_id(value, "alert_id", "statuspage metadata") == expected


@pytest.mark.parametrize("value", [*BEYOND, None, "x", True, [1]])
def test_parse_id_names_what_it_refuses(value: object) -> None:
    """parse_id refuses what a BigInteger id column cannot hold, naming where and the field."""
    with pytest.raises(PayloadError, match=r"^statuspage metadata: field 'alert_id' "):
        parse_id(value, "alert_id", "statuspage metadata")


@pytest.mark.parametrize(
    ("key", "value", "limit"),
    [("name", "n" * 201, 200), ("name", "api\x00", 200), ("page_id", "p" * 65, 64)],
    ids=["long-name", "nul-name", "long-page-id"],
)
def test_config_strings_the_database_stores_fit_their_columns(
    key: str, value: str, limit: int
) -> None:
    """An action name or page id its column cannot hold is a config error naming the key."""
    data = with_value(minimal_settings(), ("incident_actions", 0, key), value)
    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV, origin=ORIGIN)
    message = str(caught.value)
    assert message.startswith(f"{ORIGIN}: incident_actions[0].{key}: ")
    assert f"at most {limit} printable characters" in message
