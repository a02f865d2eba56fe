"""Per-event status overrides on top of a lifecycle table (``statuses`` in the config).

An override replaces the status a row sets; ``"unchanged"`` leaves an existing
incident's status as it is. An event whose incident does not exist yet still
creates it: with the override's status, or the table's create status when the
override is ``"unchanged"`` (there is no status to leave unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping

from ilert_statuspage_sync.core.lifecycle import Rule, RuleKind, rule_for
from ilert_statuspage_sync.core.model import EventKind

__all__ = ["UNCHANGED", "overridden_rule"]

UNCHANGED = "unchanged"


def overridden_rule(
    lifecycle: str,
    event: EventKind,
    *,
    incident_exists: bool,
    statuses: Mapping[str, str],
) -> tuple[Rule, str | None]:
    """The rule for ``event`` and, for an ``ADD_BODY`` row, the status that rides along."""
    rule = rule_for(lifecycle, event, incident_exists=incident_exists)
    override = statuses.get(str(event))
    if override is None:
        return rule, None
    if rule.kind is RuleKind.CREATE:
        return (rule if override == UNCHANGED else Rule(RuleKind.CREATE, override)), None
    if rule.kind is RuleKind.ADD_BODY:
        return rule, None if override == UNCHANGED else override
    if override == UNCHANGED:
        return Rule(RuleKind.NO_CHANGE, note=f'statuses.{event} = "{UNCHANGED}"'), None
    return Rule(RuleKind.SET_STATUS, override), None
