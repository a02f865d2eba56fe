"""``check`` for status bridges: every id against both accounts, and what would be published.

Per bridge: its page with its connector's key; each mapped component (as
``component_check`` checks an action's); each mapped iLert service (one
services read for all bridges); then, as a preview, the open iLert incidents
and OPEN maintenance windows the bridge would publish now, decided by the same
``core.bridge`` a pass uses. Nothing is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import ListedComponent, StatuspageClient
from ilert_statuspage_sync.commands.component_check import component_line, listed_components
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.core.bridge import plan_incident, plan_window, window_components
from ilert_statuspage_sync.core.bridge_model import (
    IlertIncident,
    IlertService,
    MaintenanceWindow,
    StatusBridge,
)
from ilert_statuspage_sync.core.templates import RenderError
from ilert_statuspage_sync.errors import ApiError, PayloadError
from ilert_statuspage_sync.runtime.secrets import scrub
from ilert_statuspage_sync.sync.bridges import components_by_source

__all__ = ["bridge_lines"]

Line = tuple[bool | None, str]
_OPEN = ("INVESTIGATING", "IDENTIFIED", "MONITORING")


def bridge_lines(
    config: Config,
    ilert: IlertClient,
    statuspage: Mapping[str, StatuspageClient],
    probe: Callable[[str, Callable[[], object]], Line],
) -> list[Line]:
    """The lines of every bridge; nothing when none is configured."""
    if not config.status_bridges:
        return []
    lines: list[Line] = []
    services = _services(ilert)
    if isinstance(services, str):
        lines.append((False, f"iLert services: cannot list them: {services}"))
    read: dict[tuple[str, str], dict[str, ListedComponent] | str] = {}
    for bridge in config.status_bridges:
        client = statuspage[bridge.connector]
        label = f"Statuspage page {bridge.page_id} for bridge {bridge.name}"
        lines.append(probe(label, functools.partial(client.get_page, bridge.page_id)))
        key = (bridge.connector, bridge.page_id)
        if key not in read:
            read[key] = listed_components(client, bridge.page_id)
        lines += _mapped(bridge, services, read[key])
        lines += _preview(config, bridge, ilert)
    return lines


def _services(ilert: IlertClient) -> dict[int, IlertService] | str:
    try:
        return {service.id: service for service in ilert.list_services().items}
    except (ApiError, PayloadError) as error:
        return scrub(str(error))[:300]


def _mapped(
    bridge: StatusBridge,
    services: dict[int, IlertService] | str,
    components: dict[str, ListedComponent] | str,
) -> list[Line]:
    """One line per mapped service and one per mapped component."""
    where = f"on page {bridge.page_id} for bridge {bridge.name}"
    lines: list[Line] = []
    for service_id, component_id in sorted(bridge.services.items()):
        if isinstance(services, dict):
            service = services.get(service_id)
            if service is None:
                lines.append(
                    (False, f"iLert service {service_id} for bridge {bridge.name}: not found; "
                     "`discover` lists the services")
                )  # fmt: skip
            else:
                lines.append(
                    (True, f"iLert service {service_id} ({service.name}) for bridge "
                     f"{bridge.name}: exists, now {service.status}")
                )  # fmt: skip
        if isinstance(components, str):
            lines.append((False, f"components {where}: cannot list them: {components}"))
        else:
            lines.append(component_line(component_id, components.get(component_id), where))
    return lines


def _preview(config: Config, bridge: StatusBridge, ilert: IlertClient) -> list[Line]:
    """What the bridge would publish now (the same decisions a pass makes on an empty page)."""
    lines: list[Line] = []
    try:
        incidents = ilert.list_incidents(states=_OPEN, services=sorted(bridge.services)).items
        windows = ilert.list_maintenance_windows("OPEN").items if bridge.maintenance_windows else ()
    except (ApiError, PayloadError) as error:
        return [(False, f"bridge {bridge.name}: cannot read iLert: {scrub(str(error))[:300]}")]
    try:
        lines += _would_publish(config, bridge, incidents if bridge.incidents else (), windows)
    except RenderError as error:
        return [(False, f"bridge {bridge.name}: {scrub(str(error))[:300]}")]
    if not lines:
        lines.append((True, f"bridge {bridge.name}: nothing to publish now"))
    return lines


def _would_publish(
    config: Config,
    bridge: StatusBridge,
    incidents: Iterable[IlertIncident],
    windows: Iterable[MaintenanceWindow],
) -> list[Line]:
    """A line per object the bridge would publish on an empty page now, with its public name."""
    lines: list[Line] = []
    for incident in incidents:
        write = plan_incident(bridge, incident.id, incident, None)
        if write is not None:
            lines.append(
                (True, f"bridge {bridge.name} would publish incident {incident.id} as "
                 f"{write.fields['name']!r} ({write.fields['status']})")
            )  # fmt: skip
    by_source = components_by_source(config, bridge)
    now = datetime.now(UTC)
    for window in windows:
        parts = window_components(bridge, window, by_source)
        write = plan_window(bridge, window.id, window, None, now, parts)
        if write is not None:
            lines.append(
                (True, f"bridge {bridge.name} would schedule maintenance {window.id} as "
                 f"{write.fields['name']!r} from {window.start:%Y-%m-%d %H:%M}Z")
            )  # fmt: skip
    return lines
