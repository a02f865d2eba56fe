"""Turn iLert JSON into core values, or say precisely which field is wrong.

iLert adds fields and enum values in most releases, so unknown fields are
ignored and unknown enum values are kept as strings. A field we need that is
missing or of the wrong type raises ``PayloadError`` naming the alert and the
field, so one odd alert is reported and skipped while the others sync.

What reaches the state database is checked here against what its column can
hold (``core.storable``): an id beyond a signed 64-bit integer is refused with
the field named, before any write is sent; free text (summary, details,
comments) is first cut to ``VENDOR_TEXT_LIMIT`` characters (``core.public_text``:
no later step sees more, whatever iLert sends), then cleaned of NUL, lone
surrogates and control characters.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.public_text import bounded
from ilert_statuspage_sync.core.storable import (
    EARLIEST_TIME,
    ID_MAX,
    INDEX_MAX,
    LATEST_TIME,
    TOKEN_LENGTH,
    USER_ID_LENGTH,
    clean_text,
)
from ilert_statuspage_sync.errors import PayloadError

__all__ = [
    "COMMENT_ENTRY_TYPES",
    "comment_field",
    "comment_text",
    "entry_field",
    "parse_alert",
    "parse_id",
    "parse_log_entry",
    "parse_time",
]

COMMENT_ENTRY_TYPES = frozenset(
    {
        "AlertCommentAddedLogEntry",
        "AlertCommentAddedBySystemLogEntry",
        "AlertCommentPublishedLogEntry",
    }
)

_INTEGER = re.compile(r"-?[0-9]{1,19}")
# Integral floats beyond this are rounded: 1e20 is no one's id.
_EXACT_FLOAT = 2**53

# Where iLert puts a comment's text inside ``vars`` is undocumented; these are
# the plausible keys, most specific first. ``text`` is the fallback.
_COMMENT_VAR_KEYS = ("comment", "content", "commentText", "comment_text", "text", "body")


def parse_time(value: object, where: str) -> datetime:
    """Parse an ISO-8601 timestamp of any precision into an aware UTC datetime."""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: expected an ISO-8601 string, got {_type_name(value)}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            # iLert documents UTC; a bare timestamp is read as UTC rather than local time.
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PayloadError(f"{where}: {value[:64]!r} is not an ISO-8601 timestamp") from None
    if not EARLIEST_TIME <= parsed <= LATEST_TIME:
        raise PayloadError(
            f"{where}: {value[:64]!r} is outside the years 1 to 9999 (with a day to spare)"
        )
    return parsed


def parse_alert(payload: object) -> Alert:
    """Parse one element of ``GET /api/alerts`` (or the body of ``GET /api/alerts/{id}``)."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"alert: expected a JSON object, got {_type_name(payload)}")
    alert_id = _require_id(payload, "id", "alert")
    where = f"alert {alert_id}"
    status = _token(_require_str(payload, "status", where), "status", where)
    priority = _optional_str(payload, "priority", where)
    return Alert(
        id=alert_id,
        source_id=_nested_id(payload, "alertSource", where),
        summary=_text(_optional_str(payload, "summary", where) or f"iLert alert {alert_id}"),
        details=_text(_optional_str(payload, "details", where) or ""),
        status=status,
        priority=_token(priority, "priority", where) if priority else "HIGH",
        report_time=parse_time(payload.get("reportTime"), f"{where}: reportTime"),
        resolved_on=_optional_time(payload, "resolvedOn", where),
        responder_ids=_responder_ids(payload.get("responders"), where),
        accepted_at=_accepted_at(payload.get("responders"), where),
        escalation_policy_id=_nested_id(payload, "escalationPolicy", where),
        escalation_rule_index=_optional_int(
            payload, "nextEscalationRuleIndex", where, 0, INDEX_MAX
        ),
        next_escalation=_optional_time(payload, "nextEscalation", where),
        source_name=_source_name(payload.get("alertSource")),
    )


def parse_log_entry(payload: object, alert_id: int) -> LogEntry:
    """Parse one element of ``GET /api/alerts/{id}/log-entries``."""
    where = f"alert {alert_id}: log entry"
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{where}: expected a JSON object, got {_type_name(payload)}")
    entry_id = _require_id(payload, "id", where)
    where = f"{where} {entry_id}"
    entry_type = _require_str(payload, "logEntryType", where)
    return LogEntry(
        id=entry_id,
        timestamp=parse_time(payload.get("timestamp"), f"{where}: timestamp"),
        type=entry_type,
        comment=comment_text(payload) if entry_type in COMMENT_ENTRY_TYPES else None,
    )


def comment_text(entry: Mapping[str, Any]) -> str:
    """The comment's content: from ``vars`` where iLert put it there, else ``text``."""
    field = comment_field(entry)
    return _text(entry_field(entry, field)).strip() if field else ""


def comment_field(entry: Mapping[str, Any]) -> str | None:
    """Which field ``comment_text`` reads (``vars.KEY`` or ``text``); None when none is text."""
    variables = entry.get("vars")
    if isinstance(variables, Mapping):
        for key in _COMMENT_VAR_KEYS:
            value = variables.get(key)
            if isinstance(value, str) and value.strip():
                return f"vars.{key}"
    return "text" if isinstance(entry.get("text"), str) else None


