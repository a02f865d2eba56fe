"""Command line: ``ilert-statuspage-sync [--config PATH] COMMAND``.

Exit codes: 0 done; 1 something failed at run time (the state database
included: locked, read-only, full, corrupt, unreachable, not migrated; `status`
unhealthy; `check` found a problem); 2 config or usage error (every config
mistake is reported, one line each; `trigger` of an alert iLert says does not
exist or belongs to another source; `untrigger` of a published alert); 70 an
unexpected internal error (a bug); 130 interrupted.
Every failure is one ``error: ...`` line on stderr, never a traceback (a JSON
line when stderr is not a terminal, see ``logs.say``): ``main`` is the one
handler that turns the error families (our own, SQLAlchemy's, ``OSError``) into
that line; messages are run through the redactor and never hold a key, an SQL
statement or its parameters.

Commands that call no vendor (``db``, ``status``, ``history``, ``untrigger``,
``check --offline``) load the config without reading any API key.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import sqlalchemy as sa
import structlog

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.commands import discover
from ilert_statuspage_sync.commands.component_check import check_lines
from ilert_statuspage_sync.commands.triggers import check_alert
from ilert_statuspage_sync.config import DEFAULT_CONFIG_PATH, Config, IncidentAction, load_config
from ilert_statuspage_sync.core.parse import parse_id
from ilert_statuspage_sync.core.preview import preview_writes
from ilert_statuspage_sync.core.publish import PublishContext
from ilert_statuspage_sync.errors import (
    ApiError,
    ConfigError,
    DatabaseFailureError,
    PayloadError,
    StoreError,
    SyncError,
    UsageError,
)
from ilert_statuspage_sync.runtime.logs import configure_logging, say, scrub
from ilert_statuspage_sync.service.leadership import FileLeadership, Leadership, make_leadership
from ilert_statuspage_sync.service.metrics import MetricsError, check_textfile
from ilert_statuspage_sync.service.wiring import (
    PAUSE_ENV,
    build_services,
    build_syncer,
    migration_pause,
)
from ilert_statuspage_sync.store import overview, repo
from ilert_statuspage_sync.store.audit import trail_line
from ilert_statuspage_sync.store.database import (
    check_database_url,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    make_sessions,
    newer_schema,
    require_database,
    require_schema,
    revisions,
    safe_url,
    upgrade,
)
from ilert_statuspage_sync.store.diagnose import explain, sqlite_path
from ilert_statuspage_sync.store.tables import Link, Replica, Transition

if TYPE_CHECKING:
    from ilert_statuspage_sync.service.daemon import Daemon
    from ilert_statuspage_sync.service.metrics import MetricsServer

__all__ = ["main"]

log = structlog.get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130


class RunFailureError(SyncError):
    """A runtime failure outside the database (e.g. the metrics port is taken): exit 1."""


# Commands that call a vendor, so they read the API keys; the others never read one
# (`trigger` asks iLert only when it can read the iLert key: triggers.check_alert).
_CALLS_VENDORS = frozenset({"run", "sync", "check"})


# `history --limit` beyond this is a typo, not a wish; SQL LIMIT is a 64-bit integer.
MAX_HISTORY_LIMIT = 1_000_000


class _Parser(argparse.ArgumentParser):
    """A usage error is one ``error:`` line and exit 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        say("error", "usage_error", f"{self.prog}: {message} (see --help)", exit_code=EXIT_USAGE)
        self.exit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ilert-statuspage-sync",
        description="Mirror iLert alerts onto Atlassian Statuspage incidents by polling.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__} (Python {platform.python_version()})",
    )
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
    db.add_argument(
        "db_command",
        choices=["upgrade", "downgrade"],
        help="upgrade: apply pending migrations; downgrade REVISION: undo the migrations "
        "after REVISION (before reinstalling an older release)",
    )
    db.add_argument("revision", nargs="?", help="downgrade's target revision, e.g. 0004")
    check = commands.add_parser(
        "check", help="validate the config and reach every API with its key"
    )
    check.add_argument("--offline", action="store_true", help="config and database only")
    commands.add_parser("status", help="tracked alerts, their incidents and last transitions")
    history = commands.add_parser("history", help="the audit trail of transitions")
    history.add_argument("--alert", type=_alert_id, help="only this iLert alert id")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument(
        "--limit", type=_history_limit, default=200, help="newest N rows (%(default)s)"
    )
    trigger = commands.add_parser(
        "trigger", help="manual trigger mode: mirror an alert from now on"
    )
    trigger.add_argument("action", help="incident action name")
    trigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    untrigger = commands.add_parser(
        "untrigger", help="cancel a trigger that has not been published yet"
    )
    untrigger.add_argument("action", help="incident action name")
    untrigger.add_argument("alert_id", type=_alert_id, help="iLert alert id")
    retry = commands.add_parser(
        "retry", help="retry failing items on the next pass, with a fresh back-off"
    )
    retry.add_argument("action", nargs="?", help="only this incident action")
    retry.add_argument("alert_id", nargs="?", type=_alert_id, help="only this iLert alert id")
    demo = commands.add_parser("demo", help="play a scripted scenario against built-in simulators")
    demo.add_argument(
        "--lifecycle",
        choices=["classic", "realtime", "both"],
        default=None,
        help="which lifecycle table to play (default: both; with --keep: classic)",
    )
    demo.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="then keep the simulators running, with a ready config.toml and state.db in DIR, "
        "until Ctrl-C (exit 130) or SIGTERM (exit 0)",
    )
    discover.add_arguments(
        commands.add_parser("discover", help="list alert sources, pages, components; --write")
    )
    return parser


