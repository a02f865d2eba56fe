"""systemd's notify protocol (``Type=notify``): READY, WATCHDOG and STATUS.

A datagram to ``$NOTIFY_SOCKET``; a no-op when systemd did not set it, so the
daemon behaves the same outside systemd. Written here rather than pulled in as
a dependency: the protocol is one ``sendto``.

``keepalive`` sends WATCHDOG=1 during a pass (the HTTP layer calls it before
each request and while it waits on a rate budget), at most once per a quarter
of systemd's ``WATCHDOG_USEC`` and at most every 5 s, so a long, healthy pass
that paces a burst is never killed by the watchdog.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping

import structlog

from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["Notifier"]

log = structlog.get_logger(__name__)

# The longest gap between keep-alive pings during a pass.
KEEPALIVE_EVERY = 5.0


class Notifier:
    """Sends state lines to systemd, if systemd is listening."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
        # A leading "@" names a socket in the abstract namespace.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.ready_sent = False
        self.keepalive_every = _keepalive_every(os.environ if environ is None else environ)
        self._last_keepalive = -math.inf

    def send(self, **fields: str) -> bool:
        """Send ``KEY=value`` lines; False when there is no socket or it failed."""
        if not self.address:
            return False
        # STATUS= shows in `systemctl status`: it leaves the process like a log line.
        payload = "\n".join(f"{key}={scrub(value)}" for key, value in fields.items()).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(payload)
        except OSError as error:
            log.warning("sd_notify_failed", error=str(error))
            return False
        return True

    def ready(self, status: str) -> None:
        """READY=1 once (migrations applied, first pass done), with a status line."""
        if not self.ready_sent:
            self.ready_sent = True
            self.send(READY="1", STATUS=status)
        else:
            self.send(STATUS=status)

    def watchdog(self, status: str) -> None:
        """The daemon is alive; say what it is doing."""
        self.send(WATCHDOG="1", STATUS=status)

    def keepalive(self) -> None:
        """WATCHDOG=1 from inside a pass, rate-limited to one per ``keepalive_every``.

        Silent before READY=1: systemd arms the watchdog once start-up is complete.
        """
        now = time.monotonic()
        if self.ready_sent and now - self._last_keepalive >= self.keepalive_every:
            self._last_keepalive = now
            self.send(WATCHDOG="1")

    def stopping(self) -> None:
        """Tell systemd a stop is under way."""
        self.send(STOPPING="1", STATUS="finishing the current pass, then exiting")


def _keepalive_every(environ: Mapping[str, str]) -> float:
    """A quarter of systemd's watchdog interval (it asks for pings at half), capped."""
    try:
        interval = int(environ.get("WATCHDOG_USEC", "")) / 1e6
    except ValueError:
        return KEEPALIVE_EVERY
    return min(KEEPALIVE_EVERY, interval / 4) if interval > 0 else KEEPALIVE_EVERY
