"""``check`` for components: every listed component exists on its page and can be set.

One read of the page's components per page and key; one line per listed
component, with its name and current status; an id the page lacks, or a
component group's id (a group's status follows its members), is a FAIL line.
"""

from __future__ import annotations

from collections.abc import Mapping

from ilert_statuspage_sync.clients.statuspage import ListedComponent, StatuspageClient
from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.errors import PayloadError, PermanentApiError, TransientApiError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["check_lines", "component_line", "listed_components"]


def check_lines(
    config: Config, statuspage: Mapping[str, StatuspageClient]
) -> list[tuple[bool, str]]:
    """``check``: one line per listed component (its name), one read per page and key."""
    lines: list[tuple[bool, str]] = []
    read: dict[tuple[str, str], dict[str, ListedComponent] | str] = {}
    for action in config.incident_actions:
        if not action.components:
            continue
        key = (action.connector, action.page_id)
        if key not in read:
            read[key] = listed_components(statuspage[action.connector], action.page_id)
        found = read[key]
        where = f"on page {action.page_id} for {action.name}"
        if isinstance(found, str):
            lines.append((False, f"components {where}: cannot list them: {found}"))
            continue
        lines += [component_line(cid, found.get(cid), where) for cid in action.components]
    return lines


def listed_components(client: StatuspageClient, page_id: str) -> dict[str, ListedComponent] | str:
    """The page's components by id, or why they could not be read."""
    try:
        return client.component_statuses(page_id)
    except (PermanentApiError, TransientApiError, PayloadError) as error:
        return scrub(str(error))[:300]


def component_line(
    component_id: str, component: ListedComponent | None, where: str
) -> tuple[bool, str]:
    if component is None:
        return (
            False,
            f"component {component_id} {where}: not found on the page; "
            "`discover` lists the page's components",
        )
    if component.is_group:
        return (
            False,
            f"component {component_id} ({component.name}) {where}: is a component "
            "group, whose status follows its members; list the members instead",
        )
    return (
        True,
        f"component {component_id} ({component.name}) {where}: exists, now {component.status}",
    )
