"""The HTTP side of the simulators: request and response types and the socket handler.

`Listener` owns a `ThreadingHTTPServer` (one thread per connection) that parses
each request into a `SimRequest`, asks its `WireApp` (a `SimulatorServer`) for
the answer and writes it, or closes the connection without a word when the app
raises `DropConnection`. It tracks the open connections, so an outage or a stop
can cut open keep-alive connections too, and can rebind the same port.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "DropConnection",
    "HttpError",
    "Listener",
    "RecordedRequest",
    "SimRequest",
    "SimResponse",
    "WireApp",
    "format_timestamp",
    "int_param",
    "parse_timestamp",
]

# Reason phrases http.server does not know; 420 is Statuspage's "slow down".
_REASONS = {420: "Enhance Your Calm"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it, plus the status it answered.

    Header names are lower-cased, because HTTP header names are case-insensitive.
    `status` is 0 when the connection was closed without any HTTP answer. `fault`
    names the fault mode that shaped the outcome, None for ordinary handling:
    "inject", "fail", "malformed", "rate-limit", "drop", "drop-after-apply",
    "stall", "stall-after-apply", "down-error" or "down-hang".
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json_body: object | None
    status: int
    fault: str | None = None

    @classmethod
    def of(cls, request: SimRequest, status: int, fault: str | None = None) -> RecordedRequest:
        """Record `request` as answered `status` (0: no answer) under `fault`."""
        return cls(
            method=request.method,
            path=request.path,
            query={name: list(values) for name, values in request.query.items()},
            headers=dict(request.headers),
            json_body=request.json_body,
            status=status,
            fault=fault,
        )


@dataclass(frozen=True)
class SimRequest:
    """A parsed request handed to a simulator's router (HEAD arrives as GET)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json_body: object | None
    body_error: str | None = None

    def as_get(self) -> SimRequest:
        """The same request as a GET (HEAD is routed like GET)."""
        return dataclasses.replace(self, method="GET")


@dataclass(frozen=True)
class SimResponse:
    """What to answer: `body` None is empty, str/bytes are sent raw, anything else as JSON.

    A `Content-Type` in `headers` replaces the one derived from the body.
    """

    status: int
    body: object = None
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised by route code to answer an error in the simulator's own error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and `Z`, as both real APIs emit it."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: object) -> datetime | None:
    """Parse an ISO-8601 timestamp to aware UTC; None when absent or unparsable.

    A timestamp without an offset is read as UTC, as the iLert docs say "ISO-UTC".
    """
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
        # An offset can push a moment at the calendar's edge outside it (year 1 at +00:01).
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
    """The first value of an integer query parameter, or `default` when absent."""
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        raise HttpError(400, f"'{name}' must be an integer") from None


class DropConnection(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by `SimulatorServer.dispatch`: close the connection without answering."""


class WireApp(Protocol):
    """What the HTTP handler needs from a simulator."""

    def dispatch(
        self, request: SimRequest, client_gone: Callable[[], bool] | None = None
    ) -> SimResponse: ...

    def now(self) -> datetime:
        """The simulator's clock: every timestamp it serves, the ``Date`` header included."""
        ...


def _encode(body: object) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json; charset=utf-8"


def _decode_json(raw: bytes) -> tuple[object | None, str | None]:
    if not raw.strip():
        return None, None
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"Invalid JSON body: {exc}"
    except RecursionError:  # a 400 like any bad body, not a dropped connection
        return None, "Invalid JSON body: nested too deeply"


class Listener:
    """The listening socket of one simulator, its serving thread and open connections.

    Not locked itself: the simulator serialises `listen`, `close` and `cut`.
    """

    def __init__(self, app: WireApp, name: str) -> None:
        self.app = app
        self._name = name
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def listen(self, port: int = 0) -> int:
        """Serve on 127.0.0.1:`port` (0 picks a free one) in a daemon thread; the port."""
        httpd = _HttpServer(self, port)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self._name}-{httpd.server_port}",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread
        return httpd.server_port

    def close(self) -> None:
        """Stop accepting and close the listening socket (open connections stay)."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def cut(self) -> None:
        """Shut down every open connection; held requests find their client gone."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # Only shut down: the handler thread still owns (and closes) the socket.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def opened(self, connection: socket.socket) -> None:
        """Track a newly accepted connection."""
        with self._connections_lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        """Forget a finished connection."""
        with self._connections_lock:
            self._connections.discard(connection)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # Lets `set_down(None)` rebind the port while old connections sit in TIME_WAIT.
    allow_reuse_address = True

    def __init__(self, listener: Listener, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.listener = listener

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet about connections cut by the client or by a simulated outage."""


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive like the real APIs; every answer sets Content-Length.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY each answer on a
    # kept-alive connection waits ~40 ms for the client's delayed ACK, which would make
    # benchmarks measure the simulator instead of the daemon.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self._listener().opened(self.connection)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header on the simulator's clock, like its ``reportTime`` stamps."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return format_datetime(self._listener().app.now(), usegmt=True)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self._listener().closed(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read `.requests`, not stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _listener(self) -> Listener:
        server = self.server
        assert isinstance(server, _HttpServer)
        return server.listener

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        raw, length_error = self._read_body()
        body, body_error = _decode_json(raw)
        body_error = length_error or body_error
        request = SimRequest(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            json_body=body,
            body_error=body_error,
        )
        try:
            response = self._listener().app.dispatch(request, self._client_gone)
        except DropConnection:
            # No status line at all: the client sees the connection close under it.
            self.close_connection = True
            return
        self._write(response)

    def _client_gone(self) -> bool:
        """Whether the client closed (or reset) its end while its request was held."""
        try:
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True
        return peeked == b""

    def _read_body(self) -> tuple[bytes, str | None]:
        """The request's body, or why it cannot be read (answered 400)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Chunked uploads are not supported; drop the connection rather than desync it.
            self.close_connection = True
            return b"", None
        header = self.headers.get("Content-Length") or "0"
        try:
            length = int(header)
        except ValueError:
            self.close_connection = True  # where the body ends is unknown: no next request
            return b"", f"Invalid Content-Length header: {header[:40]!r}"
        return (self.rfile.read(length) if length > 0 else b""), None

    def _write(self, response: SimResponse) -> None:
        payload, content_type = _encode(response.body)
        if any(name.lower() == "content-type" for name in response.headers):
            content_type = None
        try:
            self.send_response(response.status, _REASONS.get(response.status))
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            # The client gave up (e.g. a timeout test) or an outage cut the socket.
            self.close_connection = True
