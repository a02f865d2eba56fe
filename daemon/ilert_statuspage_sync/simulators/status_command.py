"""``python -m ilert_statuspage_sync.simulators incident|service|window ...``: iLert's status model.

It changes a running iLert simulator over HTTP as a person changes iLert:
`incident create|update|resolve` are `POST /api/incidents` and
`PUT /api/incidents/{id}`; `service create|set` are `POST /api/services` and
`PUT /api/services/{id}`; `window create|edit|delete` are `POST`, `PUT` and
`DELETE /api/maintenance-windows[/{id}]`. A create prints the new id and nothing
else, so `ID=$(... incident create ...)` works. A window's times are ISO-8601
or relative to now on this machine's clock (`now`, `+30m`, `+2h`, `-1d`).
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ilert_statuspage_sync.simulators._ilert_status_records import (
    INCIDENT_ORDER,
    SERVICE_ORDER,
)
from ilert_statuspage_sync.simulators.alert_command import (
    AlertCommandError,
    IlertHttp,
    ilert_http,
    url_option,
)

__all__ = ["STATUS_COMMANDS", "add_status_parsers", "run_status_command"]

STATUS_COMMANDS = ("incident", "service", "window")
_RELATIVE = re.compile(r"([+-])(\d{1,6})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_EPILOG = (
    "The simulator's URL comes from --ilert-url or $ILERT_URL; the API key from "
    "$DEMO_ILERT_KEY, else the public demo key. Exit codes: 0 done, 1 the simulator "
    "refused or could not be reached, 2 a usage error, 70 a bug, 130 interrupted."
)


def _moment(text: str) -> str:
    """A window time as the API takes it: ISO-8601 as given, or ``now``/``+30m`` from now."""
    if text == "now":
        return datetime.now(UTC).isoformat()
    match = _RELATIVE.fullmatch(text)
    if match is not None:
        sign, amount, unit = match.groups()
        offset = timedelta(**{_UNITS[unit]: int(amount) * (-1 if sign == "-" else 1)})
        return (datetime.now(UTC) + offset).isoformat()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither ISO-8601 nor now, +30m, +2h, -1d"
        ) from None
    return text


def _impact(text: str) -> tuple[int, str]:
    """``ID:IMPACT`` of ``--service`` on an incident, e.g. ``3:MAJOR_OUTAGE``."""
    service, _, impact = text.partition(":")
    if not service.isdigit() or impact not in SERVICE_ORDER:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not SERVICE_ID:IMPACT with IMPACT one of {', '.join(SERVICE_ORDER)}"
        )
    return int(service), impact


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _verb(verbs: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = verbs.add_parser(
        name,
        parents=[url_option()],
        help=help_text,
        description=_sentence(help_text),
        epilog=_EPILOG,
    )
    return parser


def _command(commands: Any, name: str, help_text: str) -> Any:
    parser = commands.add_parser(
        name, help=help_text, description=_sentence(help_text), epilog=_EPILOG
    )
    return parser.add_subparsers(dest="verb", metavar="VERB", required=True)


def add_status_parsers(commands: Any) -> None:
    """Add the `incident`, `service` and `window` commands to the `commands` subparsers."""
    incidents = _command(commands, "incident", "open, update or resolve an iLert incident")
    create = _verb(incidents, "create", "open an incident (POST /api/incidents); prints its id")
    create.add_argument("--summary", required=True, help="the incident's summary")
    update = _verb(incidents, "update", "post an update (PUT /api/incidents/ID)")
    update.add_argument("id", type=int, help="the incident id")
    update.add_argument("--summary", help="a new summary")
    for parser in (create, update):
        parser.add_argument("--status", choices=INCIDENT_ORDER, help="the incident status")
        parser.add_argument("--message", help="the update's message")
        parser.add_argument(
            "--service",
            type=_impact,
            action="append",
            metavar="ID:IMPACT",
            help="an affected service and its impact, e.g. 3:DEGRADED (repeatable; "
            "on update the list replaces the old one)",
        )
    create.add_argument("--notify", action="store_true", help="sendNotification: true")
    resolve = _verb(incidents, "resolve", "resolve an incident (PUT /api/incidents/ID)")
    resolve.add_argument("id", type=int, help="the incident id")
    resolve.add_argument("--message", help="the closing message")

    services = _command(commands, "service", "create an iLert service or set its status")
    service = _verb(services, "create", "create a service (POST /api/services); prints its id")
    service.add_argument("--name", required=True, help="the service's name")
    service.add_argument("--status", choices=SERVICE_ORDER, default="OPERATIONAL")
    status = _verb(services, "set", "set a service's status (PUT /api/services/ID)")
    status.add_argument("id", type=int, help="the service id")
    status.add_argument("status", choices=SERVICE_ORDER, help="the new status")

    windows = _command(commands, "window", "plan, edit or delete an iLert maintenance window")
    window = _verb(
        windows, "create", "plan a window (POST /api/maintenance-windows); prints its id"
    )
    window.add_argument("--summary", required=True, help="the window's summary")
    window.add_argument("--start", type=_moment, required=True, help="ISO-8601, now or +30m")
    window.add_argument("--end", type=_moment, required=True, help="ISO-8601 or +2h")
    edit = _verb(windows, "edit", "change a window (PUT /api/maintenance-windows/ID)")
    edit.add_argument("id", type=int, help="the window id")
    edit.add_argument("--summary", help="a new summary")
    edit.add_argument("--start", type=_moment, help="a new start: ISO-8601, now or +30m")
    edit.add_argument("--end", type=_moment, help="a new end: ISO-8601 or +2h")
    for parser in (window, edit):
        parser.add_argument("--description", help="the window's description")
        parser.add_argument(
            "--service", type=int, action="append", help="a service id (repeatable)"
        )
        parser.add_argument("--source", type=int, action="append", help="an alert source id")
    delete = _verb(windows, "delete", "delete a window (DELETE /api/maintenance-windows/ID)")
    delete.add_argument("id", type=int, help="the window id")


def run_status_command(args: argparse.Namespace) -> str:
    """Carry out `incident|service|window VERB`; the line to print. Raises `AlertCommandError`."""
    return ilert_http(args, _VERBS[(args.command, args.verb)])


def _given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _affected(pairs: list[tuple[int, str]] | None) -> list[dict[str, Any]] | None:
    if pairs is None:
        return None
    return [{"impact": impact, "service": {"id": sid}} for sid, impact in pairs]


def _refs(ids: list[int] | None) -> list[dict[str, int]] | None:
    return None if ids is None else [{"id": i} for i in ids]


def _incident_create(http: IlertHttp, args: argparse.Namespace) -> str:
    body = _given(
        summary=args.summary,
        status=args.status,
        message=args.message,
        affectedServices=_affected(args.service),
        sendNotification=args.notify,
    )
    return str(http.call("POST", "/api/incidents", body)["id"])


def _incident_update(http: IlertHttp, args: argparse.Namespace) -> str:
    body = _given(
        summary=args.summary,
        status=args.status,
        message=args.message,
        affectedServices=_affected(args.service),
    )
    if not body:
        raise AlertCommandError("nothing to update: give --status, --message, ...", exit_code=2)
    incident = http.call("PUT", f"/api/incidents/{args.id}", body)
    return f"incident {args.id} {incident['status']}"


def _incident_resolve(http: IlertHttp, args: argparse.Namespace) -> str:
    body = _given(status="RESOLVED", message=args.message)
    incident = http.call("PUT", f"/api/incidents/{args.id}", body)
    return f"incident {args.id} {incident['status']}"


def _service_create(http: IlertHttp, args: argparse.Namespace) -> str:
    body = {"name": args.name, "status": args.status}
    return str(http.call("POST", "/api/services", body)["id"])


def _service_set(http: IlertHttp, args: argparse.Namespace) -> str:
    service = http.call("PUT", f"/api/services/{args.id}", {"status": args.status})
    return f"service {args.id} {service['status']}"


def _window_fields(args: argparse.Namespace) -> dict[str, Any]:
    return _given(
        summary=args.summary,
        description=args.description,
        start=args.start,
        end=args.end,
        services=_refs(args.service),
        alertSources=_refs(args.source),
    )


def _window_create(http: IlertHttp, args: argparse.Namespace) -> str:
    return str(http.call("POST", "/api/maintenance-windows", _window_fields(args))["id"])


def _window_edit(http: IlertHttp, args: argparse.Namespace) -> str:
    body = _window_fields(args)
    if not body:
        raise AlertCommandError("nothing to change: give --start, --end, ...", exit_code=2)
    window = http.call("PUT", f"/api/maintenance-windows/{args.id}", body)
    return f"window {args.id} {window['start']} to {window['end']}"


def _window_delete(http: IlertHttp, args: argparse.Namespace) -> str:
    http.call("DELETE", f"/api/maintenance-windows/{args.id}")
    return f"window {args.id} deleted"


_VERBS = {
    ("incident", "create"): _incident_create,
    ("incident", "update"): _incident_update,
    ("incident", "resolve"): _incident_resolve,
    ("service", "create"): _service_create,
    ("service", "set"): _service_set,
    ("window", "create"): _window_create,
    ("window", "edit"): _window_edit,
    ("window", "delete"): _window_delete,
}
