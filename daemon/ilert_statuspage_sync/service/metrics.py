"""Prometheus metrics: what the daemon did, exposed as a textfile or on a loopback port.

One ``Metrics`` owns its own ``CollectorRegistry`` (never the process-global
one), so tests and several instances never collide. Wiring, in short::

    metrics = Metrics()
    services = build_services(config, on_response=metrics.observe_response)
    metrics.watch_budgets((http.service, http.budget) for http in services.https)
    server = metrics.start_http(host, port, interval=lambda: 30.0)  # loopback only
    ...
    report = syncer.run_pass()
    metrics.observe_pass(report, finished_at=..., alerts_tracked=..., failing_items=...)
    metrics.write_textfile(path)                     # optional, node_exporter textfile
    ...
    server.close()

Every metric is prefixed ``ilert_statuspage_sync_``. The ``_created`` series that
prometheus-client adds to counters and histograms are left out of every exposition:
the library can only switch them off process-wide (``disable_created_metrics``),
so this registry is exposed through a filter instead.
"""

from __future__ import annotations

import os
import platform
import socket
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
)
from prometheus_client.registry import Collector

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.config import is_loopback_host
from ilert_statuspage_sync.core.liveness import Liveness, liveness
from ilert_statuspage_sync.errors import SyncError

if TYPE_CHECKING:
    from ilert_statuspage_sync.sync.syncer import PassReport

__all__ = [
    "DURATION_BUCKETS",
    "OUTCOMES",
    "PREFIX",
    "SERVICES",
    "Metrics",
    "MetricsError",
    "MetricsServer",
    "check_textfile",
]

PREFIX = "ilert_statuspage_sync_"
SERVICES = ("ilert", "statuspage")
OUTCOMES = (
    "created",
    "status_changed",
    "body_updated",
    "no_change",
    "failed",
    "duplicate_resolved",
    "component_changed",
    "joined",
    "human_override",
)
# Seconds; the HTTP read timeout is 20 s, so the top bucket catches everything that answered.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
TEXTFILE_MODE = 0o644
_JOIN_TIMEOUT = 5.0


class MetricsError(SyncError):
    """Metrics could not be written or served (missing folder, port in use, ...)."""


class _Waits(Protocol):
    """Anything that accumulates seconds spent waiting, like ``clients.http.RateBudget``."""

    @property
    def waited(self) -> float: ...


