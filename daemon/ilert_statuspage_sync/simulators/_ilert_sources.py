"""The iLert simulator's alert sources: `GET /api/alert-sources[/{id}]` and their controls."""

from __future__ import annotations

import copy

from ilert_statuspage_sync.simulators._ilert_query import MAX_SOURCE_RESULTS, paging
from ilert_statuspage_sync.simulators._ilert_records import (
    SET_SOURCE_STATUSES,
    JsonObject,
    alert_id_of,
    new_source,
    source_id_of,
    source_status,
)
from ilert_statuspage_sync.simulators._ilert_state import IlertState
from ilert_statuspage_sync.simulators._server import HttpError, SimRequest, SimResponse

__all__ = ["AlertSources"]


class AlertSources(IlertState):
    """Alert sources, paged by `start-index`/`max-results` (at most 50)."""

    def _route_alert_sources(self, request: SimRequest, rest: list[str]) -> SimResponse:
        if request.method != "GET":
            raise HttpError(405, f"{request.method} is not supported by the simulator here")
        if not rest:
            start, limit = paging(request.query, cap=MAX_SOURCE_RESULTS)
            shown = sorted(self._alert_sources.keys() - self._hidden_sources)
            chosen = shown[start : start + limit]
            return SimResponse(200, [self._render_source(i) for i in chosen])
        if len(rest) == 1:
            source_id = alert_id_of(rest[0], "Alert source")
            if source_id not in self._alert_sources or source_id in self._hidden_sources:
                raise HttpError(404, f"Alert source {source_id} does not exist")
            return SimResponse(200, self._render_source(source_id))
        raise HttpError(404, f"No resource at {request.path}")

    def _render_source(self, source_id: int) -> JsonObject:
        """The stored source with its read-only status worked out from its alerts."""
        source = copy.deepcopy(self._alert_sources[source_id])
        if source["status"] is None:
            states = {
                alert.get("status")
                for alert in self._alerts.values()
                if source_id_of(alert) == source_id
            }
            source["status"] = source_status(states)
        return source

    def hide_alert_source(self, source_id: int, *, hidden: bool = True) -> None:
        """The key loses (or regains) sight of a source, as when its scope is narrowed: the
        source and every alert of it answer 404 and leave the listings, as iLert answers for
        what does not exist."""
        with self._lock:
            (self._hidden_sources.add if hidden else self._hidden_sources.discard)(source_id)
            self._generation += 1

    def add_alert_source(
        self,
        name: str,
        *,
        source_id: int | None = None,
        escalation_policy_id: int = 1,
        escalation_policy_name: str | None = None,
        integration_type: str = "API",
        status: str | None = None,
        integration_key: str | None = None,
    ) -> int:
        """Create (or replace) an alert source; returns its id.

        `status` may only be a status a user sets (IN_MAINTENANCE, DISABLED); by
        default it follows the source's alerts (PENDING, ALL_ACCEPTED, ALL_RESOLVED).
        `integration_key` (default `sim-integration-{id}`) is what `POST /api/events` names it by.
        """
        if status is not None and status not in SET_SOURCE_STATUSES:
            raise ValueError(f"status must be None or one of {sorted(SET_SOURCE_STATUSES)}")
        with self._lock:
            if source_id is None:
                source_id = max(self._alert_sources, default=0) + 1
            self._alert_sources[source_id] = new_source(
                source_id,
                name,
                policy_id=escalation_policy_id,
                policy_name=escalation_policy_name,
                integration_type=integration_type,
                integration_key=integration_key or f"sim-integration-{source_id}",
                status=status,
            )
            return source_id

    def _source_of_integration_key(self, key: str) -> int | None:
        """Under the lock: the id of the source the integration key belongs to, if any."""
        for source_id, source in self._alert_sources.items():
            if source["integrationKey"] == key:
                return source_id
        return None

    def alert_sources(self) -> list[JsonObject]:
        """Every alert source as the API would serve it, by id."""
        with self._lock:
            return [self._render_source(i) for i in sorted(self._alert_sources)]
