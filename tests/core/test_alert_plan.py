"""One alert's plan: plan, storm share, human edits, publish (core.alert_plan)."""

from __future__ import annotations

from ilert_statuspage_sync.core.alert_plan import LinkView, PlanInputs, plan_alert
from ilert_statuspage_sync.core.diff import detect_events
from ilert_statuspage_sync.core.model import Alert, Event
from ilert_statuspage_sync.core.plan import CallKind
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext
from ilert_statuspage_sync.core.storm import Target, TargetKind
from tests.support.alerts import T0, an_alert

INPUTS = PlanInputs(
    lifecycle="classic",
    refused=frozenset(),
    policy=PublishPolicy(),
    context=PublishContext("api", "page1", "https://api.ilert.com"),
)
NEW = LinkView(published=False, page_status=None, alert_status=None, human_override=False)


def _created() -> tuple[Alert, list[Event]]:
    alert = an_alert()
    return alert, detect_events(None, alert, [], now=T0)


def test_a_new_alert_opens_an_incident_with_rendered_text():
    """A first sight plans one create whose public text is rendered."""
    alert, events = _created()
    plan = plan_alert(events, alert, NEW, None, INPUTS)
    assert [call.kind for call in plan.calls] == [CallKind.CREATE]
    assert plan.calls[0].name
    assert plan.calls[0].notify is True


def test_joining_a_shared_incident_updates_it_instead():
    """With a storm target to join, the alert's create becomes a write to that incident."""
    alert, events = _created()
    target = Target(TargetKind.JOIN, incident_id="inc1", status="investigating", others=(("x", 1),))
    plan = plan_alert(events, alert, NEW, target, INPUTS)
    assert all(call.kind is not CallKind.CREATE for call in plan.calls)


def test_a_human_edit_keeps_the_page_status():
    """A person's status edit wins: the plan changes no status."""
    alert = an_alert(status="RESOLVED")
    events = detect_events(None, alert, [], now=T0)
    edited = LinkView(
        published=True, page_status="monitoring", alert_status=None, human_override=True
    )
    plan = plan_alert(events, alert, edited, None, INPUTS)
    assert all(call.status in (None, "monitoring") for call in plan.calls)
