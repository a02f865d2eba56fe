"""Turn iLert's status-model JSON into ``core.bridge_model`` values, or name the bad field.

The same rules as ``core.parse`` for an alert: unknown fields are ignored,
unknown enum values are kept as read (short, printable tokens), a missing
optional field takes its default, and a field we need that is missing or of
the wrong type raises ``PayloadError`` naming the object and the field, so a
listing reports that one object and keeps the others. Ids go through
``core.vendor_ids`` (a JSON integer or decimal string within what the state
database stores); timestamps through ``core.parse.parse_time`` (aware UTC, a
bare one read as UTC). Free text is bounded, then cleaned.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.core.bridge_model import (
    AffectedService,
    IlertIncident,
    IlertService,
    MaintenanceWindow,
)
from ilert_statuspage_sync.core.parse import parse_time
from ilert_statuspage_sync.core.public_text import bounded
from ilert_statuspage_sync.core.storable import ID_MAX, TOKEN_LENGTH, clean_text
from ilert_statuspage_sync.core.vendor_ids import vendor_id
from ilert_statuspage_sync.errors import PayloadError

__all__ = ["parse_incident", "parse_service", "parse_window"]


def parse_incident(raw: object) -> IlertIncident:
    """One element of ``GET /api/incidents`` (or the body of ``GET /api/incidents/{id}``)."""
    payload = _object(raw, "incident")
    incident_id = _id(payload.get("id"), "id", "incident")
    where = f"incident {incident_id}"
    notify = payload.get("sendNotification")
    if notify is not None and not isinstance(notify, bool):
        raise PayloadError(
            f"{where}: field 'sendNotification' must be a boolean, got {_kind(notify)}"
        )
    return IlertIncident(
        id=incident_id,
        summary=_text(payload, "summary", where) or f"iLert incident {incident_id}",
        status=_token(payload, "status", where),
        message=_text(payload, "message", where),
        # Absent: iLert was not asked to notify, so neither is anyone downstream.
        send_notification=bool(notify),
        created_at=_time(payload, "createdAt", where),
        updated_at=_time(payload, "updatedAt", where),
        resolved_on=_time(payload, "resolvedOn", where),
        affected=_affected(payload.get("affectedServices"), where),
    )


def parse_service(raw: object) -> IlertService:
    """One element of ``GET /api/services`` (or the body of ``GET /api/services/{id}``)."""
    payload = _object(raw, "service")
    service_id = _id(payload.get("id"), "id", "service")
    where = f"service {service_id}"
    return IlertService(
        id=service_id,
        name=_text(payload, "name", where) or f"iLert service {service_id}",
        status=_token(payload, "status", where),
    )


def parse_window(raw: object) -> MaintenanceWindow:
    """One element of ``GET /api/maintenance-windows`` (or ``.../{id}``).

    The spec's ``MaintenanceWindow`` lists no ``id`` although ``/{id}`` exists:
    a window without a usable one cannot be followed, so it is unreadable.
    """
    payload = _object(raw, "maintenance window")
    window_id = _id(payload.get("id"), "id", "maintenance window")
    where = f"maintenance window {window_id}"
    return MaintenanceWindow(
        id=window_id,
        summary=_text(payload, "summary", where),
        description=_text(payload, "description", where),
        start=parse_time(payload.get("start"), f"{where}: start"),
        end=parse_time(payload.get("end"), f"{where}: end"),
        timezone=_text(payload, "timezone", where) or None,
        service_ids=_ref_ids(payload.get("services"), "services", where),
        source_ids=_ref_ids(payload.get("alertSources"), "alertSources", where),
    )


def _affected(value: object, where: str) -> tuple[AffectedService, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError(f"{where}: field 'affectedServices' must be a list, got {_kind(value)}")
    affected = []
    for item in value:
        entry = _object(item, f"{where}: affectedServices[]")
        service = entry.get("service")
        if not isinstance(service, Mapping):
            raise PayloadError(
                f"{where}: field 'affectedServices[].service' must be an object, "
                f"got {_kind(service)}"
            )
        service_id = _id(service.get("id"), "affectedServices[].service.id", where)
        impact = _token(entry, "impact", where, field="affectedServices[].impact")
        affected.append(AffectedService(service_id=service_id, impact=impact))
    return tuple(affected)


def _ref_ids(value: object, key: str, where: str) -> tuple[int, ...]:
    """The ids of a window's ``services`` or ``alertSources`` (objects with an ``id``)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError(f"{where}: field {key!r} must be a list, got {_kind(value)}")
    ids = []
    for item in value:
        entry = _object(item, f"{where}: {key}[]")
        ids.append(_id(entry.get("id"), f"{key}[].id", where))
    return tuple(ids)


def _object(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PayloadError(f"{what}: expected a JSON object, got {_kind(value)}")
    return value


def _id(value: object, key: str, where: str) -> int:
    if value is None:
        raise PayloadError(f"{where}: field {key!r} is missing")
    number = vendor_id(value)
    if number is None:
        shown = _shown_id(value)
        raise PayloadError(
            f"{where}: field {key!r} must be an id (an integer 1..{ID_MAX}), got {shown}"
        )
    return number


def _token(payload: Mapping[str, Any], key: str, where: str, *, field: str | None = None) -> str:
    """An enum value (status, impact), kept as read when unknown; short and printable."""
    field = field or key
    value = payload.get(key)
    if value is None:
        raise PayloadError(f"{where}: field {field!r} is missing")
    if not isinstance(value, str):
        raise PayloadError(f"{where}: field {field!r} must be a string, got {_kind(value)}")
    if not value or len(value) > TOKEN_LENGTH or clean_text(value) != value:
        raise PayloadError(
            f"{where}: field {field!r} must be 1 to {TOKEN_LENGTH} printable characters, "
            f"got {value[:40]!r}"
        )
    return sys.intern(value)


def _text(payload: Mapping[str, Any], key: str, where: str) -> str:
    """Optional free text, bounded then cleaned; empty when absent."""
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: field {key!r} must be a string, got {_kind(value)}")
    return clean_text(bounded(value))


def _shown_id(value: object) -> str:
    """A refused id as an error shows it: never the whole of a huge number or string."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return _kind(value)
    if isinstance(value, int):
        # str() of an int past 4,300 digits raises; its size says enough.
        return str(value) if value.bit_length() <= 128 else f"a {value.bit_length()}-bit number"
    return repr(value[:40])


def _time(payload: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = payload.get(key)
    return None if value is None else parse_time(value, f"{where}: {key}")


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names |= {int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
