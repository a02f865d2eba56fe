"""The ``[[status_bridges]]`` tables: iLert's own status model mirrored onto one page.

A bridge maps iLert services to Statuspage components and says which of
incidents, service statuses and maintenance windows it publishes. Its name
keys the audit trail and history as an action's does, so it is unique among
bridges and actions alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ilert_statuspage_sync.config.page_refs import (
    COMPONENT_ID_RULE,
    is_component_id,
    read_connector,
    read_page_id,
)
from ilert_statuspage_sync.config.publish import parse_redact
from ilert_statuspage_sync.config.reader import Reader, glimpse, join, kind
from ilert_statuspage_sync.config.values import MAX_COMPONENTS, IncidentAction, StatusBridge
from ilert_statuspage_sync.core.bridge_templates import (
    BRIDGE_TEMPLATE_KEYS,
    BridgeTemplate,
    BridgeTemplates,
    compile_bridge_template,
)
from ilert_statuspage_sync.core.storable import ID_MAX
from ilert_statuspage_sync.core.vendor_ids import vendor_id

__all__ = ["BRIDGE_FEATURES", "BRIDGE_KEYS", "NOTIFY_POLICIES", "read_bridges"]

# What a bridge publishes; each is a boolean key, true by default.
BRIDGE_FEATURES = ("incidents", "service_status", "maintenance_windows")
# Who sets deliver_notifications: the iLert incident's sendNotification, or always, or never.
NOTIFY_POLICIES = ("ilert", "always", "never")
BRIDGE_KEYS = {
    "name",
    "connector",
    "page_id",
    "services",
    "notify",
    "redact",
    "templates",
    *BRIDGE_FEATURES,
}


def read_bridges(
    reader: Reader, value: object, actions: Collection[IncidentAction] = ()
) -> tuple[StatusBridge, ...]:
    """Every valid status bridge; names unique among bridges and ``actions``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.report("status_bridges", "must be [[status_bridges]] tables")
        return ()
    taken = _action_names(actions)
    bridges: list[StatusBridge] = []
    for index, raw in enumerate(value):
        prefix = f"status_bridges[{index}]"
        table = reader.attempt(None, reader.table, raw, prefix)
        if table is None:
            continue
        reader.no_unknown(table, BRIDGE_KEYS, prefix)
        bridge = _bridge(reader, table, prefix)
        if bridge is None:
            continue
        if any(other.name == bridge.name for other in bridges):
            reader.report(join(prefix, "name"), f"{bridge.name!r} is used twice")
        elif bridge.name in taken:
            reader.report(
                join(prefix, "name"),
                f"{bridge.name!r} is {taken[bridge.name]}; the audit trail and history key "
                "on names, so give the bridge its own",
            )
        elif not _shares_objects(reader, bridge, bridges, prefix):
            bridges.append(bridge)
    return tuple(bridges)


def _shares_objects(
    reader: Reader, bridge: StatusBridge, earlier: Collection[StatusBridge], prefix: str
) -> bool:
    """Report a service another bridge on the page publishes objects of: each would go out twice."""
    if not (bridge.incidents or bridge.maintenance_windows):
        return False
    for other in earlier:
        if other.page_id != bridge.page_id or not (other.incidents or other.maintenance_windows):
            continue
        for service in sorted(set(bridge.services) & set(other.services)):
            reader.report(
                f'{join(prefix, "services")}."{service}"',
                f"service {service} is also published by bridge {other.name!r} on the same page; "
                "its incidents and windows would be published twice",
            )
            return True
    return False


def _action_names(actions: Collection[IncidentAction]) -> dict[str, str]:
    """Names a bridge may not take: every action's, and every name an action had before
    (a pass moves what is stored under those to the action)."""
    taken = {
        old: f"a previous name of incident action {a.name!r}"
        for a in actions
        for old in a.previous_names
    }
    taken.update({a.name: "the name of an incident action" for a in actions})
    return taken


