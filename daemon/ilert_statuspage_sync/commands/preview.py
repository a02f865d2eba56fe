"""``preview ALERT_ID``: what the config would publish of one real iLert alert, writing nothing.

It reads the alert and its timeline from iLert with the config's key and URL, then
prints, for each incident action that mirrors the alert's source, the incident name,
every body and the status sequence (``core.alert_preview``). It opens no database
and calls no Statuspage API. Exits 0 when printed, 1 when iLert is unreachable, refuses
the key or answers something unreadable, or a template fails on the alert; 2 when
iLert has no such alert.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ilert_statuspage_sync.clients.http import RetryPolicy
from ilert_statuspage_sync.commands.output import (
    EXIT_FAILED,
    EXIT_OK,
    RunFailureError,
    reader_may_leave,
)
from ilert_statuspage_sync.config import Config, IncidentAction
from ilert_statuspage_sync.core.alert_preview import (
    ActionView,
    action_lines,
    alert_lines,
    comment_lines,
)
from ilert_statuspage_sync.core.model import Alert, LogEntry
from ilert_statuspage_sync.core.parse import parse_alert, parse_log_entry
from ilert_statuspage_sync.core.publish import PublishContext
from ilert_statuspage_sync.errors import ApiError, PayloadError, PermanentApiError, UsageError
from ilert_statuspage_sync.service.wiring import build_services

__all__ = ["preview"]

# A person waits for the answer: short timeouts and one retry, not the daemon's patience.
_TIMEOUT = (5.0, 15.0)
_RETRY = RetryPolicy(attempts=2, max_delay=2.0)
_KEY_REFUSED = (401, 403)


def preview(config: Config, args: argparse.Namespace) -> int:
    """Print what each incident action would publish of the alert; write nothing."""
    alert, entries, raw_entries, now = _read(config, args.alert_id)
    lines = [*alert_lines(alert, entries), *comment_lines(raw_entries)]
    actions = [a for a in config.incident_actions if alert.source_id in a.alert_sources]
    rendered = True
    for action in actions:
        more, ok = action_lines(alert, entries, _view(config, action), now=now)
        lines += more
        rendered = rendered and ok
    if not actions:
        lines.append(
            f"no incident action mirrors alert source {alert.source_id}: nothing would be published"
        )
    lines.append("preview only: nothing was written (no database, no Statuspage call)")
    with reader_may_leave():
        for line in lines:
            print(line)
    return EXIT_OK if rendered else EXIT_FAILED


def _read(
    config: Config, alert_id: int
) -> tuple[Alert, list[LogEntry], list[dict[str, Any]], datetime]:
    """The alert, its timeline (parsed and raw) and iLert's clock, or one clear error."""
    services = build_services(config, timeout=_TIMEOUT, retry=_RETRY)
    url = config.ilert.api_url
    try:
        ilert = services.ilert
        alert = parse_alert(_asked(url, alert_id, "the alert", lambda: ilert.get_alert(alert_id)))
        raw = _asked(url, alert_id, "its timeline", lambda: ilert.raw_log_entries(alert_id))
        entries = [parse_log_entry(item, alert_id) for item in raw]
        now = ilert.server_time() or datetime.now(UTC)
    except PayloadError as error:
        raise RunFailureError(f"iLert ({url}) answered something unreadable: {error}") from None
    finally:
        services.close()
    kept = [item for item in raw if isinstance(item, dict)]  # parsing refused any other
    return alert, sorted(entries, key=lambda entry: entry.id), kept, now


def _asked(url: str, alert_id: int, what: str, call: Callable[[], Any]) -> Any:
    """``call``'s answer; iLert's refusals and outages as the command's one-line errors."""
    try:
        return call()
    except PermanentApiError as error:
        if error.status == 404:
            raise UsageError(
                f"alert {alert_id} does not exist in iLert ({url}); "
                "check the id (the number in the alert's URL)"
            ) from None
        if error.status in _KEY_REFUSED:
            raise RunFailureError(
                f"iLert ({url}) refused the API key (HTTP {error.status}) reading {what}; "
                "check [ilert] api_key_file or api_key_env and the key's permissions"
            ) from None
        raise RunFailureError(f"iLert ({url}) refused reading {what}: {error}") from None
    except ApiError as error:
        raise RunFailureError(
            f"iLert ({url}) could not be read ({what}): {error}; try again later"
        ) from None


def _view(config: Config, action: IncidentAction) -> ActionView:
    context = PublishContext(
        action.name, action.page_id, config.ilert.api_url, action.notify_subscribers
    )
    return ActionView(
        context,
        action.publish,
        config.lifecycle,
        manual=action.manual,
        shared=action.group == "action",
    )
