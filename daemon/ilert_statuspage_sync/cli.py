"""Command line: ``ilert-statuspage-sync [--config PATH] COMMAND``.

Exit codes: 0 done, 1 something failed at run time, 2 config or usage error.
Only ``ConfigError`` and ``StoreError`` are caught here; they carry messages
written for the operator and never hold a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.config import DEFAULT_CONFIG_PATH, Config, load_config
from ilert_statuspage_sync.errors import ApiError, ConfigError, PayloadError, StoreError
from ilert_statuspage_sync.logs import configure_logging, scrub
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import (
    current_revision,
    head_revision,
    make_engine,
    make_sessions,
    safe_url,
    upgrade,
)
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.wiring import build_services, build_syncer

__all__ = ["main"]

log = structlog.get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ilert-statuspage-sync",
        description="Mirror iLert alerts onto Atlassian Statuspage incidents by polling.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG_PATH, help="TOML config (%(default)s)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="poll forever")
    run.add_argument("--dry-run", action="store_true", help="log planned transitions, call nothing")
    sync = commands.add_parser("sync", help="one poll-and-apply pass, then exit")
    sync.add_argument(
        "--dry-run", action="store_true", help="log planned transitions, call nothing"
    )
    db = commands.add_parser("db", help="database commands")
    db.add_argument("db_command", choices=["upgrade"], help="apply pending migrations")
    commands.add_parser("check", help="validate the config and reach every API with its key")
    commands.add_parser("status", help="tracked alerts, their incidents and last transitions")
    history = commands.add_parser("history", help="the audit trail of transitions")
    history.add_argument("--alert", type=int, help="only this iLert alert id")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument("--limit", type=int, default=200, help="newest N rows (%(default)s)")
    trigger = commands.add_parser(
        "trigger", help="manual trigger mode: mirror an alert from now on"
    )
    trigger.add_argument("action", help="incident action name")
    trigger.add_argument("alert_id", type=int, help="iLert alert id")
    demo = commands.add_parser("demo", help="play a scripted scenario against built-in simulators")
    demo.add_argument(
        "--lifecycle", choices=["classic", "realtime", "both"], default="both", help="%(default)s"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (ConfigError, StoreError) as error:
        print(f"error: {scrub(str(error))}", file=sys.stderr)
        return EXIT_USAGE


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from ilert_statuspage_sync.demo import run_demo  # only the demo needs the simulators

        configure_logging("warning")
        return run_demo(args.lifecycle, sys.stdout)
    config = load_config(args.config)
    configure_logging(config.log_level)
    for warning in config.warnings:
        log.warning("config_warning", message=warning)
    handlers = {
        "run": _run,
        "sync": _sync,
        "db": _db,
        "check": _check,
        "status": _status,
        "history": _history,
        "trigger": _trigger,
    }
    return handlers[args.command](config, args)


def _sync(config: Config, args: argparse.Namespace) -> int:
    services = build_services(config)
    try:
        report = build_syncer(config, services, dry_run=args.dry_run).run_pass()
    finally:
        services.close()
    return EXIT_OK if report.ok else EXIT_FAILED


def _run(config: Config, args: argparse.Namespace) -> int:
    from ilert_statuspage_sync.scheduler import run_forever  # APScheduler: only run needs it

    services = build_services(config)
    syncer = build_syncer(config, services, dry_run=args.dry_run)
    log.info(
        "daemon_started",
        version=__version__,
        poll_interval=config.poll_interval,
        lifecycle=config.lifecycle,
        incident_actions=[action.name for action in config.incident_actions],
        database=safe_url(config.database_url),
        dry_run=args.dry_run,
    )
    try:
        run_forever(syncer.run_pass, config.poll_interval)
    finally:
        services.close()
    return EXIT_OK


def _db(config: Config, _args: argparse.Namespace) -> int:
    before, after = upgrade(make_engine(config.database_url))
    print(f"database {safe_url(config.database_url)}: {before or 'empty'} -> {after}")
    return EXIT_OK


def _check(config: Config, _args: argparse.Namespace) -> int:
    lines: list[tuple[bool, str]] = [(True, f"config {config.path}: valid")]
    try:
        engine = make_engine(config.database_url)
        revision, head = current_revision(engine), head_revision()
        state = "up to date" if revision == head else f"at {revision or 'empty'}, {head} pending"
        lines.append((True, f"database {safe_url(config.database_url)}: {state}"))
    except Exception as error:  # noqa: BLE001 - check reports every failure as a line
        lines.append((False, f"database {safe_url(config.database_url)}: {scrub(str(error))}"))
    services = build_services(config)
    try:
        sources = sorted({s for a in config.incident_actions for s in a.alert_sources})
        lines.append(
            _probe(
                f"iLert {config.ilert.api_url} ({config.ilert.key_origin})",
                lambda: services.ilert.http.get(
                    "/api/alerts", {"sources": sources, "max-results": 1}
                ),
            )
        )
        for action in config.incident_actions:
            connector = config.connectors[action.connector]
            client = services.statuspage[action.connector]
            label = (
                f"Statuspage page {action.page_id} for {action.name} "
                f"via connector {connector.name} ({connector.key_origin})"
            )
            lines.append(_probe(label, lambda c=client, p=action.page_id: c.get_page(p)))
    finally:
        services.close()
    for ok, line in lines:
        print(f"{'ok  ' if ok else 'FAIL'} {line}")
    return EXIT_OK if all(ok for ok, _ in lines) else EXIT_FAILED


def _probe(label: str, call: object) -> tuple[bool, str]:
    assert callable(call)
    try:
        call()
    except (ApiError, PayloadError) as error:
        return False, f"{label}: {scrub(str(error))}"
    return True, f"{label}: reachable, key accepted"


def _status(config: Config, _args: argparse.Namespace) -> int:
    sessions = make_sessions(make_engine(config.database_url))
    with sessions() as session:
        links = session.query(Link).order_by(Link.incident_action, Link.alert_id).all()
        last = repo.last_transitions(session)
    header = ("ACTION", "ALERT", "STATE", "INCIDENT", "STATUS", "LAST TRANSITION", "PROBLEM")
    rows = [header]
    for link in links:
        transition = last.get((link.incident_action, link.alert_id))
        rows.append(
            (
                link.incident_action,
                str(link.alert_id),
                (link.mirror_status or "waiting").lower() if link.is_open else "done",
                link.statuspage_incident_id or "-",
                link.statuspage_status or "-",
                f"{transition.event}:{transition.outcome}" if transition else "-",
                _problem(link),
            )
        )
    _print_table(rows)
    if len(rows) == 1:
        print("no alerts tracked yet")
    return EXIT_OK


def _problem(link: Link) -> str:
    if not link.last_error:
        return "-"
    retry = link.next_attempt_at.strftime("%H:%M:%SZ") if link.next_attempt_at else "next pass"
    return f"{link.failures}x, retry {retry}: {link.last_error[:120]}"


def _history(config: Config, args: argparse.Namespace) -> int:
    sessions = make_sessions(make_engine(config.database_url))
    with sessions() as session:
        rows = repo.history(session, alert_id=args.alert, limit=args.limit)
    if args.json:
        for row in rows:
            print(
                json.dumps(
                    {
                        "at": row.at.isoformat(),
                        "alert_id": row.alert_id,
                        "incident_action": row.incident_action,
                        "page_id": row.page_id,
                        "statuspage_incident_id": row.statuspage_incident_id,
                        "event": row.event,
                        "outcome": row.outcome,
                        "from_status": row.from_status,
                        "to_status": row.to_status,
                        "reason": row.reason,
                    }
                )
            )
        return EXIT_OK
    table = [("AT", "ALERT", "ACTION", "EVENT", "OUTCOME", "FROM", "TO", "INCIDENT", "REASON")]
    table += [
        (
            row.at.strftime("%Y-%m-%d %H:%M:%SZ"),
            str(row.alert_id),
            row.incident_action,
            row.event,
            row.outcome,
            row.from_status or "-",
            row.to_status or "-",
            row.statuspage_incident_id or "-",
            (row.reason or "")[:80],
        )
        for row in rows
    ]
    _print_table(table)
    return EXIT_OK


def _trigger(config: Config, args: argparse.Namespace) -> int:
    action = config.action(args.action)
    if not action.manual:
        raise ConfigError(
            f'incident action {action.name!r} has trigger_mode = "automatic"; '
            'trigger only applies to actions with trigger_mode = "manual"'
        )
    engine = make_engine(config.database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_sessions(engine)() as session:
        if not repo.trigger(session, action.name, args.alert_id, action.page_id, now):
            print(f"alert {args.alert_id} is already mirrored by {action.name}")
            return EXIT_OK
        session.commit()
    print(f"alert {args.alert_id} will be mirrored by {action.name} from the next pass")
    return EXIT_OK


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
