"""The demo's status bridge scenes: an iLert incident and a maintenance window on the page.

An iLert incident on the "Public API" service goes investigating -> identified
-> monitoring -> resolved, each with its message, holding the component at a
partial outage while open; a maintenance window is scheduled, starts and ends
on Statuspage's clock (the demo moves every clock forward to get there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.demo.scenes import Expectation, Scene
from ilert_statuspage_sync.demo.stage import Stage
from ilert_statuspage_sync.simulators.seed import API_SERVICE, AUTO_PAGE

__all__ = ["BRIDGE_SCENES"]

_INCIDENT = "Public API errors"
_WINDOW = "Database upgrade"


def _both(*rows: Expectation) -> tuple[tuple[Expectation, ...], tuple[Expectation, ...]]:
    """The same rows under both lifecycles: a bridge follows iLert's statuses, not a table."""
    return rows, rows


def _open_incident(stage: Stage) -> None:
    stage.alerts["incident"] = stage.ilert.add_incident(
        _INCIDENT,
        message="We are investigating elevated error rates on the Public API.",
        affected={API_SERVICE: "PARTIAL_OUTAGE"},
        send_notification=True,
    )


def _moved(status: str, message: str) -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        stage.ilert.update_incident(stage.alerts["incident"], status=status, message=message)

    return act


def _schedule(stage: Stage) -> None:
    now = datetime.now(UTC)
    stage.alerts["window"] = stage.ilert.add_window(
        _WINDOW,
        now + timedelta(minutes=1),
        now + timedelta(minutes=2),
        description="The Public API may answer slowly while the database is upgraded.",
        service_ids=[API_SERVICE],
    )


def _later(seconds: int) -> Callable[[Stage], None]:
    """Move every clock (both simulators', the daemon's) ``seconds`` past now.

    The demo puts them back once its scenes are played (``Stage.reset_clocks``).
    """

    def act(stage: Stage) -> None:
        offset = timedelta(seconds=seconds)
        stage.ilert.set_clock(lambda: datetime.now(UTC) + offset)
        stage.statuspage.set_clock(lambda: datetime.now(UTC) + offset)
        stage.syncer.clock = lambda: datetime.now(UTC) + offset

    return act


def _shows(name: str, status: str, component: str) -> Callable[[Stage], str | None]:
    """The page's object named ``name`` shows ``status``, and Public API ``component``."""

    def check(stage: Stage) -> str | None:
        found = [i for i in stage.statuspage.incidents(AUTO_PAGE) if i["name"] == name]
        if len(found) != 1:
            return f"expected one {name!r} on the page, found {len(found)}"
        if found[0]["status"] != status:
            return f"{name!r} should show {status}, shows {found[0]['status']}"
        shown = {c["name"]: c["status"] for c in stage.statuspage.components(AUTO_PAGE)}
        if shown.get("Public API") != component:
            return f"Public API should show {component}, shows {shown.get('Public API')}"
        return None

    return check


def _component(status: str) -> Expectation:
    return ("component", "component_changed", status)


BRIDGE_SCENES: tuple[Scene, ...] = (
    Scene(
        "iLert incident opened on Public API",
        _open_incident,
        *_both(("bridge_created", "created", "investigating"), _component("partial_outage")),
        note="platform is a status bridge: iLert's own incident, its words, its status",
        check=_shows(_INCIDENT, "investigating", "partial_outage"),
    ),
    Scene(
        "iLert incident identified",
        _moved("IDENTIFIED", "A faulty cache node; we are replacing it."),
        *_both(
            ("bridge_status", "updated", "identified"),
        ),
        note="each change of status or message is one update with iLert's message",
        check=_shows(_INCIDENT, "identified", "partial_outage"),
    ),
    Scene(
        "iLert incident monitoring",
        _moved("MONITORING", "The node is replaced; error rates are back to normal."),
        *_both(
            ("bridge_status", "updated", "monitoring"),
        ),
        check=_shows(_INCIDENT, "monitoring", "partial_outage"),
    ),
    Scene(
        "iLert incident resolved",
        _moved("RESOLVED", "Resolved: the Public API is healthy."),
        *_both(("bridge_resolved", "updated", "resolved"), _component("operational")),
        note="the incident held the component; resolved, it is operational again",
        check=_shows(_INCIDENT, "resolved", "operational"),
    ),
    Scene(
        "Maintenance window planned in iLert",
        _schedule,
        *_both(
            ("maintenance_scheduled", "created", "scheduled"),
        ),
        note="a scheduled maintenance, from the window's times",
        check=_shows(_WINDOW, "scheduled", "operational"),
    ),
    Scene(
        "90 seconds later: the window is underway",
        _later(90),
        *_both(),
        note="Statuspage starts it on its own; the daemon leaves the component alone",
        check=_shows(_WINDOW, "in_progress", "under_maintenance"),
    ),
    Scene(
        "3 minutes later: the window is over",
        _later(180),
        *_both(
            ("maintenance_ended", "completed_by_statuspage", "completed"),
        ),
        note="Statuspage completes it on its own; the daemon forgets it",
        check=_shows(_WINDOW, "completed", "operational"),
    ),
)
