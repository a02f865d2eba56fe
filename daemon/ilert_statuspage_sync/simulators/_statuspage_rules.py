"""Request validation for the simulated Statuspage incident writes.

It owns the documented rules of `POST`/`PATCH`/`PUT /v1/pages/{page_id}/incidents`:
the `incident` wrapper (400 when missing, as Rails answers), `name` required on
create and at most 255 characters, `body` at most 25000, the 8 statuses, the
impact enum, metadata whose top-level values are objects, and the optional rule
that realtime incidents refuse maintenance statuses. Failures are 422s.
"""

from __future__ import annotations

from typing import Any

from ilert_statuspage_sync.simulators._server import HttpError, parse_timestamp

__all__ = [
    "CLOSED_STATUSES",
    "MAINTENANCE_FLAGS",
    "check_realtime_status",
    "check_schedule",
    "component_fields",
    "incident_fields",
    "validate",
]

JsonObject = dict[str, Any]

REALTIME_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
STATUSES = REALTIME_STATUSES + MAINTENANCE_STATUSES
CLOSED_STATUSES = frozenset({"resolved", "completed"})
IMPACTS = ("none", "maintenance", "minor", "major", "critical")
# A maintenance's switches, as the spec names them (`scheduled_auto_transition` is an
# alias of `scheduled_auto_in_progress`, stored under that name).
MAINTENANCE_FLAGS = (
    "scheduled_remind_prior",
    "scheduled_auto_in_progress",
    "scheduled_auto_completed",
    "auto_transition_to_maintenance_state",
    "auto_transition_to_operational_state",
    "auto_transition_deliver_notifications_at_start",
    "auto_transition_deliver_notifications_at_end",
)
NAME_LIMIT = 255
BODY_LIMIT = 25000


def incident_fields(body: object) -> JsonObject:
    """The `incident` object of a write; Rails answers 400 when the wrapper is missing."""
    fields = body.get("incident") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise HttpError(400, "param is missing or the value is empty: incident")
    return fields


def component_fields(body: object) -> JsonObject:
    """The `component` object of a component write (400 when the wrapper is missing)."""
    fields = body.get("component") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise HttpError(400, "param is missing or the value is empty: component")
    return fields


def _label(field_name: str) -> str:
    return field_name.replace("_", " ").capitalize()


def _check_name(fields: JsonObject, *, required: bool) -> None:
    if "name" not in fields and not required:
        return
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise HttpError(422, "Name can't be blank")
    if len(name) > NAME_LIMIT:
        raise HttpError(422, f"Name is too long (maximum is {NAME_LIMIT} characters)")


def _check_body(fields: JsonObject) -> None:
    body = fields.get("body")
    if body is not None and not isinstance(body, str):
        raise HttpError(422, "Body must be a string")
    if body is not None and len(body) > BODY_LIMIT:
        raise HttpError(422, f"Body is too long (maximum is {BODY_LIMIT} characters)")


def _check_choice(
    fields: JsonObject, name: str, allowed: tuple[str, ...], *, nullable: bool
) -> None:
    if name not in fields or (nullable and fields[name] is None):
        return
    if fields[name] not in allowed:
        raise HttpError(422, f"{_label(name)} {fields[name]!r} is not one of {list(allowed)}")


def _check_metadata(fields: JsonObject) -> None:
    if "metadata" not in fields:
        return
    metadata = fields["metadata"]
    if not isinstance(metadata, dict):
        raise HttpError(422, "Metadata must be an object")
    for key, value in metadata.items():
        if not isinstance(value, dict):
            raise HttpError(422, f"Metadata top-level values must be objects (key {key!r})")


def _check_types(fields: JsonObject) -> None:
    notify = fields.get("deliver_notifications")
    if notify is not None and not isinstance(notify, bool):
        raise HttpError(422, "Deliver notifications must be true or false")
    reminders = fields.get("reminder_intervals")
    if reminders is not None and not isinstance(reminders, str):
        raise HttpError(422, 'Reminder intervals must be a string such as "[3, 6, 12, 24]"')
    for name in ("scheduled_for", "scheduled_until"):
        if fields.get(name) is not None and parse_timestamp(fields[name]) is None:
            raise HttpError(422, f"{_label(name)} is not a valid date-time")
    for name in (*MAINTENANCE_FLAGS, "scheduled_auto_transition"):
        if fields.get(name) is not None and not isinstance(fields[name], bool):
            raise HttpError(422, f"{_label(name)} must be true or false")


def validate(fields: JsonObject, *, creating: bool) -> None:
    """Raise a 422 `HttpError` for the first documented rule `fields` breaks."""
    _check_name(fields, required=creating)
    _check_body(fields)
    _check_choice(fields, "status", STATUSES, nullable=False)
    _check_choice(fields, "impact_override", IMPACTS, nullable=True)
    _check_metadata(fields)
    _check_types(fields)


def check_realtime_status(status: object) -> None:
    """The strict reading of the docs: maintenance statuses are for scheduled incidents only."""
    if status in MAINTENANCE_STATUSES:
        raise HttpError(422, f"Status '{status}' is not valid for a realtime incident")


def check_schedule(scheduled_for: str | None, scheduled_until: str | None) -> None:
    """A maintenance must end after it starts: equal times were observed to be a 422."""
    start, end = parse_timestamp(scheduled_for), parse_timestamp(scheduled_until)
    if start is not None and end is not None and end <= start:
        raise HttpError(422, "Scheduled until must be after scheduled for")
