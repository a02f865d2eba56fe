"""What the Statuspage simulator holds, and how it speaks HTTP: auth, errors, the rate limit.

`StatuspageState` is the base of the Statuspage simulator's parts
(`_statuspage_components`, `_statuspage_incidents`, `_statuspage_maintenance`,
`statuspage`): the pages, incidents and components, the ids, and the pages'
own endpoints' helpers.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable

from ilert_statuspage_sync.simulators._faults import RateLimit, RollingWindowLimiter
from ilert_statuspage_sync.simulators._server import (
    HttpError,
    SimRequest,
    SimResponse,
    SimulatorServer,
    format_timestamp,
)
from ilert_statuspage_sync.simulators._statuspage_records import (
    ID_ALPHABET,
    JsonObject,
    new_page,
    throttled_response,
)

__all__ = ["StatuspageState"]


class StatuspageState(SimulatorServer):
    """Statuspage's stored pages, incidents and components, with its auth and error shape."""

    def __init__(
        self,
        api_key: str = "statuspage-sim-key",
        page_ids: Iterable[str] = ("kctbh9vrtdwd",),
        reject_maintenance_status: bool = False,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self._reject_maintenance_status = reject_maintenance_status
        # A text whose presence in an incident write's body earns a 422 (a content filter).
        self._forbidden_body: str | None = None
        # Ids only need to look like Statuspage's and be reproducible, not be secret.
        self._random = random.Random(seed)  # noqa: S311
        self._used_ids: set[str] = set()
        self._pages: dict[str, JsonObject] = {}
        self._incidents: dict[str, JsonObject] = {}
        # Every page's components (groups too) by id; each names its `page_id`.
        self._components: dict[str, JsonObject] = {}
        for page_id in page_ids:
            self.add_page(page_id)

    # -- HTTP --------------------------------------------------------------

    def authenticate(self, request: SimRequest) -> None:
        query_key = request.query.get("api_key", [None])[0]
        header = request.headers.get("authorization")
        if header != f"OAuth {self.api_key}" and query_key != self.api_key:
            raise HttpError(401, "Could not authenticate")

    def error_response(self, status: int, message: str) -> SimResponse:
        key = "message" if status == 404 else "error"
        return SimResponse(status, {key: message})

    def rate_limit_key(self, request: SimRequest) -> str:
        return self.api_key

    def set_rate_limit(
        self,
        limit: int | None,
        window: float = 60.0,
        status: int = 420,
        retry_after: float | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """Throttle like Statuspage: at most `limit` requests per API key in any `window`.

        The window rolls: a request is admitted when fewer than `limit` requests were
        admitted in the last `window` seconds of `monotonic` (default
        `time.monotonic`); Statuspage's own rule is 60 per 60 s. Only authenticated
        requests count, and a throttled one does not (so a client that backs off
        gets through once the window has rolled past its earlier requests). Over
        the limit the answer is `status` (420 or 429) with
        `{"error": "Rate limit exceeded"}`, plus `Retry-After: ceil(retry_after)`
        when `retry_after` is given. None lifts the limit; every call restarts counting.
        """
        if limit is None:
            self._install_rate_limit(None)
            return
        throttled = throttled_response(status, retry_after)
        limiter = RollingWindowLimiter(limit, window, monotonic)
        self._install_rate_limit(RateLimit(limiter, throttled))

    # -- pages and ids -------------------------------------------------------

    def _page(self, page_id: str) -> JsonObject:
        page = self._pages.get(page_id)
        if page is None:
            raise HttpError(404, "The requested resource could not be found.")
        return page

    def _new_id(self) -> str:
        while True:
            candidate = "".join(self._random.choices(ID_ALPHABET, k=12))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def add_page(self, page_id: str, name: str | None = None) -> None:
        """Make `page_id` exist (an existing page is left as it is)."""
        with self._lock:
            now = format_timestamp(self.now())
            self._pages.setdefault(page_id, new_page(page_id, name, now))

    def pages(self) -> list[JsonObject]:
        """Deep copies of every page, in the order they were added."""
        with self._lock:
            return copy.deepcopy(list(self._pages.values()))

    def refuse_bodies_containing(self, text: str | None) -> None:
        """Answer 422 to incident writes whose body contains ``text`` (None: accept all).

        Models a content filter refusing a link or word: the status and other
        fields of the same write are fine, only the body is refused.
        """
        with self._lock:
            self._forbidden_body = text

    def set_reject_maintenance_status(self, reject: bool) -> None:
        """Answer 422 to maintenance statuses on realtime incidents (or accept them again)."""
        with self._lock:
            self._reject_maintenance_status = reject
