"""One alert's plan, from its events to the calls with their public text.

The pipeline: plan the lifecycle's calls from the status the alert shows
(``core.plan``); with ``group = "action"`` turn them into writes to the shared
incident (``core.storm``); keep a person's status edit (``core.human_edits``);
render the public text (``core.publish``). The shell reads the storm target
once for the first plan and again for a replan.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ilert_statuspage_sync.core.human_edits import respect
from ilert_statuspage_sync.core.model import Alert, Event
from ilert_statuspage_sync.core.plan import Plan, plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan
from ilert_statuspage_sync.core.storm import Target, share_plan

__all__ = ["LinkView", "PlanInputs", "plan_alert"]


@dataclass(frozen=True)
class LinkView:
    """What a plan needs of the alert's link, read when the plan is made."""

    published: bool  # an incident is linked
    page_status: str | None  # the incident's status on the page
    alert_status: str | None  # the alert's own share in a shared incident
    human_override: bool  # a person changed the incident's status


@dataclass(frozen=True)
class PlanInputs:
    """The settings a plan is made with; ``refused`` as the page last answered."""

    lifecycle: str
    refused: Collection[str]
    policy: PublishPolicy
    context: PublishContext


def plan_alert(
    events: Sequence[Event], alert: Alert, link: LinkView, target: Target | None, inputs: PlanInputs
) -> Plan:
    """The rendered plan of ``events`` (``target`` is None for one incident per alert)."""
    current = link.page_status if link.published else None
    if target is not None and current is not None:
        current = link.alert_status or current  # the alert's own share
    plan = plan_calls(
        events,
        alert,
        lifecycle=inputs.lifecycle,
        current_status=current,
        refused=inputs.refused,
        statuses=inputs.policy.statuses,
    )
    page_status = link.page_status
    if target is not None:
        plan = share_plan(plan, target, current)
        if target.human_override:
            page_status = target.status
    if link.human_override or (target is not None and target.human_override):
        plan = respect(plan, page_status)  # core.human_edits
    return publish_plan(plan, alert, inputs.policy, inputs.context)
