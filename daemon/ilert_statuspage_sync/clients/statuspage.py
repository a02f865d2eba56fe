"""Statuspage REST API v1: create, update and look up incidents of a page.

Reference: https://developer.statuspage.io/ (``POST /v1/pages/{page_id}/incidents``,
``PATCH /v1/pages/{page_id}/incidents/{incident_id}``, ``GET .../incidents``,
``GET .../incidents/unresolved``). Bodies are wrapped as ``{"incident": {...}}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.errors import PayloadError

__all__ = ["Incident", "StatuspageClient"]


@dataclass(frozen=True)
class Incident:
    """The parts of a Statuspage incident the daemon reads back."""

    id: str
    status: str
    metadata: Mapping[str, Any]
    update_bodies: tuple[str, ...]
    name: str = ""

    def traces_to(self, alert_id: int, action: str) -> bool:
        """True when our ``metadata.ilert`` marks this incident as mirroring the alert."""
        ilert = self.metadata.get("ilert") if isinstance(self.metadata, Mapping) else None
        return (
            isinstance(ilert, Mapping)
            and str(ilert.get("alert_id")) == str(alert_id)
            and ilert.get("incident_action") == action
        )


class StatuspageClient:
    """One connector (API key) of Statuspage."""

    def __init__(self, http: HttpService) -> None:
        self.http = http

    def get_page(self, page_id: str) -> Any:
        """The page itself: used by ``check`` to prove the key reaches it."""
        return self.http.get(f"/v1/pages/{page_id}")

    def create_incident(self, page_id: str, fields: Mapping[str, Any]) -> Incident:
        """Create an incident; not idempotent."""
        answer = self.http.write("POST", f"/v1/pages/{page_id}/incidents", {"incident": fields})
        return parse_incident(answer)

    def update_incident(
        self, page_id: str, incident_id: str, fields: Mapping[str, Any]
    ) -> Incident:
        """Update an incident; a ``body`` adds a timeline entry, so it is not idempotent."""
        path = f"/v1/pages/{page_id}/incidents/{incident_id}"
        return parse_incident(self.http.write("PATCH", path, {"incident": fields}))

    def get_incident(self, page_id: str, incident_id: str) -> Incident:
        """One incident with its updates."""
        return parse_incident(self.http.get(f"/v1/pages/{page_id}/incidents/{incident_id}"))

    def find_incident(self, page_id: str, alert_id: int, action: str) -> Incident | None:
        """The incident our metadata ties to ``alert_id``: unresolved ones, then the newest 100."""
        for incident in self._candidates(page_id):
            if incident.traces_to(alert_id, action):
                return incident
        return None

    def unresolved_incidents(self, page_id: str) -> list[Incident]:
        """Every unresolved incident of the page (up to 1,000), as listed."""
        found: list[Incident] = []
        for page in range(1, 11):
            batch = self.http.get(
                f"/v1/pages/{page_id}/incidents/unresolved", {"page": page, "per_page": 100}
            )
            found += _incidents(batch)
            if not isinstance(batch, list) or len(batch) < 100:
                break
        return found

    def _candidates(self, page_id: str) -> Iterator[Incident]:
        for page in range(1, 11):
            batch = self.http.get(
                f"/v1/pages/{page_id}/incidents/unresolved", {"page": page, "per_page": 100}
            )
            yield from _incidents(batch)
            if not isinstance(batch, list) or len(batch) < 100:
                break
        recent = self.http.get(f"/v1/pages/{page_id}/incidents", {"limit": 100, "page": 1})
        yield from _incidents(recent)


def _incidents(batch: object) -> list[Incident]:
    if not isinstance(batch, list):
        raise PayloadError("statuspage: an incident list was not a JSON list")
    return [parse_incident(item) for item in batch]


def parse_incident(payload: object) -> Incident:
    """Read the fields we need from an Incident object."""
    if not isinstance(payload, Mapping):
        raise PayloadError("statuspage: an incident was not a JSON object")
    incident_id, status = payload.get("id"), payload.get("status")
    if not isinstance(incident_id, str) or not isinstance(status, str):
        raise PayloadError("statuspage: an incident lacks a string 'id' or 'status'")
    metadata, name = payload.get("metadata"), payload.get("name")
    updates = payload.get("incident_updates")
    bodies = tuple(
        update["body"]
        for update in (updates if isinstance(updates, list) else [])
        if isinstance(update, Mapping) and isinstance(update.get("body"), str)
    )
    return Incident(
        id=incident_id,
        status=status,
        metadata=metadata if isinstance(metadata, Mapping) else {},
        update_bodies=bodies,
        name=name if isinstance(name, str) else "",
    )
