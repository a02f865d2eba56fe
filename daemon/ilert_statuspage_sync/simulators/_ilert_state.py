"""What the iLert simulator holds, and how it speaks HTTP: auth, errors, the rate limit.

`IlertState` is the base of the iLert simulator's parts (`_ilert_sources`,
`_ilert_alerts`, `ilert`): the stored alerts, timelines and sources, and the
helpers that find and change them under the server's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ilert_statuspage_sync.simulators._faults import FixedWindowLimiter, RateLimit
from ilert_statuspage_sync.simulators._ilert_query import ALERT_STATES
from ilert_statuspage_sync.simulators._ilert_records import (
    JsonObject,
    new_log_entry,
    responder,
    source_id_of,
)
from ilert_statuspage_sync.simulators._server import (
    HttpError,
    SimRequest,
    SimResponse,
    SimulatorServer,
    format_timestamp,
)

__all__ = ["IlertState"]

_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "KEY_ERROR",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMITED",
}


class IlertState(SimulatorServer):
    """iLert's stored alerts, timelines and sources, with its auth and error shape."""

    def __init__(self, api_key: str = "ilert-sim-key") -> None:
        super().__init__()
        self.api_key = api_key
        self._alerts: dict[int, JsonObject] = {}
        self._log_entries: dict[int, list[JsonObject]] = {}
        self._next_alert_id = 1
        self._next_log_entry_id = 1
        self._alert_sources: dict[int, JsonObject] = {}
        # Sources the key no longer sees (a narrowed scope): they and their alerts answer 404.
        self._hidden_sources: set[int] = set()
        self._alerts_served = 0
        # Bumped by every change to an alert: a paged listing filters and sorts once.
        self._generation = 0
        self._listed: tuple[object, list[JsonObject]] | None = None
        # iLert documents no order for log entries: newest first unless a test says otherwise.
        self._log_newest_first = True
        # A broken server: `GET /api/alerts` pads every page with alerts never seen before.
        self._endless_listing: bool | int | None = None

    # -- HTTP --------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> None:
        header = request.headers.get("authorization")
        if header is None:
            raise HttpError(401, "Missing 'Authorization' header")
        if header != f"Bearer {self.api_key}":
            raise HttpError(403, "The API key is invalid, revoked or malformed")

    def error_response(self, status: int, message: str) -> SimResponse:
        code = _ERROR_CODES.get(status, "ERROR")
        return SimResponse(status, {"status": status, "message": message, "code": code})

    def rate_limit_key(self, request: SimRequest) -> str:
        return self.api_key

    def set_rate_limit(
        self,
        limit: int | None,
        window: float = 60.0,
        *,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Throttle like iLert: at most `limit` requests per API key per fixed window.

        Windows are aligned to multiples of `window` seconds of `monotonic` (default
        `time.monotonic`); iLert's own rule is 120 per minute. Only authenticated
        requests count, and a throttled one does not. Over the limit the answer is
        429 `{"status": 429, "message": "Too many requests", "code": "RATE_LIMITED"}`
        without Retry-After. None lifts the limit; every call restarts counting.
        """
        if limit is None:
            self._install_rate_limit(None)
            return
        limiter = FixedWindowLimiter(limit, window, monotonic)
        throttled = self.error_response(429, "Too many requests")
        self._install_rate_limit(RateLimit(limiter, throttled))

    # -- helpers -----------------------------------------------------------

    def _stored(self, alert_id: int) -> JsonObject:
        alert = self._alerts.get(alert_id)
        if alert is None or not self._visible(alert):
            raise HttpError(404, f"Alert {alert_id} does not exist")
        return alert

    def _visible(self, alert: JsonObject) -> bool:
        """Whether the key sees the alert (its source is not hidden from it)."""
        return source_id_of(alert) not in self._hidden_sources

    def _take_alert_id(self) -> int:
        alert_id = self._next_alert_id
        self._next_alert_id += 1
        return alert_id

    def _managed(self, alert_id: int) -> JsonObject:
        alert = self._alerts[alert_id]
        if not isinstance(alert.get("responders"), list) or alert.get("status") not in ALERT_STATES:
            raise ValueError(f"alert {alert_id} was planted raw; control methods cannot change it")
        return alert

    def _open_alert(self, alert_id: int) -> JsonObject:
        alert = self._managed(alert_id)
        if alert["status"] == "RESOLVED":
            raise ValueError(f"alert {alert_id} is resolved; iLert cannot reopen it")
        return alert

    def _responder_of(self, alert: JsonObject, user_id: int) -> JsonObject:
        for entry in alert["responders"]:
            if entry["user"]["id"] == user_id:
                found: JsonObject = entry
                return found
        # A user outside the responder list may still accept; iLert then lists them.
        added = responder(user_id)
        alert["responders"].append(added)
        return added

    def _log(
        self,
        alert_id: int,
        entry_type: str,
        text: str,
        variables: dict[str, str],
        *,
        at: datetime | None = None,
    ) -> int:
        entry_id = self._next_log_entry_id
        self._next_log_entry_id += 1
        self._generation += 1  # every change to an alert is logged
        stamp = format_timestamp(at or self.now())
        entry = new_log_entry(entry_id, alert_id, entry_type, text, variables, stamp)
        self._log_entries.setdefault(alert_id, []).append(entry)
        return entry_id