def _bridge(reader: Reader, table: Mapping[str, Any], prefix: str) -> StatusBridge | None:
    """One bridge, or None when any of its keys is wrong (the mistakes are collected)."""
    known = len(reader.errors)
    attempt = reader.attempt
    features = {key: _flag(reader, table, prefix, key) for key in BRIDGE_FEATURES}
    if not any(features.values()) and len(reader.errors) == known:
        reader.report(
            prefix,
            f"{', '.join(BRIDGE_FEATURES)} are all false, so the bridge would publish nothing; "
            "set one to true",
        )
    bridge = StatusBridge(
        name=attempt("", reader.stored_string, table, "name", prefix, 200),
        connector=read_connector(reader, table, prefix),
        page_id=attempt("", read_page_id, reader, table, prefix),
        services=attempt({}, _services, reader, table, prefix),
        incidents=features["incidents"],
        service_status=features["service_status"],
        maintenance_windows=features["maintenance_windows"],
        notify=attempt("ilert", reader.choice, table, "notify", prefix, NOTIFY_POLICIES, "ilert"),
        redact=attempt((), parse_redact, table, prefix, reader.origin),
        templates=attempt(BridgeTemplates(), _templates, reader, table, prefix),
    )
    return bridge if len(reader.errors) == known else None


def _templates(reader: Reader, table: Mapping[str, Any], prefix: str) -> BridgeTemplates:
    """``[status_bridges.templates]``: Jinja2 wording per key, checked at load like an action's."""
    key = join(prefix, "templates")
    value = table.get("templates", {})
    if not isinstance(value, Mapping):
        raise reader.fail(key, "must be a table ([status_bridges.templates])")
    configured = []
    for name, source in value.items():
        if name not in BRIDGE_TEMPLATE_KEYS:
            raise reader.fail(
                join(key, name), f"unknown template; known: {', '.join(BRIDGE_TEMPLATE_KEYS)}"
            )
        if not isinstance(source, str):
            raise reader.fail(join(key, name), "must be a string (Jinja2 template)")
        where = f"{reader.origin}: {join(key, name)}"
        make = compile_bridge_template if reader.templates else BridgeTemplate
        configured.append(make(name, source, where))
    return BridgeTemplates(tuple(configured))


def _flag(reader: Reader, table: Mapping[str, Any], prefix: str, key: str) -> bool:
    """A boolean key, true when absent; a string such as "false" is refused, not read."""
    value = table.get(key, True)
    if not isinstance(value, bool):
        reader.report(join(prefix, key), f"must be true or false, got {kind(value)}")
        return True
    return value


def _services(reader: Reader, table: Mapping[str, Any], prefix: str) -> dict[int, str]:
    """iLert service id (a TOML key, so a string of digits) -> component id; no component twice.

    Every wrong entry is reported, not just the first.
    """
    key = join(prefix, "services")
    value = table.get("services")
    if value is None:
        raise reader.fail(key, "missing")
    if not isinstance(value, Mapping):
        raise reader.fail(
            key,
            'must be a table of iLert service id = component id, e.g. { "101" = "ftgks51sfs2d" }, '
            f"got {kind(value)}",
        )
    if not value:
        raise reader.fail(key, "must map at least one iLert service to a component")
    if len(value) > MAX_COMPONENTS:
        raise reader.fail(key, f"must map at most {MAX_COMPONENTS} services")
    services: dict[int, str] = {}
    mapped_from: dict[str, str] = {}
    for raw_id, component in value.items():
        # Each entry's mistake is collected; any of them discards the bridge (``_bridge``).
        reader.attempt(None, _entry, reader, key, raw_id, component, services, mapped_from)
    return services


def _entry(
    reader: Reader,
    key: str,
    raw_id: object,
    component: object,
    services: dict[int, str],
    mapped_from: dict[str, str],
) -> None:
    """Check one ``"service id" = "component id"`` pair and add it to ``services``."""
    service_id = vendor_id(raw_id)
    if service_id is None:
        raise reader.fail(
            key,
            f"key {glimpse(raw_id)} is not an iLert service id: ASCII digits, 1 to {ID_MAX} "
            "(2^63-1)",
        )
    entry = f'{key}."{raw_id}"'
    if service_id in services:
        raise reader.fail(entry, f"names service {service_id} a second time")
    if not isinstance(component, str) or not is_component_id(component):
        raise reader.fail(entry, f"must be a component id: {COMPONENT_ID_RULE}")
    if component in mapped_from:
        raise reader.fail(
            entry,
            f"component {component!r} is also mapped from service {mapped_from[component]}; "
            "map each component from one service",
        )
    services[service_id] = component
    mapped_from[component] = str(raw_id)
