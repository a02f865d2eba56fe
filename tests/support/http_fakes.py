"""Hand-written loopback HTTP servers that misbehave on purpose: trickle, hang, redirect.

The simulators answer like the vendors; these answer like a broken network or
a hostile middlebox, byte by byte, so the HTTP layer's deadlines and redirect
rules meet real sockets.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

__all__ = [
    "FakeRequest",
    "FakeServer",
    "hang",
    "json_answer",
    "redirect",
    "trickle",
    "wait_arrivals",
]


@dataclass(frozen=True)
class FakeRequest:
    """What a client sent: method, path (with query) and headers (lower-case names)."""

    method: str
    path: str
    headers: dict[str, str]


Answer = Callable[[socket.socket, FakeRequest, threading.Event], None]


class FakeServer:
    """Serves every request with ``answer(conn, request, closing)`` on 127.0.0.1."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[FakeRequest] = []
        self.arrived = threading.Event()
        self._closing = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting and cut every open connection."""
        self._closing.set()
        self._listener.close()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        try:
            while not self._closing.is_set():
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:])
                }
                length = int(headers.get("content-length", "0"))
                while len(data) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data[length:]
                request = FakeRequest(method, path, headers)
                with self._lock:
                    self.requests.append(request)
                self.arrived.set()
                self.answer(conn, request, self._closing)
        except OSError:
            return


def json_answer(status: int, body: Any, extra: str = "") -> Answer:
    """Answer at once with a JSON body (keeps the connection open)."""
    payload = json.dumps(body).encode()

    def answer(conn: socket.socket, _request: FakeRequest, _closing: threading.Event) -> None:
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n"
        )
        conn.sendall(head.encode() + payload)

    return answer


def redirect(status: int, location: str) -> Answer:
    """Answer a redirect to ``location``."""
    return json_answer(status, {}, extra=f"Location: {location}\r\n")


def trickle(gap: float, *, headers_too: bool = False, size: int = 10_000) -> Answer:
    """Send a (JSON) answer one byte every ``gap`` seconds; optionally its headers too."""

    def answer(conn: socket.socket, _request: FakeRequest, closing: threading.Event) -> None:
        body = b'{"id": "' + b"x" * size + b'", "status": "investigating"}'
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        if not headers_too:
            conn.sendall(head)
        for byte in (head if headers_too else b"") + body:
            if closing.wait(gap):
                return
            conn.sendall(bytes([byte]))

    return answer


def hang(conn: socket.socket, _request: FakeRequest, closing: threading.Event) -> None:
    """Read the request, never answer (until the server closes)."""
    closing.wait()
    del conn


def wait_arrivals(server: FakeServer, count: int, timeout: float = 30) -> None:
    """Wait until ``server`` has seen ``count`` requests."""
    deadline = time.monotonic() + timeout
    while len(server.requests) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(server.requests)} requests within {timeout}s")
        time.sleep(0.02)
