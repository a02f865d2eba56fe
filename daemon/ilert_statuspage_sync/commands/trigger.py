"""``trigger`` and ``untrigger``: start or cancel mirroring one alert (manual trigger mode)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ilert_statuspage_sync.commands.engines import engine, manual_action, readable
from ilert_statuspage_sync.commands.output import EXIT_OK
from ilert_statuspage_sync.commands.trigger_check import check_alert
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.errors import UsageError
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_sessions, upgrade

__all__ = ["trigger", "untrigger"]


def trigger(config: Config, args: argparse.Namespace) -> int:
    """Store the trigger (after asking iLert when it can); the next pass mirrors the alert."""
    action = manual_action(config, args.action, "trigger")
    check_alert(config, args.config, action, args.alert_id)
    opened = engine(config)
    upgrade(opened)
    now = datetime.now(UTC)
    with make_sessions(opened)() as session:
        if not repo.trigger(session, action.name, args.alert_id, action.page_id, now):
            print(f"alert {args.alert_id} is already mirrored by {action.name}")
            return EXIT_OK
        session.commit()
    print(f"alert {args.alert_id} will be mirrored by {action.name} from the next pass")
    return EXIT_OK


def untrigger(config: Config, args: argparse.Namespace) -> int:
    """Cancel a trigger whose alert has not reached the page; a published one stays."""
    action = manual_action(config, args.action, "untrigger")
    opened = readable(config)
    try:
        with make_sessions(opened)() as session:
            result = repo.untrigger(session, action.name, args.alert_id)
            session.commit()
    finally:
        opened.dispose()
    where = f"alert {args.alert_id} for {action.name}"
    if result is repo.Untrigger.NOT_TRIGGERED:
        print(f"{where}: not triggered, nothing to cancel")
    elif result is repo.Untrigger.PUBLISHED:
        raise UsageError(
            f"{where} is already on page {action.page_id} (or being written there); "
            "untrigger cancels only a trigger not yet published: resolve the alert in iLert "
            "and the incident follows"
        )
    else:
        print(f"{where}: trigger cancelled, it will not be mirrored")
    return EXIT_OK
