"""Does an alert reach the public page at all? One verdict, with the rule that decided.

Filters decide only while no incident exists: once an alert is published it is
mirrored to resolution whatever the filters say later (a config reload that
adds an ``exclude``, or a priority lowered to LOW, must not orphan an open
incident on the page).

``publish_after`` is a flap guard measured from the alert's ``reportTime``, so
a daemon that starts late (or polls slowly) holds an alert no longer than
configured: an alert resolved sooner is never published; one still open when
the delay is over is published with every event it had by then.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from ilert_statuspage_sync.core.model import Alert, AlertStatus
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.public_text import normalised, vendor_plain

__all__ = ["Verdict", "VerdictKind", "screen_alert"]


class VerdictKind(enum.StrEnum):
    """What to do with an alert that has no incident yet."""

    PUBLISH = "publish"
    HOLD = "hold"  # publish_after has not elapsed: look again next pass
    FILTER = "filter"  # not published; audited once


@dataclass(frozen=True)
class Verdict:
    """The decision, the setting that made it (``rule``) and a sentence for people."""

    kind: VerdictKind
    rule: str | None = None
    reason: str = ""

    @property
    def publishes(self) -> bool:
        """True when the alert goes on to the lifecycle."""
        return self.kind is VerdictKind.PUBLISH


_PUBLISH = Verdict(VerdictKind.PUBLISH)


def screen_alert(alert: Alert, policy: PublishPolicy, *, now: datetime, published: bool) -> Verdict:
    """The verdict for ``alert``; ``published`` is True once an incident exists."""
    if published:
        return _PUBLISH
    if policy.min_priority == "HIGH" and alert.priority != "HIGH":
        return Verdict(
            VerdictKind.FILTER, "min_priority", f"priority {alert.priority} below min_priority HIGH"
        )
    # Matched as the name would be published: "te\u200bst" or "<b>te</b>st" is "test".
    summary = normalised(vendor_plain(alert.summary)) if policy.include or policy.exclude else ""
    if policy.include is not None and not policy.include.search(summary):
        return Verdict(
            VerdictKind.FILTER,
            "include",
            f"summary does not match include {policy.include.pattern!r}",
        )
    if policy.exclude is not None and policy.exclude.search(summary):
        return Verdict(
            VerdictKind.FILTER, "exclude", f"summary matches exclude {policy.exclude.pattern!r}"
        )
    return _flap_guard(alert, policy, now)


def _flap_guard(alert: Alert, policy: PublishPolicy, now: datetime) -> Verdict:
    if not policy.publish_after:
        return _PUBLISH
    delay = timedelta(seconds=policy.publish_after)
    if alert.status == AlertStatus.RESOLVED:
        ended = alert.resolved_on or now
        if ended - alert.report_time < delay:
            return Verdict(VerdictKind.FILTER, "publish_after", "resolved within publish_after")
        return _PUBLISH
    waited = now - alert.report_time
    if waited < delay:
        # delay - waited, never report_time + delay: a report time near year 9999 overflows.
        left = (delay - waited).total_seconds()
        return Verdict(
            VerdictKind.HOLD, "publish_after", f"held by publish_after for {left:.0f}s more"
        )
    return _PUBLISH