def _history_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    if value > MAX_HISTORY_LIMIT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_HISTORY_LIMIT:,}, got {text}")
    return value


def _alert_id(text: str) -> int:
    """An iLert alert id as the database stores it: a stored 0 or -1 would be polled forever."""
    try:
        return parse_id(text, "alert id", "command line")
    except PayloadError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not an iLert alert id (a whole number from 1 to 2^63-1)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every failure becomes one line and an exit code."""
    args = _parser().parse_args(argv)
    code = EXIT_OK  # a reader gone mid-output (`demo | head`) is no failure of ours
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # a reader gone (`| head`) shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        _stdout_gone()
        return code  # the verdict (`status` UNHEALTHY: 1) holds whoever stopped reading
    except (DatabaseFailureError, RunFailureError) as error:
        return _fail(str(error), EXIT_FAILED)
    except ConfigError as error:
        for line in error.lines:  # every mistake of the file, one line each
            _fail(line, EXIT_USAGE, "config_error")
        return EXIT_USAGE
    except UsageError as error:
        return _fail(str(error), EXIT_USAGE, "usage_error")
    except StoreError as error:
        return _fail(str(error), EXIT_USAGE)
    except (sa.exc.SQLAlchemyError, OSError) as error:
        line = explain(error, getattr(args, "database_url", "")) or type(error).__name__
        return _fail(line, EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED, "interrupted")
    except Exception as error:  # noqa: BLE001 - the last resort: a bug, still one line
        what = str(error).splitlines()[0][:200] if str(error) else ""
        return _fail(
            f"internal error {type(error).__name__}: {what} (a bug: please report it)",
            EXIT_INTERNAL,
            "internal_error",
        )


@contextmanager
def _reader_may_leave() -> Iterator[None]:
    """Print a verdict's lines: a reader gone half-way (`status | head -1`) keeps the exit code."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_gone()


