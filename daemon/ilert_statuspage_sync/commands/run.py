"""``run`` (poll forever, as leader or follower) and ``sync`` (one pass, then exit)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import structlog

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.commands.engines import engine, lead_or_refuse
from ilert_statuspage_sync.commands.output import EXIT_FAILED, EXIT_OK, RunFailureError, fail
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.database_url import safe_url
from ilert_statuspage_sync.service.leadership import make_leadership
from ilert_statuspage_sync.service.metrics import MetricsError
from ilert_statuspage_sync.service.wiring import build_services, build_syncer

if TYPE_CHECKING:
    from ilert_statuspage_sync.service.daemon import Daemon
    from ilert_statuspage_sync.service.metrics import MetricsServer

__all__ = ["run", "sync"]

log = structlog.get_logger(__name__)


def sync(config: Config, args: argparse.Namespace) -> int:
    """One pass under the leader lock; exit 1 when it did not go through cleanly."""
    opened = engine(config)
    leadership = lead_or_refuse(config, "sync", make_leadership(config.database_url))
    services = build_services(config)
    try:
        syncer = build_syncer(
            config,
            services,
            engine=opened,
            dry_run=args.dry_run,
            leadership=leadership,
            one_shot=True,
        )
        report = syncer.run_pass()
    finally:
        services.close()
        leadership.release()
        opened.dispose()
    return EXIT_OK if report.ok else EXIT_FAILED


def run(config: Config, args: argparse.Namespace) -> int:
    """Poll until stopped; exit 1 when the daemon stopped on a failure."""
    from ilert_statuspage_sync.service.daemon import Daemon  # APScheduler: only run needs it

    opened = engine(config)
    # SQLite allows one process per file; PostgreSQL replicas wait as followers.
    leadership = make_leadership(config.database_url)
    if leadership.exclusive_file:
        lead_or_refuse(config, "run", leadership)
    daemon = Daemon(config, opened, leadership, dry_run=args.dry_run)
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
        _serve(config, daemon)
    finally:
        opened.dispose()
    if daemon.failure is not None:
        return fail(daemon.failure, "command_failed")
    return EXIT_OK


def _serve(config: Config, daemon: Daemon) -> None:
    """The poll loop with the metrics listener around it; closes the daemon either way."""
    from ilert_statuspage_sync.service.poll_loop import run_forever

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
