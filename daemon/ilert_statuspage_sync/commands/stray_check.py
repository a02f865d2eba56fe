"""``check`` for incidents named by a forgotten action name (``core.relink.Stray``).

An unresolved incident of ours whose ``metadata.ilert.incident_action`` names
no configured action and no previous name (renamed twice, the second rename
listing only the name in between; or an action removed). One read of each
page's unresolved incidents and one iLert read per such incident: the line says
which action adopts it (the one on its page mirroring its alert's source), or
that none does and it stays open until resolved by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

from ilert_statuspage_sync.clients.ilert import IlertClient
from ilert_statuspage_sync.clients.statuspage import StatuspageClient
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.config.toml_text import toml_string
from ilert_statuspage_sync.core.parse import parse_alert
from ilert_statuspage_sync.core.relink import PageIncident, Stray, adopter, strays
from ilert_statuspage_sync.errors import ApiError, PayloadError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["stray_lines"]


def stray_lines(
    config: Config, ilert: IlertClient, statuspage: Mapping[str, StatuspageClient]
) -> list[tuple[bool | None, str]]:
    """A WARN per unresolved incident naming an action the config names nowhere."""
    actions = config.incident_actions
    action_pages = {action.name: action.page_id for action in actions}
    previous = {old: action.name for action in actions for old in action.previous_names}
    lines: list[tuple[bool | None, str]] = []
    for connector, page_id in sorted({(a.connector, a.page_id) for a in actions}):
        try:
            listed = statuspage[connector].unresolved_incidents(page_id)
        except (ApiError, PayloadError):
            continue  # the page's own line above already says why it cannot be read
        incidents = [PageIncident(page_id, i.id, i.status, i.metadata) for i in listed]
        lines += [
            _line(config, ilert, stray) for stray in strays(incidents, action_pages, previous)
        ]
    return lines


def _line(config: Config, ilert: IlertClient, stray: Stray) -> tuple[bool | None, str]:
    incident = stray.incident
    name = str(incident.metadata["ilert"]["incident_action"])[:200]  # the page's text: bounded
    said = (
        f"incident {incident.incident_id[:64]} on page {incident.page_id} "
        f"(alert {stray.alert_id}) "
        f"names incident action {name!r}, which the config names nowhere"
    )
    try:
        source = parse_alert(ilert.get_alert(stray.alert_id)).source_id
    except (ApiError, PayloadError) as error:
        return None, f"{said}; its alert cannot be read: {scrub(str(error))[:200]}"
    scopes = [(a.name, a.page_id, a.alert_sources) for a in config.incident_actions]
    owner = adopter(incident.page_id, source, scopes)
    if owner is None:
        return None, (
            f"{said}, and no single action on that page mirrors its alert's source: it is not "
            "synced (resolve it on the page, or name it in the right action's previous_names)"
        )
    return None, (
        f"{said}: {owner!r} adopts it (the one action there mirroring its alert's source); "
        f"add previous_names = [..., {toml_string(name)}] to {owner!r} to say so"
    )
