"""The lifecycle tables: what each iLert event does to a Statuspage incident.

``classic`` is the table iLert's own Statuspage connector documented first;
``realtime`` is the later one that only uses realtime incident statuses
(Statuspage documents ``in_progress`` as a maintenance status). Both are data,
so docs/how-it-works.md shows them as tables and the tests walk every row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ilert_statuspage_sync.core.model import EventKind

__all__ = ["DEFAULT_LIFECYCLE", "LIFECYCLES", "Rule", "RuleKind", "rule_for"]


class RuleKind(enum.StrEnum):
    """What a row of the table asks of Statuspage."""

    CREATE = "create"
    SET_STATUS = "set_status"
    ADD_BODY = "add_body"
    NO_CHANGE = "no_change"


@dataclass(frozen=True)
class Rule:
    """One cell of a lifecycle table."""

    kind: RuleKind
    status: str | None = None
    note: str | None = None  # why a NO_CHANGE row was chosen, when it was not the table


def _create(status: str) -> Rule:
    return Rule(RuleKind.CREATE, status)


def _set(status: str) -> Rule:
    return Rule(RuleKind.SET_STATUS, status)


_NO_CHANGE = Rule(RuleKind.NO_CHANGE)
_ADD_BODY = Rule(RuleKind.ADD_BODY)

# event -> (rule when the incident does not exist, rule when it exists)
_Table = dict[EventKind, tuple[Rule, Rule]]

CLASSIC: _Table = {
    EventKind.CREATED: (_create("identified"), _NO_CHANGE),
    EventKind.REASSIGNED: (_create("identified"), _NO_CHANGE),
    EventKind.ESCALATED: (_create("identified"), _NO_CHANGE),
    EventKind.PRIORITY_RAISED: (_create("identified"), _NO_CHANGE),
    EventKind.ACCEPTED: (_create("in_progress"), _set("in_progress")),
    EventKind.RESOLVED: (_create("resolved"), _set("resolved")),
    EventKind.COMMENT_ADDED: (_create("identified"), _ADD_BODY),
    EventKind.DELETED: (_NO_CHANGE, _set("resolved")),
}

REALTIME: _Table = {
    EventKind.CREATED: (_create("investigating"), _set("investigating")),
    EventKind.REASSIGNED: (_create("investigating"), _set("investigating")),
    EventKind.ESCALATED: (_create("investigating"), _set("investigating")),
    EventKind.PRIORITY_RAISED: (_create("investigating"), _set("investigating")),
    EventKind.ACCEPTED: (_create("identified"), _set("identified")),
    EventKind.RESOLVED: (_create("resolved"), _set("resolved")),
    EventKind.COMMENT_ADDED: (_create("identified"), _ADD_BODY),
    EventKind.DELETED: (_NO_CHANGE, _set("resolved")),
}

LIFECYCLES: dict[str, _Table] = {"classic": CLASSIC, "realtime": REALTIME}
# A config without `lifecycle`, and `demo` without `--lifecycle`, use this one.
DEFAULT_LIFECYCLE = "classic"


def rule_for(lifecycle: str, event: EventKind, *, incident_exists: bool) -> Rule:
    """The table cell for ``event`` under ``lifecycle``."""
    when_absent, when_present = LIFECYCLES[lifecycle][event]
    return when_present if incident_exists else when_absent
