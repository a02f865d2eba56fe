"""``python -m ilert_statuspage_sync.simulators alert ...``: change a running iLert simulator.

It speaks HTTP to the simulator as a person or a monitoring tool speaks to iLert:
`create` is `POST /api/alerts` and prints the new alert's id (and nothing else, so
`ID=$(... alert create ...)` works), `accept` and `resolve` are
`PUT /api/alerts/{id}/accept|resolve`, and `comment` is an Events API `COMMENT`
event, sent with the alert source's integration key (read from
`GET /api/alert-sources/{id}`) and the alert's `alertKey`, since iLert has no
comment endpoint for API keys.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from ilert_statuspage_sync.simulators._ilert_records import full_name
from ilert_statuspage_sync.simulators._ilert_writes import KEY_USER
from ilert_statuspage_sync.simulators.seed import ILERT_KEY

__all__ = [
    "AlertCommandError",
    "IlertHttp",
    "add_alert_parser",
    "ilert_http",
    "run_alert_command",
    "url_option",
]

URL_ENV = "ILERT_URL"
KEY_ENV = "DEMO_ILERT_KEY"
TIMEOUT = 10.0


class AlertCommandError(Exception):
    """A failure to report as one line; `exit_code` 2 for usage, 1 for the rest."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_alert_parser(commands: Any) -> None:
    """Add the `alert` command and its four verbs to the `commands` subparsers."""
    alert = commands.add_parser(
        "alert",
        help="create, accept, comment on or resolve an alert in a running iLert simulator",
        description="Change alerts in a running iLert simulator over HTTP, as iLert's API does.",
        epilog=(
            f"The simulator's URL comes from --ilert-url or ${URL_ENV} (the simulators print "
            f"it); the API key from ${KEY_ENV}, else the public demo key. Exit codes: 0 done, "
            "1 the simulator refused or could not be reached, 2 a usage error, 70 a bug, "
            "130 interrupted."
        ),
    )
    common = url_option()
    verbs = alert.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser(
        "create",
        parents=[common],
        help="open an alert (POST /api/alerts); prints its id",
        description="Open a PENDING alert on an alert source; prints the new alert's id.",
    )
    create.add_argument("--source", type=int, required=True, help="alert source id, e.g. 101")
    create.add_argument("--summary", required=True, help="the alert's summary")
    create.add_argument("--details", default="", help="the alert's details")
    create.add_argument("--priority", choices=("HIGH", "LOW"), default="HIGH")
    for verb, path in (("accept", "accept"), ("resolve", "resolve")):
        parser = verbs.add_parser(
            verb,
            parents=[common],
            help=f"{verb} an alert (PUT /api/alerts/ID/{path})",
            description=f"{verb.capitalize()} the alert as the API key's user.",
        )
        parser.add_argument("id", type=int, help="the alert id")
    comment = verbs.add_parser(
        "comment",
        parents=[common],
        help="comment on an open alert (a COMMENT event on POST /api/events)",
        description="Add a comment to an open alert through the Events API.",
    )
    comment.add_argument("id", type=int, help="the alert id")
    comment.add_argument("text", help="the comment")
    comment.add_argument(
        "--creator", default=full_name(KEY_USER), help="who wrote it (default: %(default)s)"
    )


def url_option() -> argparse.ArgumentParser:
    """The parent parser of every verb: ``--ilert-url``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ilert-url", help=f"the iLert simulator's base URL (default: ${URL_ENV})")
    return common


@dataclass
class IlertHttp:
    """Requests to a running iLert simulator, as a person's tool sends them."""

    url: str
    key: str
    session: requests.Session

    def call(self, method: str, path: str, body: object = None, *, keyed: bool = True) -> Any:
        headers = {"Accept": "application/json"}
        if keyed:
            headers["Authorization"] = f"Bearer {self.key}"
        try:
            answer = self.session.request(
                method, self.url + path, json=body, headers=headers, timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            raise AlertCommandError(
                f"cannot reach the iLert simulator at {self.url} ({type(exc).__name__}); "
                "start it with `python -m ilert_statuspage_sync.simulators` and set "
                f"{URL_ENV} or --ilert-url to the URL it prints"
            ) from None
        if answer.status_code >= 400:
            raise AlertCommandError(
                f"{method} {path}: the iLert simulator answered {answer.status_code}: "
                f"{_message(answer)}"
            )
        return answer.json() if answer.content else None


def _message(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.reason or "no message"
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else "no message"


def run_alert_command(args: argparse.Namespace) -> str:
    """Carry out `alert VERB`; the line to print. Raises `AlertCommandError`."""
    return ilert_http(args, _VERBS[args.verb])


def ilert_http(
    args: argparse.Namespace, verb: Callable[[IlertHttp, argparse.Namespace], str]
) -> str:
    """Run ``verb`` against the simulator ``--ilert-url`` (or $ILERT_URL) names."""
    url = args.ilert_url or os.environ.get(URL_ENV)
    if not url:
        raise AlertCommandError(
            f"no simulator URL: pass --ilert-url or set {URL_ENV} "
            "(the simulators print it on their first line)",
            exit_code=2,
        )
    if not url.startswith(("http://", "https://")):
        raise AlertCommandError(f"--ilert-url: {url!r} is not an http(s) URL", exit_code=2)
    key = os.environ.get(KEY_ENV) or ILERT_KEY
    with requests.Session() as session:
        return verb(IlertHttp(url.rstrip("/"), key, session), args)


def _create(simulator: IlertHttp, args: argparse.Namespace) -> str:
    body = {
        "summary": args.summary,
        "details": args.details,
        "priority": args.priority,
        "alertSource": {"id": args.source},
    }
    alert = simulator.call("POST", "/api/alerts", body)
    return str(alert["id"])


def _accept(simulator: IlertHttp, args: argparse.Namespace) -> str:
    alert = simulator.call("PUT", f"/api/alerts/{args.id}/accept")
    return f"alert {args.id} {alert['status']}"


def _resolve(simulator: IlertHttp, args: argparse.Namespace) -> str:
    alert = simulator.call("PUT", f"/api/alerts/{args.id}/resolve")
    return f"alert {args.id} {alert['status']}"


def _comment(simulator: IlertHttp, args: argparse.Namespace) -> str:
    alert = simulator.call("GET", f"/api/alerts/{args.id}")
    if alert["status"] == "RESOLVED":
        # iLert would accept the event and drop it: say so rather than pretend.
        raise AlertCommandError(
            f"alert {args.id} is resolved; the Events API only comments on open alerts"
        )
    source = simulator.call("GET", f"/api/alert-sources/{alert['alertSource']['id']}")
    event = {
        "integrationKey": source["integrationKey"],
        "eventType": "COMMENT",
        "alertKey": alert["alertKey"],
        "summary": alert["summary"],
        "comments": [{"creator": args.creator, "content": args.text}],
    }
    simulator.call("POST", "/api/events", event, keyed=False)
    return f"comment added to alert {args.id}"


_VERBS = {"create": _create, "accept": _accept, "resolve": _resolve, "comment": _comment}