def entry_field(entry: Mapping[str, Any], field: str) -> str:
    """The string at ``field`` as ``comment_field`` names it (empty when it is not one)."""
    holder: object = entry
    if field.startswith("vars."):
        holder, field = entry.get("vars"), field.removeprefix("vars.")
    value = holder.get(field) if isinstance(holder, Mapping) else None
    return value if isinstance(value, str) else ""


def _text(value: str) -> str:
    """Free vendor text as kept: bounded before anything else looks at it, then cleaned."""
    return clean_text(bounded(value))


def _source_name(value: object) -> str | None:
    # Only templates show it: an odd value is left out rather than failing the alert.
    name = value.get("name") if isinstance(value, Mapping) else None
    return sys.intern(_text(name)) if isinstance(name, str) else None  # shared, as a token


def _responder_ids(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError(f"{where}: responders: expected a list, got {_type_name(value)}")
    ids: set[str] = set()
    for responder in value:
        user = responder.get("user") if isinstance(responder, Mapping) else None
        user_id = user.get("id") if isinstance(user, Mapping) else None
        if isinstance(user_id, (int, str)) and not isinstance(user_id, bool):
            ids.add(_user_id(user_id, where))
    return tuple(sorted(ids))


def _user_id(value: int | str, where: str) -> str:
    """A responder's id as stored: a number in id range, or short clean text."""
    field = "responders[].user.id"
    if isinstance(value, int):
        # Shared, as a token: the same few people respond to many of the open alerts held.
        return sys.intern(str(_in_range(value, value, field, where, 1, ID_MAX)))
    if len(value) > USER_ID_LENGTH or clean_text(value) != value:
        raise PayloadError(
            f"{where}: field {field!r} must be a number or at most {USER_ID_LENGTH} "
            f"printable characters, got {value[:32]!r}"
        )
    return sys.intern(value)


def _accepted_at(value: object, where: str) -> datetime | None:
    if not isinstance(value, list):
        return None
    times = [
        parse_time(responder["acceptedAt"], f"{where}: responders[].acceptedAt")
        for responder in value
        if isinstance(responder, Mapping) and responder.get("acceptedAt") is not None
    ]
    return min(times, default=None)


def parse_id(value: object, key: str, where: str) -> int:
    """An id as the state database stores it (1..2^63-1), from any vendor's JSON.

    For ids read elsewhere (``metadata.ilert.alert_id`` on Statuspage, say):
    a number, an integral float within 2^53 or a numeric string; else a
    PayloadError naming ``where`` and ``key``.
    """
    return _require_id({key: value}, key, where)


def _require_id(payload: Mapping[str, Any], key: str, where: str) -> int:
    value = payload.get(key)
    if value is None:
        raise PayloadError(f"{where}: field {key!r} is missing")
    number = _as_int(value)
    if number is None:
        raise PayloadError(f"{where}: field {key!r} must be an integer, got {_type_name(value)}")
    return _in_range(number, value, key, where, 1, ID_MAX)


def _optional_int(
    payload: Mapping[str, Any], key: str, where: str, low: int, high: int
) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    number = _as_int(value)
    if number is None:
        raise PayloadError(f"{where}: field {key!r} must be a number, got {_type_name(value)}")
    return _in_range(number, value, key, where, low, high)


def _in_range(number: int, value: object, key: str, where: str, low: int, high: int) -> int:
    """``number`` if its column can hold it; else the error names the field and the range."""
    # Past 2**53 a float has lost the low digits: refuse rather than guess.
    exact = not isinstance(value, float) or abs(number) <= _EXACT_FLOAT
    if exact and low <= number <= high:
        return number
    if not exact:
        raise PayloadError(f"{where}: field {key!r} is {value!r}, too large a float to be exact")
    shown = (
        str(number)
        if len(str(number)) <= 40
        else f"{str(number)[:20]}... ({len(str(number))} digits)"
    )
    raise PayloadError(
        f"{where}: field {key!r} is {shown}, outside {low}..{high} "
        "(what the state database stores for it)"
    )


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        # int() and str.strip() disagree on what is blank ("0\x1f"): parse what was matched.
        digits = value.strip(" \t\r\n")
        return int(digits) if _INTEGER.fullmatch(digits) else None
    return None


def _nested_id(payload: Mapping[str, Any], key: str, where: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where}: field {key!r} must be an object, got {_type_name(value)}")
    return _optional_int(value, "id", f"{where}: {key}", 1, ID_MAX)


def _token(value: str, key: str, where: str) -> str:
    """An enum-like value (status, priority): short and printable, as its column holds it."""
    if len(value) > TOKEN_LENGTH or clean_text(value) != value:
        raise PayloadError(
            f"{where}: field {key!r} must be at most {TOKEN_LENGTH} printable characters, "
            f"got {value[:40]!r}"
        )
    # One string per distinct value, shared by every alert: a daemon holds the latest
    # snapshot of each open alert, and 100,000 copies of "ACCEPTED" are not free.
    return sys.intern(value)


def _require_str(payload: Mapping[str, Any], key: str, where: str) -> str:
    value = _optional_str(payload, key, where)
    if value is None:
        raise PayloadError(f"{where}: field {key!r} is missing")
    return value


def _optional_str(payload: Mapping[str, Any], key: str, where: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: field {key!r} must be a string, got {_type_name(value)}")
    return value


def _optional_time(payload: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = payload.get(key)
    return None if value is None else parse_time(value, f"{where}: {key}")


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names |= {int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