def _stdout_gone() -> None:
    """The reader stopped reading (`demo | head`): not a failure; nothing more to print."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
    os.close(devnull)


def _fail(message: str, code: int, event: str = "command_failed") -> int:
    say("error", event, message, exit_code=code)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from ilert_statuspage_sync.demo.play import run_demo  # only the demo needs the simulators

        # A scene's expected warning (a person's edit: human_override) is in the table;
        # an error still prints.
        configure_logging("error")
        lifecycle = args.lifecycle or ("classic" if args.keep else "both")
        return run_demo(lifecycle, sys.stdout, keep=args.keep)
    if args.command == "discover":  # runs before a config exists, or with one
        return discover.run_discover(args, sys.stdout, sys.stderr)
    # Only commands that call a vendor read the keys: `db upgrade` or `status` work
    # where the keys are not at hand (a shell outside the unit's LoadCredential=).
    needs_keys = args.command in _CALLS_VENDORS and not getattr(args, "offline", False)
    config = load_config(args.config, keys=needs_keys)
    try:
        config = replace(config, database_url=check_database_url(config.database_url))
    except ConfigError as error:
        raise ConfigError(f"{config.path}: {error}") from None
    args.database_url = config.database_url  # for main's one-line database errors
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
        "retry": _retry,
        "untrigger": _untrigger,
    }
    return handlers[args.command](config, args)


def _engine(config: Config) -> sa.Engine:
    return make_engine(config.database_url, origin=str(config.path))


def _sync(config: Config, args: argparse.Namespace) -> int:
    engine = _engine(config)
    leadership = _lead_or_refuse(config, "sync", make_leadership(config.database_url))
    services = build_services(config)
    try:
        syncer = build_syncer(
            config,
            services,
            engine=engine,
            dry_run=args.dry_run,
            leadership=leadership,
            one_shot=True,
        )
        report = syncer.run_pass()
    finally:
        services.close()
        leadership.release()
        engine.dispose()
    return EXIT_OK if report.ok else EXIT_FAILED


def _lead_or_refuse(config: Config, command: str, leadership: Leadership) -> Leadership:
    """The leader lock, or a clear refusal: two writers on one database is never right."""
    if leadership.try_acquire():
        return leadership
    holder = f" (pid {leadership.holder()})" if isinstance(leadership, FileLeadership) else ""
    leadership.release()
    raise StoreError(
        f"{command}: another ilert-statuspage-sync process holds {leadership.description}{holder} "
        f"for {safe_url(config.database_url)}; run one process per SQLite file, "
        "or use PostgreSQL for replicas"
    )


def _run(config: Config, args: argparse.Namespace) -> int:
    from ilert_statuspage_sync.service.daemon import Daemon  # APScheduler: only run needs it
    from ilert_statuspage_sync.service.poll_loop import run_forever

    engine = _engine(config)
    # SQLite allows one process per file; PostgreSQL replicas wait as followers.
    leadership = make_leadership(config.database_url)
    if leadership.exclusive_file:
        _lead_or_refuse(config, "run", leadership)
    daemon = Daemon(config, engine, leadership, dry_run=args.dry_run)
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
        listener = _metrics_listener(config, daemon)
    except BaseException:
        daemon.close()
        raise
    try:
        run_forever(
            daemon.tick,
            daemon.interval,
            on_hup=daemon.request_reload,
            on_stop=daemon.notifier.stopping,
        )
    finally:
        if listener is not None:
            listener.close()
        daemon.close()
        engine.dispose()
    if daemon.failure is not None:
        return _fail(daemon.failure, EXIT_FAILED)
    return EXIT_OK


def _metrics_listener(config: Config, daemon: Daemon) -> MetricsServer | None:
    if config.metrics.listen_host is None or config.metrics.listen_port is None:
        return None
    try:
        listener = daemon.metrics.start_http(
            config.metrics.listen_host, config.metrics.listen_port, interval=daemon.interval
        )
    except MetricsError as error:
        raise RunFailureError(
            f"{error}; another process listens there: stop it, or change "
            f"[metrics] listen in {config.path}"
        ) from None
    log.info("metrics_listening", host=config.metrics.listen_host, port=config.metrics.listen_port)
    return listener


def _db(config: Config, args: argparse.Namespace) -> int:
    if (args.db_command == "downgrade") != (args.revision is not None):
        raise ConfigError(
            "db downgrade needs a REVISION (e.g. 0004); db upgrade takes none (see --help)"
        )
    if args.db_command == "downgrade":
        require_database(config.database_url)  # never create a database to undo nothing
    engine = _engine(config)
    leadership = make_leadership(config.database_url)
    # Migrations run under the leader lock; a running leader has migrated already.
    # A downgrade waits for nobody: a running daemon would only migrate back up.
    deadline = time.monotonic() + (30 if args.db_command == "upgrade" else 0)
    while not leadership.try_acquire():
        if time.monotonic() >= deadline:
            leadership.release()
            raise StoreError(
                f"db {args.db_command}: {leadership.description} is held by a running daemon; "
                + (
                    "stop it (it applies pending migrations itself when it starts)"
                    if args.db_command == "upgrade"
                    else "stop it first, then downgrade and install the older release"
                )
            )
        time.sleep(1)
    try:
        if args.db_command == "downgrade":
            before, after = downgrade(engine, args.revision)
        else:
            pause = migration_pause(os.environ.get(PAUSE_ENV))
            before, after = upgrade(engine, on_statement=pause)
    finally:
        leadership.release()
        engine.dispose()
    print(f"database {safe_url(config.database_url)}: {before or 'empty'} -> {after}")
    return EXIT_OK


def _check(config: Config, args: argparse.Namespace) -> int:
    lines: list[tuple[bool | None, str]] = [(True, f"config {config.path}: valid")]
    lines.append(_check_database(config))
    if config.metrics.textfile is not None:
        lines.append(check_textfile(config.metrics.textfile))
    lines += _previews(config)
    if args.offline:  # no vendor is called
        return _verdict(lines)
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
            lines.append(_probe(label, functools.partial(client.get_page, action.page_id)))
        lines += check_lines(config, services.statuspage)
    finally:
        services.close()
    return _verdict(lines)


def _previews(config: Config) -> list[tuple[bool, str]]:
    """Every template of every customised action rendered against a sample alert.

    An action without any "what the public sees" key publishes today's wording
    (the alert's own text), so it adds no lines and `check` reads as before.
    """
    lines: list[tuple[bool, str]] = []
    for action in config.incident_actions:
        if action.publish.is_default:
            continue
        context = PublishContext(
            action.name, action.page_id, config.ilert.api_url, action.notify_subscribers
        )
        source = action.alert_sources[0] if action.alert_sources else None
        previews = preview_writes(
            action.publish, lifecycle=config.lifecycle, context=context, source_id=source
        )
        lines += [(line.ok, line.text) for line in previews]
    return lines


def _verdict(lines: list[tuple[bool | None, str]]) -> int:
    with _reader_may_leave():
        for ok, line in lines:
            print(f"{_MARKS[ok]} {line}")
    return EXIT_OK if all(ok is not False for ok, _ in lines) else EXIT_FAILED


# check's line marks: ok, WARN (works, but needs a step first; exit stays 0), FAIL (exit 1)
_MARKS = {True: "ok  ", None: "WARN", False: "FAIL"}


def _check_database(config: Config) -> tuple[bool | None, str]:
    """The database line of ``check``; never creates the database."""
    label = f"database {safe_url(config.database_url)}"
    path = sqlite_path(config.database_url)
    if path is not None and not path.exists():
        return None, (
            f"{label}: no database yet at {path}; `db upgrade` or the daemon's first start "
            "creates it"
        )
    try:
        engine = _engine(config)
        try:
            revision, head = current_revision(engine), head_revision()
        finally:
            engine.dispose()
    except (SyncError, sa.exc.SQLAlchemyError, OSError) as error:
        return False, f"{label}: {explain(error, config.database_url) or scrub(str(error))}"
    if revision == head:
        return True, f"{label}: up to date"
    if revision is not None and revision not in revisions():
        return False, newer_schema(revision, config.database_url)
    return None, (
        f"{label}: at {revision or 'no revision (empty)'}, migrations up to {head} pending; "
        "run `db upgrade` (the daemon also applies them when it starts)"
    )


def _probe(label: str, call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except (ApiError, PayloadError) as error:
        return False, f"{label}: {scrub(str(error))}"
    return True, f"{label}: reachable, key accepted"


def _readable(config: Config) -> sa.Engine:
    """An engine on an existing, migrated database; read-only commands never create one."""
    require_database(config.database_url)
    engine = _engine(config)
    require_schema(engine, config.database_url)
    return engine


def _status(config: Config, _args: argparse.Namespace) -> int:
    sessions = make_sessions(_readable(config))
    with sessions() as session:
        links = overview.all_links(session)
        last = repo.last_transitions(session)
        alerts = repo.incident_alerts(session)
        replicas = overview.replicas(session)
    failing = sum(1 for link in links if link.last_error)
    verdict = health_lines(replicas, failing, datetime.now(UTC))
    # Probes and scripts read the verdict from the exit code: 1 when UNHEALTHY.
    code = EXIT_OK if verdict[0].startswith("daemon: healthy") else EXIT_FAILED
    header = ("ACTION", "ALERT", "STATE", "INCIDENT", "STATUS", "LAST TRANSITION", "PROBLEM")
    rows = [header]
    for link in links:
        transition = last.get((link.incident_action, link.alert_id))
        filtered = transition is not None and transition.outcome == "filtered"
        rows.append(
            (
                link.incident_action,
                str(link.alert_id),
                "filtered"
                if filtered
                else (link.mirror_status or "waiting").lower()
                if link.is_open
                else "done",
                _incident_cell(link, alerts),
                _status_cell(link),
                f"{transition.event}:{transition.outcome}" if transition else "-",
                f"filtered: {transition.reason}"
                if filtered and transition and not link.last_error
                else _problem(link),
            )
        )
    with _reader_may_leave():
        print("\n".join(verdict), end="\n\n")
        _print_table(rows)
        if len(rows) == 1:
            print("no alerts tracked yet")
    return code


def health_lines(replicas: Sequence[Replica], failing: int, now: datetime) -> list[str]:
    """Whether the daemon is healthy: a leader passing on time, its followers, failing items.

    Healthy means a leader reported a pass within three poll intervals; a
    replica not seen for three intervals is listed as gone.
    """
    lines = []
    leaders = [r for r in replicas if r.role == "leader"]
    live = [r for r in replicas if (now - r.last_seen_at).total_seconds() <= 3 * r.poll_interval]
    leader = max(leaders, key=lambda r: r.last_seen_at, default=None)
    if leader is None or leader.last_pass_at is None:
        lines.append("daemon: UNHEALTHY: no leader has reported a pass (is `run` running?)")
    else:
        age = (now - leader.last_pass_at).total_seconds()
        healthy = age <= 3 * leader.poll_interval
        state = "healthy" if healthy else "UNHEALTHY: last pass too old"
        result = "ok" if leader.last_pass_ok else "with problems"
        lines.append(
            f"daemon: {state}: leader {leader.host}:{leader.pid}, last pass {age:.0f}s ago "
            f"({result}), poll interval {leader.poll_interval:g}s"
        )
    for replica in replicas:
        if replica.role == "follower":
            seen = (now - replica.last_seen_at).total_seconds()
            alive = "waiting" if replica in live else "gone"
            lines.append(f"follower: {replica.host}:{replica.pid}, {alive}, seen {seen:.0f}s ago")
    lines.append(f"failing items: {failing}")
    return lines


def _incident_cell(link: Link, alerts: Mapping[str, int]) -> str:
    """The incident id; a shared one (group = "action") with how many alerts it mirrors."""
    incident = link.statuspage_incident_id
    if incident is None:
        return "-"
    count = alerts.get(incident, 1)
    return f"{incident} ({count} alerts)" if count > 1 else incident


def _status_cell(link: Link) -> str:
    status = link.statuspage_status or "-"
    return f"{status} (set by a person)" if link.human_override else status


def _problem(link: Link) -> str:
    if not link.last_error:
        return "-"
    if not link.failures:  # a reason without back-off (e.g. iLert answers 404 for it)
        return link.last_error[:120]
    retry = link.next_attempt_at.strftime("%H:%M:%SZ") if link.next_attempt_at else "next pass"
    return f"{link.failures}x, retry {retry}: {link.last_error[:120]}"


def _history(config: Config, args: argparse.Namespace) -> int:
    sessions = make_sessions(_readable(config))
    with sessions() as session:
        rows = repo.history(session, alert_id=args.alert, limit=args.limit)
    if args.json:  # the log's own `transition` lines: one jq filter reads both
        for row in rows:
            print(json.dumps(trail_line(row)))
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
    if args.alert is not None:
        _print_published(rows)
    return EXIT_OK


def _print_published(rows: Sequence[Transition]) -> None:
    """The name and body each write showed the public, in full."""
    published = [row for row in rows if row.published_name or row.published_body]
    if not published:
        return
    print()
    print("PUBLISHED")
    for row in published:
        print(f"{row.at.strftime('%Y-%m-%d %H:%M:%SZ')}  {row.event}:{row.outcome}")
        if row.published_name is not None:
            print(f"  name: {row.published_name}")
        body = row.published_body.splitlines() if row.published_body else ["(no text)"]
        print(f"  body: {body[0]}")
        for line in body[1:]:
            print(f"        {line}")


def _manual(config: Config, name: str, command: str) -> IncidentAction:
    action = config.action(name)
    if not action.manual:
        raise ConfigError(
            f'incident action {action.name!r} has trigger_mode = "automatic"; '
            f'{command} only applies to actions with trigger_mode = "manual"'
        )
    return action


def _trigger(config: Config, args: argparse.Namespace) -> int:
    action = _manual(config, args.action, "trigger")
    check_alert(config, args.config, action, args.alert_id)
    engine = _engine(config)
    upgrade(engine)
    now = datetime.now(UTC)
    with make_sessions(engine)() as session:
        if not repo.trigger(session, action.name, args.alert_id, action.page_id, now):
            print(f"alert {args.alert_id} is already mirrored by {action.name}")
            return EXIT_OK
        session.commit()
    print(f"alert {args.alert_id} will be mirrored by {action.name} from the next pass")
    return EXIT_OK


def _untrigger(config: Config, args: argparse.Namespace) -> int:
    """Cancel a trigger whose alert has not reached the page; a published one stays."""
    action = _manual(config, args.action, "untrigger")
    engine = _readable(config)
    try:
        with make_sessions(engine)() as session:
            result = repo.untrigger(session, action.name, args.alert_id)
            session.commit()
    finally:
        engine.dispose()
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


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _retry(config: Config, args: argparse.Namespace) -> int:
    """Failing items become due at once, their back-off starting over (see Troubleshooting)."""
    if args.action is not None:
        try:
            config.action(args.action)  # an unknown name is a usage error naming the known ones
        except ConfigError as unknown:
            if args.alert_id is None and args.action.isdigit():  # `retry 42`: an alert id
                raise ConfigError(
                    f"{unknown}; for one alert name its action: retry ACTION {args.action}"
                ) from None
            raise
    sessions = make_sessions(_readable(config))
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
