"""Manual trigger mode: is the alert a person names one the action can mirror?

``trigger`` asks iLert before it stores anything, when it can: an alert iLert
does not have (404) or of a source the action does not mirror is refused
(``UsageError``, exit 2). When iLert cannot be asked (no key in this shell,
unreachable, the key refused) the trigger is stored with a warning line; the
daemon then reads the alert on its passes and backs off if iLert refuses it.
"""

from __future__ import annotations

from pathlib import Path

from ilert_statuspage_sync.clients.http import RetryPolicy
from ilert_statuspage_sync.config import Config, IncidentAction, load_config
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.errors import (
    ApiError,
    ConfigError,
    PayloadError,
    PermanentApiError,
    UsageError,
)
from ilert_statuspage_sync.runtime.logs import say
from ilert_statuspage_sync.service.wiring import build_services

__all__ = ["check_alert"]


def check_alert(config: Config, path: Path, action: IncidentAction, alert_id: int) -> None:
    """Refuse an alert iLert says does not exist or that the action does not mirror.

    When iLert cannot be asked (no key here, unreachable, refused), the trigger
    is accepted with a warning: the daemon reads the alert on its passes and
    backs off if it is missing.
    """
    unchecked = f"alert {alert_id} not checked in iLert"
    try:
        keyed = load_config(path, keys=True)
    except ConfigError as error:
        say("warning", "trigger_unchecked", f"{unchecked} (no key here: {error.lines[0]})")
        return
    # One quick try: a person waits for the answer; the daemon retries on its own.
    services = build_services(keyed, timeout=(5.0, 15.0), retry=RetryPolicy(attempts=1))
    try:
        alert = parse_alert(services.ilert.get_alert(alert_id))
    except PermanentApiError as error:
        if error.status == 404:
            raise UsageError(
                f"alert {alert_id} does not exist in iLert ({config.ilert.api_url}); "
                "check the id (the number in the alert's URL)"
            ) from None
        say("warning", "trigger_unchecked", f"{unchecked}: {error}")
        return
    except (ApiError, PayloadError) as error:
        say("warning", "trigger_unchecked", f"{unchecked}: {error}")
        return
    finally:
        services.close()
    if alert.source_id not in action.alert_sources:
        sources = ", ".join(map(str, action.alert_sources))
        raise UsageError(
            f"alert {alert_id} belongs to alert source {alert.source_id}, which incident "
            f"action {action.name!r} does not mirror (its alert_sources: {sources})"
        )
