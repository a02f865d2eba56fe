"""What one incident action lets reach its public page: the settings, as values.

The defaults are today's behaviour: every alert is published at once with its
summary and details, every comment verbatim (as plain text), every write
notifies subscribers, and the lifecycle table alone chooses statuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ilert_statuspage_sync.core.model import EventKind
from ilert_statuspage_sync.core.templates import Templates

__all__ = [
    "COMMENT_MODES",
    "NOTIFY_KINDS",
    "OVERRIDE_STATUSES",
    "PRIORITIES",
    "UNCHANGED",
    "PublishPolicy",
]

PRIORITIES = ("LOW", "HIGH")
COMMENT_MODES = ("all", "marked", "none")
# Write kinds a subscriber may be notified of; "resolved" is its own kind so
# "notify on resolve only" can be said.
NOTIFY_KINDS = ("created", "status_changed", "body_updated", "resolved")
UNCHANGED = "unchanged"
# Overrides take realtime incident statuses only: a maintenance status is refused by
# Statuspage on an incident, and an override must not be able to break the page.
OVERRIDE_STATUSES = ("investigating", "identified", "monitoring", "resolved", UNCHANGED)
STATUS_EVENTS = tuple(str(kind) for kind in EventKind)


@dataclass(frozen=True)
class PublishPolicy:
    """Filters, flap guard, comment guard, wording, redaction, notifications, statuses."""

    min_priority: str = "LOW"
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    publish_after: float = 0.0
    notify: frozenset[str] = frozenset(NOTIFY_KINDS)
    comments: str = "all"
    comment_marker: str = "#public"
    redact: tuple[re.Pattern[str], ...] = ()
    # (event, status) pairs; a tuple keeps the policy hashable like the config around it.
    status_overrides: tuple[tuple[str, str], ...] = ()
    templates: Templates = field(default_factory=Templates)

    @property
    def statuses(self) -> Mapping[str, str]:
        """Per-event status overrides, by event name."""
        return dict(self.status_overrides)

    @property
    def filters(self) -> tuple[str, ...]:
        """The filter settings in force, as ``key=value`` (for the audit trail)."""
        found = []
        if self.min_priority != "LOW":
            found.append(f"min_priority={self.min_priority}")
        if self.include is not None:
            found.append(f"include={self.include.pattern}")
        if self.exclude is not None:
            found.append(f"exclude={self.exclude.pattern}")
        if self.publish_after:
            found.append(f"publish_after={self.publish_after:g}s")
        return tuple(found)

    @property
    def is_default(self) -> bool:
        """True when nothing differs from today's behaviour."""
        return self == PublishPolicy(templates=self.templates) and not self.templates.customised
