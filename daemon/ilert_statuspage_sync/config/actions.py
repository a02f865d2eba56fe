"""The ``[[incident_actions]]`` tables: which alert sources go onto which page, and how."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ilert_statuspage_sync.config.page_refs import (
    COMPONENT_ID_RULE,
    is_component_id,
    read_connector,
    read_page_id,
)
from ilert_statuspage_sync.config.publish import PUBLISH_KEYS, parse_publish_policy
from ilert_statuspage_sync.config.reader import Reader, join, kind
from ilert_statuspage_sync.config.values import MAX_COMPONENTS, IncidentAction
from ilert_statuspage_sync.core.components import DEFAULT_COMPONENT_STATUS, SETTABLE_STATUSES
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.storable import ID_MAX as MAX_ID

__all__ = ["ACTION_KEYS", "read_actions"]

ACTION_KEYS = {
    "name",
    "alert_sources",
    "connector",
    "page_id",
    "trigger_mode",
    "notify_subscribers",
    "components",
    "component_status",
    "group",
    "previous_names",
} | PUBLISH_KEYS
_PRIORITIES = ("HIGH", "LOW")


def read_actions(reader: Reader, value: object) -> tuple[IncidentAction, ...]:
    """Every valid incident action; names must be unique, sources not doubly published."""
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.report("incident_actions", "must be [[incident_actions]] tables")
        return ()
    actions: dict[str, IncidentAction] = {}
    for index, raw in enumerate(value):
        prefix = f"incident_actions[{index}]"
        table = reader.attempt(None, reader.table, raw, prefix)
        if table is None:
            continue
        reader.no_unknown(table, ACTION_KEYS, prefix)
        action = _action(reader, table, prefix)
        if action is None:
            continue
        if any(existing.name == action.name for existing in actions.values()):
            reader.report(join(prefix, "name"), f"{action.name!r} is used twice")
            continue
        _overlap(reader, prefix, action, actions)
        actions[prefix] = action
    _renames(reader, actions)
    return tuple(actions.values())


def _renames(reader: Reader, actions: Mapping[str, IncidentAction]) -> None:
    """A previous name must be gone from the config and belong to one action only.

    Its links move to the action that names it: a name still in use, or claimed
    twice, would leave no single owner for them.
    """
    current = {action.name for action in actions.values()}
    claimed: dict[str, str] = {}
    for prefix, action in actions.items():
        key = join(prefix, "previous_names")
        for old in action.previous_names:
            if old in current:
                reader.report(
                    key,
                    f"{old!r} is the name of a configured action; a previous name must be one "
                    "no action has any more",
                )
            elif old in claimed:
                reader.report(key, f"{old!r} is also a previous name of {claimed[old]!r}")
            claimed.setdefault(old, action.name)


def _overlap(
    reader: Reader, prefix: str, action: IncidentAction, earlier: Mapping[str, IncidentAction]
) -> None:
    """Two actions putting one source's alerts on one page would publish each alert twice.

    When both filter (min_priority, include, exclude) they may split the
    alerts between them, so that is only a warning.
    """
    for where, other in earlier.items():
        shared = sorted(set(action.alert_sources) & set(other.alert_sources))
        if other.page_id != action.page_id or not shared:
            continue
        both = (
            f"{prefix} {action.name!r} and {where} {other.name!r} both mirror alert source "
            f"{', '.join(map(str, shared))} onto page {action.page_id}"
        )
        if _filters(action.publish) and _filters(other.publish):
            reader.warnings.append(
                f"{reader.origin}: {both}; make sure their filters never both publish an alert"
            )
        else:
            reader.report(
                "",
                f"{both}, so every alert would be published twice; "
                "give each source on a page to one action",
            )


def _filters(policy: PublishPolicy) -> bool:
    """Whether an action publishes only some alerts of its sources."""
    return policy.min_priority != "LOW" or policy.include is not None or policy.exclude is not None


def _action(reader: Reader, table: Mapping[str, Any], prefix: str) -> IncidentAction | None:
    """One action, or None when any of its keys is wrong (the mistakes are collected)."""
    known = len(reader.errors)
    connector = read_connector(reader, table, prefix)
    notify = table.get("notify_subscribers", True)
    if not isinstance(notify, bool):
        reader.report(join(prefix, "notify_subscribers"), "must be true or false")
    attempt = reader.attempt
    action = IncidentAction(
        name=attempt("", reader.stored_string, table, "name", prefix, 200),
        alert_sources=attempt(
            (), _sources, reader, table.get("alert_sources"), join(prefix, "alert_sources")
        ),
        connector=connector,
        page_id=attempt("", read_page_id, reader, table, prefix),
        trigger_mode=attempt(
            "automatic",
            reader.choice,
            table,
            "trigger_mode",
            prefix,
            ("automatic", "manual"),
            "automatic",
        ),
        notify_subscribers=notify is not False,
        group=attempt("alert", reader.choice, table, "group", prefix, ("alert", "action"), "alert"),
        publish=attempt(
            PublishPolicy(), parse_publish_policy, table, prefix, reader.origin, reader.templates
        ),
        components=attempt((), _components, reader, table, prefix),
        component_status=attempt(
            dict(DEFAULT_COMPONENT_STATUS), _component_status, reader, table, prefix
        ),
        previous_names=attempt((), _previous_names, reader, table, prefix),
    )
    return action if len(reader.errors) == known else None


def _components(reader: Reader, table: Mapping[str, Any], prefix: str) -> tuple[str, ...]:
    """Statuspage component ids: request path segments, like page ids; no repeats."""
    key = join(prefix, "components")
    value = table.get("components", [])
    if not isinstance(value, list):
        raise reader.fail(key, f"must be a list of Statuspage component ids, got {kind(value)}")
    if len(value) > MAX_COMPONENTS:
        raise reader.fail(key, f"must list at most {MAX_COMPONENTS} components")
    if not all(is_component_id(item) for item in value):
        raise reader.fail(key, f"each must be a component id: {COMPONENT_ID_RULE}")
    if len(set(value)) != len(value):
        repeated = next(item for item in value if value.count(item) > 1)
        raise reader.fail(key, f"{repeated!r} is listed twice")
    if "component_status" in table and not value:
        raise reader.fail(
            join(prefix, "component_status"), "has no effect without components; list them"
        )
    return tuple(value)


def _component_status(reader: Reader, table: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """Component status by iLert priority; a priority left out keeps its default."""
    key = join(prefix, "component_status")
    value = table.get("component_status", {})
    if not isinstance(value, Mapping):
        raise reader.fail(
            key, 'must be a table such as { HIGH = "major_outage", LOW = "partial_outage" }'
        )
    statuses = dict(DEFAULT_COMPONENT_STATUS)
    for priority, status in value.items():
        if priority not in _PRIORITIES:
            raise reader.fail(
                join(key, str(priority)[:40]),
                f"unknown alert priority; iLert priorities are {', '.join(_PRIORITIES)}",
            )
        if status not in SETTABLE_STATUSES:
            raise reader.fail(
                join(key, priority),
                f"must be one of {', '.join(SETTABLE_STATUSES)} (operational would hide "
                "the outage; under_maintenance belongs to scheduled maintenance)",
            )
        statuses[priority] = status
    return statuses


def _previous_names(reader: Reader, table: Mapping[str, Any], prefix: str) -> tuple[str, ...]:
    """The action's earlier names, each as ``name`` allows; none twice."""
    key = join(prefix, "previous_names")
    value = table.get("previous_names", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise reader.fail(key, "must be a list of the names this action had before")
    names = tuple(
        reader.stored_string({"previous_names": item}, "previous_names", prefix, 200)
        for item in value
    )
    if len(set(names)) != len(names):
        raise reader.fail(key, "lists a name twice")
    return names


def _sources(reader: Reader, value: object, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise reader.fail(key, "must be a non-empty list of alert source ids")
    if not all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        raise reader.fail(key, "alert source ids must be integers")
    if not all(1 <= item <= MAX_ID for item in value):
        raise reader.fail(key, f"alert source ids must be from 1 to {MAX_ID} (2^63-1)")
    return tuple(value)
