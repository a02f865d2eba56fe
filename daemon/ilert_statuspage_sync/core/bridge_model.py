"""iLert's own status model, as a status bridge reads it: incidents, services, windows.

Values parsed from ``GET /api/incidents``, ``GET /api/services`` and
``GET /api/maintenance-windows`` (``core.bridge_parse`` builds them; a field
of an unknown value is kept as read, never guessed). Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ilert_statuspage_sync.core.bridge_templates import BridgeTemplates

__all__ = [
    "INCIDENT_STATUSES",
    "SERVICE_STATUSES",
    "AffectedService",
    "IlertIncident",
    "IlertService",
    "MaintenanceWindow",
    "StatusBridge",
]

# iLert's incident statuses, in their order; each is a Statuspage realtime status, lower-cased.
INCIDENT_STATUSES = ("INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED")
# iLert's service statuses (also an affected service's impact), mildest first.
SERVICE_STATUSES = (
    "OPERATIONAL",
    "UNDER_MAINTENANCE",
    "DEGRADED",
    "PARTIAL_OUTAGE",
    "MAJOR_OUTAGE",
)


@dataclass(frozen=True, slots=True)
class AffectedService:
    """One service an iLert incident affects, and how."""

    service_id: int
    impact: str


@dataclass(frozen=True, slots=True)
class IlertIncident:
    """One iLert incident (incident communication), as listed."""

    id: int
    summary: str
    status: str
    message: str
    send_notification: bool
    created_at: datetime | None
    updated_at: datetime | None
    resolved_on: datetime | None
    affected: tuple[AffectedService, ...] = ()


@dataclass(frozen=True, slots=True)
class IlertService:
    """One iLert service and its current status."""

    id: int
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One iLert maintenance window; ``start``/``end`` are aware UTC."""

    id: int
    summary: str
    description: str
    start: datetime
    end: datetime
    timezone: str | None = None
    service_ids: tuple[int, ...] = ()
    source_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class StatusBridge:
    """Mirrors iLert's own status model (incidents, services, windows) onto one page."""

    name: str
    connector: str
    page_id: str
    # iLert service id -> Statuspage component id; only mapped services are published.
    services: Mapping[int, str]
    incidents: bool = True
    service_status: bool = True
    maintenance_windows: bool = True
    # Whose word sends subscriber notifications: "ilert" (the incident's sendNotification),
    # "always" or "never".
    notify: str = "ilert"
    # Patterns whose matches are masked in every published name and body.
    redact: tuple[re.Pattern[str], ...] = ()
    # The wording of names and bodies (``core.bridge_templates``).
    templates: BridgeTemplates = field(default_factory=BridgeTemplates)

    def component_of(self, service_id: int) -> str | None:
        """The component a service is mapped to, or None."""
        return self.services.get(service_id)
