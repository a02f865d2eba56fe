"""The shared HTTP machinery of the API simulators.

`SimulatorServer` owns the listening socket, the request log, fault injection,
response delays and the clock. Subclasses only authenticate and route a parsed
`SimRequest` to a `SimResponse`; everything on the wire (JSON decoding, HEAD,
recording, canned faults, quiet logging) happens here, under one lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "HttpError",
    "RecordedRequest",
    "SimRequest",
    "SimResponse",
    "SimulatorServer",
    "format_timestamp",
    "int_param",
    "parse_timestamp",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it, plus the status it answered.

    Header names are lower-cased, because HTTP header names are case-insensitive.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json_body: object | None
    status: int


@dataclass(frozen=True)
class SimRequest:
    """A parsed request handed to a simulator's router (HEAD arrives as GET)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json_body: object | None
    body_error: str | None = None


@dataclass(frozen=True)
class SimResponse:
    """What to answer: `body` None is empty, str/bytes are sent raw, anything else as JSON."""

    status: int
    body: object = None
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised by route code to answer an error in the simulator's own error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class _Fault:
    response: SimResponse
    remaining: int
    path_contains: str | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_contains is None or self.path_contains in path


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
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def int_param(query: Mapping[str, list[str]], name: str, default: int) -> int:
    """The first value of an integer query parameter, or `default` when absent."""
    values = query.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        raise HttpError(400, f"'{name}' must be an integer") from None


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


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, simulator: SimulatorServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.simulator = simulator


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive like the real APIs; every answer sets Content-Length.
    protocol_version = "HTTP/1.1"

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

    def _serve(self) -> None:
        server = self.server
        assert isinstance(server, _HttpServer)
        parts = urlsplit(self.path)
        body, body_error = _decode_json(self._read_body())
        request = SimRequest(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            json_body=body,
            body_error=body_error,
        )
        self._write(server.simulator.dispatch(request))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Chunked uploads are not supported; drop the connection rather than desync it.
            self.close_connection = True
            return b""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _write(self, response: SimResponse) -> None:
        payload, content_type = _encode(response.body)
        try:
            self.send_response(response.status)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a timeout test); nothing left to tell it.
            self.close_connection = True


class SimulatorServer:
    """An in-process HTTP server on 127.0.0.1 with recording, faults and delays."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._stopping = threading.Event()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._stopping.clear()
        self._httpd = _HttpServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release the port and wake any delayed responses."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. "http://127.0.0.1:40123"."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._httpd.server_port}"

    # -- test controls -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request answered so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests (the simulated data stays)."""
        with self._lock:
            self._requests.clear()

    def inject_fault(
        self,
        status: int,
        body: object,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with this canned response instead."""
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = _Fault(SimResponse(status, body, dict(headers or {})), times, path_contains, method)
        with self._lock:
            self._faults.append(fault)

    def set_delay(self, seconds: float) -> None:
        """Hold every response back by `seconds` (0 turns it off)."""
        if seconds < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._delay = seconds

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Use `clock` (returning aware datetimes) for every timestamp from now on."""
        with self._lock:
            self._clock = clock

    def now(self) -> datetime:
        """The simulator's current time, aware UTC."""
        with self._lock:
            moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the simulator clock must return timezone-aware datetimes")
        return moment.astimezone(UTC)

    # -- request handling --------------------------------------------------

    def dispatch(self, request: SimRequest) -> SimResponse:
        """Answer one request: a queued fault if one matches, else the real handling."""
        with self._lock:
            response = self._take_fault(request) or self._handle_safely(request)
            self._requests.append(_record(request, response.status))
            delay = self._delay
        if delay:
            self._stopping.wait(delay)
        return response

    def authenticate(self, request: SimRequest) -> None:
        """Raise `HttpError` when the request's credentials are not accepted."""

    def route(self, request: SimRequest) -> SimResponse:
        """Answer an authenticated request with a valid (or no) JSON body."""
        raise HttpError(404, f"No route for {request.method} {request.path}")

    def error_response(self, status: int, message: str) -> SimResponse:
        """Render an error in the simulated API's error shape."""
        return SimResponse(status, {"message": message})

    def _take_fault(self, request: SimRequest) -> SimResponse | None:
        for fault in self._faults:
            if fault.matches(request.method, request.path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.response
        return None

    def _handle_safely(self, request: SimRequest) -> SimResponse:
        routed = request if request.method != "HEAD" else _as_get(request)
        try:
            self.authenticate(routed)
            if routed.body_error is not None:
                raise HttpError(400, routed.body_error)
            return self.route(routed)
        except HttpError as exc:
            return self.error_response(exc.status, exc.message)
        except Exception as exc:  # noqa: BLE001 (a simulator bug must surface as a 500, not a hang)
            return self.error_response(500, f"simulator error: {exc!r}")


def _as_get(request: SimRequest) -> SimRequest:
    return SimRequest(
        "GET", request.path, request.query, request.headers, request.json_body, request.body_error
    )


def _record(request: SimRequest, status: int) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query={name: list(values) for name, values in request.query.items()},
        headers=dict(request.headers),
        json_body=request.json_body,
        status=status,
    )
