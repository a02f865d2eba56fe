"""The pure steps of alert storms (core.storm) and human edits (core.human_edits)."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ilert_statuspage_sync.core.duplicates import Seen, Tracked, find_duplicates
from ilert_statuspage_sync.core.human_edits import (
    HUMAN_REASON,
    Edit,
    Written,
    changed_by_person,
    confirmed,
    edits,
    respect,
)
from ilert_statuspage_sync.core.model import Alert, Event, EventKind, Mirror
from ilert_statuspage_sync.core.plan import CallKind, Decision, Outcome, Plan, plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan
from ilert_statuspage_sync.core.storm import (
    IdRuns,
    Ledger,
    Share,
    Target,
    TargetKind,
    id_runs,
    least_advanced,
    share_plan,
    target_for,
)

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def alert(alert_id: int = 2, summary: str = "api slow") -> Alert:
    return Alert(alert_id, 1, summary, "details", "PENDING", "HIGH", T0)


def ev(kind: EventKind, minute: int = 0, text: str | None = None) -> Event:
    mirror = Mirror("PENDING", "HIGH")
    return Event(kind, T0 + timedelta(minutes=minute), mirror, comment=text)


def share(alert_id: int, incident: str | None = "inc", own: str | None = "identified", **kw):
    fields: dict[str, object] = {
        "alert_id": alert_id,
        "incident_id": incident,
        "alert_status": own,
        "incident_status": "identified" if incident else None,
        "is_open": True,
    }
    fields.update(kw)
    return Share(**fields)  # type: ignore[arg-type]


def planned(events: list[Event], current: str | None, lifecycle: str = "realtime") -> Plan:
    return plan_calls(events, alert(), lifecycle=lifecycle, current_status=current)


class TestTarget:
    def test_the_first_alert_opens_the_incident(self):
        """No open shared incident: the alert opens one."""
        assert target_for(1, [share(1, incident=None, own=None)]).kind is TargetKind.OPEN

    def test_a_further_alert_joins_the_open_incident(self):
        """While the incident is open, another alert joins it, seeing the others' shares."""
        target = target_for(2, [share(1, own="identified"), share(2, incident=None, own=None)])
        assert (target.kind, target.incident_id, target.others) == (
            TargetKind.JOIN,
            "inc",
            (("identified", 1),),
        )

    def test_a_resolved_incident_is_never_joined(self):
        """Its last alert resolved it: the next alert opens a new incident."""
        closed = share(1, own="resolved", incident_status="resolved", is_open=False)
        assert target_for(2, [closed]).kind is TargetKind.OPEN

    def test_a_create_still_landing_makes_the_others_wait(self):
        """Another alert's create intent is unsettled: no second incident is opened."""
        opening = share(1, incident=None, own=None, creating=True)
        assert target_for(2, [opening]).kind is TargetKind.WAIT
        assert target_for(1, [opening]).kind is TargetKind.OPEN

    def test_resolved_alerts_hold_no_share(self):
        """Only the incident's open alerts count towards its status."""
        gone = share(1, own="resolved", is_open=False)
        target = target_for(3, [gone, share(2, own="investigating"), share(3)])
        assert (target.kind, target.others, target.alerts) == (
            TargetKind.MEMBER,
            (("investigating", 1),),
            2,
        )

    def test_least_advanced_follows_the_lifecycle(self):
        """investigating < identified < in_progress/monitoring < resolved."""
        assert least_advanced(["monitoring", "identified", "in_progress"]) == "identified"
        assert least_advanced(["resolved", "in_progress"]) == "in_progress"
        assert least_advanced([]) is None


