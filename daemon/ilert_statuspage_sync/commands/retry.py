"""``retry [ACTION [ALERT]]``: failing items become due at once, their back-off starting over."""

from __future__ import annotations

import argparse

from ilert_statuspage_sync.commands.engines import readable
from ilert_statuspage_sync.commands.output import EXIT_OK
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_sessions

__all__ = ["retry"]


def retry(config: Config, args: argparse.Namespace) -> int:
    """Failing items become due at once, their back-off starting over (see Troubleshooting)."""
    if args.action is not None:
        _known_action(config, args)
    sessions = make_sessions(readable(config))
    with sessions() as session:
        links = repo.reset_backoff(session, args.action, args.alert_id)
        session.commit()
    for action, alert_id, failures, error in links:
        print(
            f"{action} alert {alert_id}: retried on the next pass "
            f"(was {failures} failures: {error[:80]})"
        )
    if not links:
        print("no failing item matches; `status` lists failing items under PROBLEM")
    return EXIT_OK


def _known_action(config: Config, args: argparse.Namespace) -> None:
    """An unknown name is a usage error naming the known ones (and `retry 42` a hint)."""
    try:
        config.action(args.action)
    except ConfigError as unknown:
        if args.alert_id is None and args.action.isdigit():  # `retry 42`: an alert id
            raise ConfigError(
                f"{unknown}; for one alert name its action: retry ACTION {args.action}"
            ) from None
        raise