class MetricsServer:
    """The running ``/metrics`` endpoint; ``close()`` stops it (also a context manager)."""

    def __init__(self, server: WSGIServer, thread: threading.Thread, host: str) -> None:
        self._server = server
        self._thread = thread
        self._closed = False
        self.host = host
        self.port: int = server.server_port

    @property
    def url(self) -> str:
        """Where Prometheus scrapes, e.g. ``http://127.0.0.1:9464/metrics``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port; calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(_JOIN_TIMEOUT)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Metrics:
    """The daemon's metrics in a registry of their own.

    ``database`` is the SQLAlchemy dialect name (``sqlite``, ``postgresql``) for ``build_info``.
    """

    def __init__(self, *, database: str = "unknown") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Registration order is exposition order: keep it.
        self._count_work(database)
        self._gauge_state()
        self._prime_labels()
        self._lock = threading.Lock()
        self._budgets: dict[int, tuple[str, _Waits, float]] = {}
        self._exposed = _WithoutCreated(self.registry)
        # What /healthz judges; written by the scheduler thread, read by the listener's.
        self._role: str | None = None
        self._seen_at: datetime | None = None
        self._last_pass_at: datetime | None = None
        self._last_ok_at: datetime | None = None

    def _count_work(self, database: str) -> None:
        """build_info and the counters of passes, decisions, requests and waits."""
        registry = self.registry
        self.build_info = Gauge(
            PREFIX + "build_info",
            "Always 1; the labels say which version runs on which Python and database.",
            ["version", "python", "database"],
            registry=registry,
        )
        self.build_info.labels(
            version=__version__, python=platform.python_version(), database=database
        ).set(1)
        self.passes = Counter(
            PREFIX + "passes",
            "Sync passes by result (ok: iLert read and every item synced).",
            ["result"],
            registry=registry,
        )
        self.transitions = Counter(
            PREFIX + "transitions",
            "Lifecycle decisions taken for alert events, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self._count_requests()

    def _count_requests(self) -> None:
        """Vendor requests by status, their duration, and the time spent throttled."""
        self.api_requests = Counter(
            PREFIX + "api_requests",
            'Vendor API requests by HTTP status ("error": no HTTP answer).',
            ["service", "status"],
            registry=self.registry,
        )
        self.api_request_duration = Histogram(
            PREFIX + "api_request_duration_seconds",
            "Time from sending a vendor API request to its answer or failure.",
            ["service"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.throttle_wait = Counter(
            PREFIX + "throttle_wait_seconds",
            "Seconds spent waiting on an API key's rate budget before sending.",
            ["service"],
            registry=self.registry,
        )

    def _gauge(self, name: str, documentation: str) -> Gauge:
        return Gauge(PREFIX + name, documentation, registry=self.registry)

    def _gauge_state(self) -> None:
        """The gauges of the last pass, the items and the role."""
        gauge = self._gauge
        self.last_pass = gauge("last_pass_timestamp_seconds", "Unix time the last pass finished.")
        self.last_successful_pass = gauge(
            "last_successful_pass_timestamp_seconds", "Unix time the last ok pass finished."
        )
        self.pass_duration = gauge("pass_duration_seconds", "How long the last pass took.")
        self.alerts_tracked = gauge(
            "alerts_tracked", "Open alerts currently mirrored onto Statuspage incidents."
        )
        self.failing_items = gauge(
            "failing_items", "Items refused by a vendor and waiting for their retry delay."
        )
        self.deferred_items = gauge(
            "deferred_items", "Items the last pass deferred because a service was down."
        )
        self.leader = gauge(
            "leader", "1 when this instance is the leader and syncs, 0 when it follows."
        )

    def _prime_labels(self) -> None:
        """Known label values start at 0, so rate() and absence alerts work from the start."""
        for result in ("ok", "failed"):
            self.passes.labels(result=result)
        for outcome in OUTCOMES:
            self.transitions.labels(outcome=outcome)
        for service in SERVICES:
            self.api_request_duration.labels(service=service)
            self.throttle_wait.labels(service=service)

    def observe_response(self, service: str, status: int | None, seconds: float) -> None:
        """Count one vendor request; ``status`` None means no HTTP answer (timeout, connection).

        The signature is ``HttpService``'s ``on_response`` observer.
        """
        label = "error" if status is None else str(status)
        self.api_requests.labels(service=service, status=label).inc()
        self.api_request_duration.labels(service=service).observe(max(seconds, 0.0))

    def observe_throttle_wait(self, service: str, seconds: float) -> None:
        """Add time spent waiting on ``service``'s rate budget (negative or zero: ignored)."""
        if seconds > 0:
            self.throttle_wait.labels(service=service).inc(seconds)

    def watch_budgets(self, budgets: Iterable[tuple[str, _Waits]]) -> None:
        """Follow rate budgets' cumulative ``waited``; ``observe_pass`` adds what grew.

        Pass ``(http.service, http.budget) for http in services.https``: a budget shared
        by several clients is counted once. Waiting done before the call is not counted.
        """
        with self._lock:
            for service, budget in budgets:
                key = id(budget)
                if key not in self._budgets:
                    self._budgets[key] = (service, budget, budget.waited)

    def collect_budget_waits(self) -> None:
        """Add the growth of every watched budget's ``waited`` to the throttle counter."""
        with self._lock:
            for key, (service, budget, seen) in list(self._budgets.items()):
                now = budget.waited
                self.observe_throttle_wait(service, now - seen)
                self._budgets[key] = (service, budget, max(now, seen))

    def observe_pass(
        self,
        report: PassReport,
        *,
        finished_at: datetime,
        alerts_tracked: int,
        failing_items: int,
    ) -> None:
        """Record one finished pass; ``finished_at`` must be timezone-aware."""
        if finished_at.tzinfo is None or finished_at.utcoffset() is None:
            raise ValueError("finished_at must be a timezone-aware datetime")
        ok = report.ok
        self.passes.labels(result="ok" if ok else "failed").inc()
        for outcome, count in report.outcomes.items():
            if count > 0:
                self.transitions.labels(outcome=str(outcome)).inc(count)
        finished = finished_at.timestamp()
        self.last_pass.set(finished)
        self._last_pass_at = finished_at
        if ok:
            self.last_successful_pass.set(finished)
            self._last_ok_at = finished_at
        self.pass_duration.set(report.duration)
        self.alerts_tracked.set(alerts_tracked)
        self.failing_items.set(failing_items)
        self.deferred_items.set(report.deferred_items)
        self.collect_budget_waits()

    def set_leader(self, is_leader: bool) -> None:
        """1 while this instance leads (syncs), 0 while it follows."""
        self.leader.set(1 if is_leader else 0)
        self._role = "leader" if is_leader else "follower"
        self._seen_at = datetime.now(UTC)

    def health(self, interval: float, now: datetime | None = None) -> Liveness:
        """The ``/healthz`` verdict for a daemon polling every ``interval`` seconds."""
        return liveness(
            now=now or datetime.now(UTC),
            interval=interval,
            role=self._role,
            seen_at=self._seen_at,
            last_ok_at=self._last_ok_at,
            last_pass_at=self._last_pass_at,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition format (version 0.0.4) of every metric."""
        return generate_latest(self._exposed)

    def write_textfile(self, path: Path) -> None:
        """Write ``render()`` to ``path`` atomically (temp file + rename), mode 0644.

        The temp file lives in the same folder and does not end in ``.prom``, so the
        node_exporter textfile collector never reads a half-written file.
        """
        folder = path.parent
        if not folder.is_dir():
            raise MetricsError(f"cannot write metrics to {path}: folder {folder} does not exist")
        data = self.render()
        try:
            handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as error:
            raise MetricsError(f"cannot write metrics to {path}: {_reason(error)}") from error
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fchmod(file.fileno(), TEXTFILE_MODE)
                os.fsync(file.fileno())
            os.replace(temp, path)
        except OSError as error:
            temp.unlink(missing_ok=True)
            raise MetricsError(f"cannot write metrics to {path}: {_reason(error)}") from error

    def start_http(
        self, host: str, port: int, *, interval: Callable[[], float] = lambda: 30.0
    ) -> MetricsServer:
        """Serve ``/metrics`` and ``/healthz`` on a loopback address (404 elsewhere).

        ``port`` 0 picks a free one; ``interval`` gives the current poll interval
        (a reload may change it). A non-loopback ``host`` raises ``ValueError``: the
        endpoint has no authentication. An IPv6 host may be given with or without
        brackets (``[::1]`` or ``::1``).
        """
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not is_loopback_host(bare):
            raise ValueError(
                f"metrics listen host {host!r} is not a loopback address "
                "(use 127.0.0.1, [::1] or localhost)"
            )
        try:
            server, thread = _serve(bare, port, self._app(interval))
        except OSError as error:
            raise MetricsError(
                f"cannot serve metrics on {host}:{port}: {_reason(error)}"
            ) from error
        return MetricsServer(server, thread, bare)

    def _app(self, interval: Callable[[], float]) -> _WsgiApp:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/metrics":
                status, content_type, body = "200 OK", CONTENT_TYPE_LATEST, self.render()
            elif path == "/healthz":
                verdict = self.health(interval())
                status = "200 OK" if verdict.healthy else "503 Service Unavailable"
                content_type, body = _TEXT, (verdict.reason + "\n").encode()
            else:
                status, content_type = "404 Not Found", _TEXT
                body = b"not found; this listener serves /metrics and /healthz\n"
            headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            start_response(status, headers)
            return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

        return app


_TEXT = "text/plain; charset=utf-8"
_WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]


class _WithoutCreated(Collector):
    """A view of a registry without the ``_created`` samples (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            kept = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            kept.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield kept


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the daemon's stderr is its JSON log."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve(host: str, port: int, app: _WsgiApp) -> tuple[WSGIServer, threading.Thread]:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]

    class Server(ThreadingMixIn, WSGIServer):
        address_family = family
        daemon_threads = True

    server = make_server(host, port, app, Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return server, thread


def check_textfile(path: Path) -> tuple[bool, str]:
    """What ``check`` can tell about the textfile: its folder exists, this process may
    write there, and a node_exporter running as another user may read it."""
    label = f"metrics textfile {path}"
    folder = path.parent
    if not folder.is_dir():
        # The unit's RuntimeDirectory= exists only while systemd runs the service (or the
        # README's pre-flight, which passes the same property).
        return False, (
            f"{label}: folder {folder} does not exist (create it, or run check "
            "with the README's systemd-run pre-flight line)"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return False, f"{label}: folder {folder} is not writable by this user"
    real = folder.resolve()
    for part in (real, *real.parents):
        need = stat.S_IXOTH | (stat.S_IROTH if part == real else 0)
        if part.stat().st_mode & need != need:
            return False, (
                f"{label}: {part} is not readable by other users, so a node_exporter running "
                "as its own user cannot read the file (the unit's RuntimeDirectory= "
                "/run/ilert-statuspage-sync is)"
            )
    return True, f"{label}: folder writable, readable by node_exporter"


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__