class TestSharePlan:
    def test_a_join_is_one_update_with_the_also_affected_text(self):
        """The joining alert's create becomes one update to the shared incident."""
        target = Target(TargetKind.JOIN, "inc", "investigating", (("investigating", 1),))
        plan = share_plan(planned([ev(EventKind.CREATED)], None), target, None)
        (call,) = plan.calls
        assert (call.kind, call.incident_id, call.status) == (CallKind.UPDATE, "inc", None)
        assert [(d.outcome, d.share_status) for d in call.decisions] == [
            (Outcome.JOINED, "investigating")
        ]
        context = PublishContext("public-api", "page", "https://ilert.example")
        published = publish_plan(plan, alert(), PublishPolicy(), context)
        assert published.calls[0].body == "Also affected: api slow"

    def test_a_less_advanced_joiner_moves_the_incident_back(self):
        """An untouched alert joining an identified incident makes it investigating again."""
        target = Target(TargetKind.JOIN, "inc", "identified", (("identified", 1),))
        (call,) = share_plan(planned([ev(EventKind.CREATED)], None), target, None).calls
        assert call.status == "investigating"

    def test_one_accepted_alert_does_not_announce_progress(self):
        """Accepting one of two untouched alerts leaves the incident investigating, audited."""
        target = Target(TargetKind.MEMBER, "inc", "investigating", (("investigating", 1),))
        plan = share_plan(planned([ev(EventKind.ACCEPTED)], "investigating"), target, None)
        assert plan.calls == []
        (decision,) = plan.steps
        assert isinstance(decision, Decision)
        assert (decision.outcome, decision.to_status, decision.share_status) == (
            Outcome.NO_CHANGE,
            "investigating",
            "identified",
        )
        assert "least advanced of its 2 open alerts" in (decision.reason or "")

    def test_the_last_alert_resolves_the_incident(self):
        """Resolving with others open is no change; resolving the last one resolves it."""
        events = [ev(EventKind.RESOLVED)]
        held = Target(TargetKind.MEMBER, "inc", "identified", (("identified", 1),))
        assert share_plan(planned(events, "identified"), held, "identified").calls == []
        last = Target(TargetKind.MEMBER, "inc", "identified", ())
        (call,) = share_plan(planned(events, "identified"), last, "identified").calls
        assert call.status == "resolved"

    def test_the_least_advanced_leaving_moves_the_incident_forward(self):
        """The only investigating alert resolves: the incident shows the others' status."""
        target = Target(TargetKind.MEMBER, "inc", "investigating", (("identified", 1),))
        plan = planned([ev(EventKind.RESOLVED)], "investigating")
        (call,) = share_plan(plan, target, "investigating").calls
        assert call.status == "identified"

    def test_comments_still_post_while_the_status_holds(self):
        """A comment is text: it posts to the shared incident even when no status moves."""
        target = Target(TargetKind.MEMBER, "inc", "investigating", (("investigating", 1),))
        events = [ev(EventKind.ACCEPTED), ev(EventKind.COMMENT_ADDED, 1, "on it")]
        (call,) = share_plan(planned(events, "investigating"), target, "investigating").calls
        assert (call.status, call.body) == (None, "on it")


class TestHumanEdits:
    def test_a_changed_or_vanished_incident_is_an_edit(self):
        """A status other than the one written, or gone from the unresolved list, is a person's."""
        written = [
            Written("a", "identified"),
            Written("b", "identified"),
            Written("c", "investigating"),
        ]
        found = edits(written, {"a": "monitoring", "c": "investigating"})
        assert found == [
            Edit("a", "identified", "monitoring"),
            Edit("b", "identified", "resolved", listed=False),
        ]

    def test_pending_writes_and_resolved_incidents_prove_nothing(self):
        """An incident with a write in flight, or that we resolved, is never taken for an edit."""
        written = [
            Written("a", "identified"),
            Written("a", "", settled=False),
            Written("b", "resolved"),
        ]
        assert edits(written, {}) == []

    def test_a_second_change_only_updates_the_known_status(self):
        """After the first edit, a person's resolve is noted without a second audit/log."""
        assert edits([Written("a", "monitoring", overridden=True)], {}) == [
            Edit("a", "monitoring", "resolved", first=False, listed=False)
        ]

    def test_status_changes_are_dropped_and_comments_kept(self):
        """On an overridden open incident only text posts; the rest is no_change with a reason."""
        events = [ev(EventKind.ACCEPTED), ev(EventKind.COMMENT_ADDED, 1, "note")]
        plan = respect(planned(events, "identified", "classic"), "monitoring")
        (call,) = plan.calls
        assert (call.status, call.body) == (None, "note")
        first = call.decisions[0]
        assert (first.outcome, first.reason) == (Outcome.NO_CHANGE, HUMAN_REASON)

    def test_an_unlanded_write_and_a_third_status_mean_a_person(self):
        """After an interrupted write: our old or our new status is ours; any other a person's."""
        assert not changed_by_person("identified", "in_progress", "identified")
        assert not changed_by_person("identified", "in_progress", "in_progress")
        assert changed_by_person("identified", "in_progress", "monitoring")
        assert changed_by_person("identified", None, "resolved")

    def test_a_person_resolved_incident_gets_nothing(self):
        """A person resolved it: not even a comment posts."""
        events = [ev(EventKind.COMMENT_ADDED, 1, "note"), ev(EventKind.RESOLVED, 2)]
        plan = respect(planned(events, "identified", "classic"), "resolved")
        assert plan.calls == []
        assert {step.reason for step in plan.steps if isinstance(step, Decision)} == {HUMAN_REASON}


