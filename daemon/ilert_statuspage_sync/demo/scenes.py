"""The demo's scenes: each a change in iLert and what each lifecycle must make of it.

Scenes are data (``SCENES``): a title, an act on the simulators, and the audit
rows each lifecycle table promises; a new scene is one more entry. A scene may
also ``check`` the world after its pass (a component's status, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ilert_statuspage_sync.demo.stage import Stage
from ilert_statuspage_sync.simulators import IlertSimulator
from ilert_statuspage_sync.simulators.seed import (
    AUTO_PAGE,
    AUTO_SOURCE,
    FLEET_SOURCE,
    MANUAL_SOURCE,
    STORE_SOURCE,
)

__all__ = ["SCENES", "STORM", "Expectation", "Scene"]

Expectation = tuple[str, str, str | None]  # (event, outcome, to_status)
Change = Callable[[IlertSimulator, int], object]
STORM = ("web-1", "web-2", "web-3", "web-4", "web-5")


@dataclass(frozen=True)
class Scene:
    """One scripted change in iLert and what each lifecycle must make of it.

    ``check`` may look at the world after the pass and return what is wrong
    (e.g. a component's status), or None.
    """

    title: str
    act: Callable[[Stage], object]
    classic: tuple[Expectation, ...]
    realtime: tuple[Expectation, ...]
    note: str = ""
    check: Callable[[Stage], str | None] | None = None

    def expected(self, lifecycle: str) -> list[Expectation]:
        """The audit rows the lifecycle table promises for this scene."""
        return list(self.classic if lifecycle == "classic" else self.realtime)


def _opened(
    source: int,
    *names: str,
    title: str = "Demo: {name}",
    details: str = "details of {name}",
    priority: str = "HIGH",
    then: Change | None = None,
    trigger: str | None = None,
) -> Callable[[Stage], None]:
    """Open one alert per name on ``source``; then change it, then trigger it for an action."""

    def act(stage: Stage) -> None:
        for name in names:
            alert = stage.ilert.create_alert(
                source, title.format(name=name), details.format(name=name), priority
            )
            stage.alerts[name] = alert
            if then is not None:
                then(stage.ilert, alert)
            if trigger is not None:
                stage.trigger(trigger, alert)

    return act


def _manual(name: str, change: Change) -> Callable[[Stage], None]:
    """An alert of manual-review changed before anyone triggers it, then triggered."""
    return _opened(MANUAL_SOURCE, name, then=change, trigger="manual-review")


def _on(name: str, change: Change) -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        change(stage.ilert, stage.alerts[name])

    return act


def _storm_incident(stage: Stage) -> dict[str, Any] | None:
    """The storm's one incident on the page (opened by its first alert), if there is exactly one."""
    found = [
        incident
        for incident in stage.statuspage.incidents(AUTO_PAGE)
        if str(incident.get("name", "")).startswith("Demo: web-")
    ]
    return found[0] if len(found) == 1 else None


def _person_edits_storm(stage: Stage) -> None:
    incident = _storm_incident(stage)
    assert incident is not None, "the storm scene opens one incident"
    stage.statuspage.person_sets_status(
        incident["id"], "monitoring", "Traffic moved to the standby region; watching."
    )


def _components_are(status: str, *names: str) -> Callable[[Stage], str | None]:
    def check(stage: Stage) -> str | None:
        shown = {c["name"]: c["status"] for c in stage.statuspage.components(AUTO_PAGE)}
        wrong = [f"{name} shows {shown.get(name)}" for name in names if shown.get(name) != status]
        return f"expected {status}: {', '.join(wrong)}" if wrong else None

    return check


def _storm_shows(status: str | None, body: str | None = None) -> Callable[[Stage], str | None]:
    """The storm is one incident showing ``status`` (None: as created), Website down."""

    def check(stage: Stage) -> str | None:
        wanted = status or ("identified" if stage.lifecycle == "classic" else "investigating")
        incident = _storm_incident(stage)
        if incident is None:
            return "the storm should be exactly one incident on the page"
        if incident["status"] != wanted:
            return f"the storm's incident should show {wanted}, shows {incident['status']}"
        newest = (incident.get("incident_updates") or [{}])[0].get("body")
        if body is not None and newest != body:
            return f"the storm's newest update should be {body!r}, is {newest!r}"
        return _components_are("major_outage", "Website")(stage)

    return check


def _component(status: str) -> Expectation:
    """A component changed to ``status`` (one audit row per component)."""
    return ("component", "component_changed", status)


SCENES: tuple[Scene, ...] = (
    Scene(
        "A opened (LOW priority)",
        _opened(AUTO_SOURCE, "A", priority="LOW"),
        (("created", "created", "identified"),),
        (("created", "created", "investigating"),),
        note="public-api mirrors every alert of its source: a new incident",
    ),
    Scene(
        "A re-assigned to another person",
        _on("A", lambda i, a: i.reassign(a, 7)),
        (("reassigned", "no_change", "identified"),),
        (("reassigned", "no_change", "investigating"),),
    ),
    Scene(
        "A escalated to the next level",
        _on("A", lambda i, a: i.escalate(a)),
        (("escalated", "no_change", "identified"),),
        (("escalated", "no_change", "investigating"),),
    ),
    Scene(
        "A priority raised to HIGH",
        _on("A", lambda i, a: i.raise_priority(a)),
        (("priority_raised", "no_change", "identified"),),
        (("priority_raised", "no_change", "investigating"),),
    ),
    Scene(
        "A commented",
        _on("A", lambda i, a: i.comment(a, "We are looking into elevated error rates.")),
        (("comment_added", "body_updated", "identified"),),
        (("comment_added", "body_updated", "investigating"),),
        note="the comment's text becomes a public update",
    ),
    Scene(
        "A accepted by the responder",
        _on("A", lambda i, a: i.accept(a)),
        (("accepted", "status_changed", "in_progress"),),
        (("accepted", "status_changed", "identified"),),
    ),
    Scene(
        "A re-assigned after the accept",
        _on("A", lambda i, a: i.reassign(a, 9)),
        (("reassigned", "no_change", "in_progress"),),
        (("reassigned", "status_changed", "investigating"),),
        note="realtime: a new responder means investigating again",
    ),
    Scene(
        "A resolved",
        _on("A", lambda i, a: i.resolve(a)),
        (("resolved", "status_changed", "resolved"),),
        (("resolved", "status_changed", "resolved"),),
    ),
    Scene(
        "B opened and resolved unseen",
        _opened(
            AUTO_SOURCE,
            "B",
            title="Demo: B (flap)",
            details="created and resolved between polls",
            then=lambda i, a: i.resolve(a),
        ),
        (("created", "created", "identified"), ("resolved", "created", "resolved")),
        (("created", "created", "investigating"), ("resolved", "created", "resolved")),
        note="both between two polls; polling still sees it: one incident, created resolved",
    ),
    Scene(
        "C escalated, then triggered",
        _manual("C", lambda i, a: i.escalate(a)),
        (("escalated", "created", "identified"),),
        (("escalated", "created", "investigating"),),
        note="manual-review mirrors only alerts someone triggers (`trigger`)",
    ),
    Scene(
        "D re-assigned, then triggered",
        _manual("D", lambda i, a: i.reassign(a, 5)),
        (("reassigned", "created", "identified"),),
        (("reassigned", "created", "investigating"),),
    ),
    Scene(
        "E commented, then triggered",
        _manual("E", lambda i, a: i.comment(a, "Customer-facing API degraded.")),
        (("comment_added", "created", "identified"),),
        (("comment_added", "created", "identified"),),
    ),
    Scene(
        "F accepted, then triggered",
        _manual("F", lambda i, a: i.accept(a)),
        (("accepted", "created", "in_progress"),),
        (("accepted", "created", "identified"),),
    ),
    Scene(
        "G resolved, then triggered",
        _manual("G", lambda i, a: i.resolve(a)),
        (("resolved", "created", "resolved"),),
        (("resolved", "created", "resolved"),),
    ),
    Scene(
        "J opened on Checkout (HIGH)",
        _opened(STORE_SOURCE, "J", title="Demo: {name} checkout errors"),
        (*[_component("major_outage")] * 2, ("created", "created", "identified")),
        (*[_component("major_outage")] * 2, ("created", "created", "investigating")),
        note="storefront lists Checkout and Search: a HIGH alert puts them at major outage",
        check=_components_are("major_outage", "Checkout", "Search"),
    ),
    Scene(
        "K opened on Checkout (LOW)",
        _opened(STORE_SOURCE, "K", title="Demo: {name} checkout errors", priority="LOW"),
        (("created", "created", "identified"),),
        (("created", "created", "investigating"),),
        note="worst of what is open: K's degraded performance does not lower J's outage",
        check=_components_are("major_outage", "Checkout", "Search"),
    ),
    Scene(
        "J resolved, K still open",
        _on("J", lambda i, a: i.resolve(a)),
        (("resolved", "status_changed", "resolved"), *[_component("degraded_performance")] * 2),
        (("resolved", "status_changed", "resolved"), *[_component("degraded_performance")] * 2),
        note="the components drop to what K still holds, not to operational",
        check=_components_are("degraded_performance", "Checkout", "Search"),
    ),
    Scene(
        "K resolved",
        _on("K", lambda i, a: i.resolve(a)),
        (("resolved", "status_changed", "resolved"), *[_component("operational")] * 2),
        (("resolved", "status_changed", "resolved"), *[_component("operational")] * 2),
        note="nothing open holds them any more: operational",
        check=_components_are("operational", "Checkout", "Search"),
    ),
    Scene(
        "Storm: web-1..web-5 down at once",
        _opened(
            FLEET_SOURCE,
            *STORM,
            title="Demo: {name} down",
            details="health check of {name} failing",
        ),
        (
            _component("major_outage"),
            ("created", "created", "identified"),
            *[("created", "joined", "identified")] * 4,
        ),
        (
            _component("major_outage"),
            ("created", "created", "investigating"),
            *[("created", "joined", "investigating")] * 4,
        ),
        note='web-fleet has group = "action": one public incident, "Also affected" updates',
        check=_storm_shows(None),
    ),
    Scene(
        "A person sets it to monitoring",
        _person_edits_storm,
        tuple([("human_edit", "no_change", "monitoring")] * 5),
        tuple([("human_edit", "no_change", "monitoring")] * 5),
        note="on Statuspage, not iLert; a person who changes the page is right (one row per alert)",
        check=_storm_shows("monitoring"),
    ),
    Scene(
        "web-2 accepted",
        _on("web-2", lambda i, a: i.accept(a)),
        (("accepted", "no_change", "monitoring"),),
        (("accepted", "no_change", "monitoring"),),
        note="the person's status stands: the daemon changes it no more",
        check=_storm_shows("monitoring"),
    ),
    Scene(
        "web-3 commented",
        _on("web-3", lambda i, a: i.comment(a, "Replacing the failed load balancer.")),
        (("comment_added", "body_updated", "monitoring"),),
        (("comment_added", "body_updated", "monitoring"),),
        note="comments still post to the person's incident, without a status",
        check=_storm_shows("monitoring", "Replacing the failed load balancer."),
    ),
)