def test_a_shared_incident_is_not_a_duplicate():
    """Several links pointing at one incident whose metadata names its opener: nothing to heal."""
    links = [
        Tracked("public-api", alert_id, "page", "shared", False, True, T0) for alert_id in (1, 2, 3)
    ]
    assert find_duplicates([Seen("shared", "identified", 1, "public-api")], links) == []
    late = Seen("copy", "identified", 2, "public-api")  # a late create for a joined alert
    assert [d.kept_id for d in find_duplicates([late], links)] == ["shared"]


def test_a_missing_incident_is_only_an_edit_once_read_on_its_own():
    """Absent from the list: unconfirmed; read back as we wrote it: no edit; gone: resolved."""
    (edit,) = edits([Written("inc", "identified")], {})
    assert not edit.listed
    assert confirmed(edit, "identified") is None
    assert confirmed(edit, None) == Edit("inc", "identified", "resolved", True, True)
    assert confirmed(edit, "monitoring") == Edit("inc", "identified", "monitoring", True, True)
    (listed,) = edits([Written("inc", "identified")], {"inc": "monitoring"})
    assert listed.listed


_STATUSES = st.sampled_from(
    [None, "investigating", "scheduled", "identified", "monitoring", "in_progress", "resolved"]
)
_SHARES = st.builds(
    Share,
    alert_id=st.integers(1, 12),
    incident_id=st.sampled_from([None, "a", "b"]),
    alert_status=_STATUSES,
    incident_status=_STATUSES,
    is_open=st.booleans(),
    creating=st.booleans(),
    human_override=st.booleans(),
)


def _seen(target: Target) -> tuple[object, ...]:
    """A target with its per-status counts as a mapping (their order tells nothing)."""
    return (*dataclasses.astuple(replace(target, others=())), dict(target.others))


@settings(max_examples=400, deadline=None)
@given(
    puts=st.lists(st.tuples(st.integers(1, 40), _SHARES), max_size=14),
    alert_id=st.integers(1, 12),
    own=st.one_of(st.none(), _SHARES),
)
def test_the_ledger_gives_what_a_look_at_every_share_gives(
    puts: list[tuple[int, Share]], alert_id: int, own: Share | None
):
    """Whatever shares were put (and replaced), the running totals decide as the shares do."""
    ledger = Ledger()
    for link_id, one in puts:
        held = ledger.get(one.alert_id)
        ledger.put(held[0] if held else link_id, one)
    if own is not None:
        own = replace(own, alert_id=alert_id)
    expected = target_for(alert_id, ledger.listed(alert_id, own))
    assert _seen(ledger.target(alert_id, own)) == _seen(expected)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30)), max_size=60))
def test_id_runs_hold_the_ids_added_and_not_removed(steps: list[tuple[bool, int]]):
    """Adding and removing ids one by one leaves the runs of exactly the ids left."""
    runs, ids = IdRuns(), set[int]()
    for adds, alert_id in steps:
        if adds:
            runs.add(alert_id)
            ids.add(alert_id)
        elif alert_id in ids:
            runs.remove(alert_id)
            ids.discard(alert_id)
    assert runs.runs() == id_runs(sorted(ids))
    assert [i for first, last in runs.runs() for i in range(first, last + 1)] == sorted(ids)
