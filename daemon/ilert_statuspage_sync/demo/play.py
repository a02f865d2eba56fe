"""``demo``: play scenes of the lifecycle table against the built-in simulators.

Real daemon code, real HTTP over loopback, a real SQLite file migrated by
Alembic. Each scene changes iLert, runs one pass, and prints what the daemon
decided next to what the README's table promises; at the end, each page as
its public status page shows it. The exit code says whether every decision
matched. ``--keep DIR`` leaves the last world running (``demo_keep.py``).

Scenes are data (``SCENES``): a title, an act on the simulators, and what each
lifecycle must make of it; a new scene is one more entry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.demo.view import (
    COMPONENT_COLOURS,
    OUTCOME_COLOURS,
    STATUS_COLOURS,
    Cell,
    Style,
    legend,
    page_view,
    table_header,
    table_row,
    wants_colour,
)
from ilert_statuspage_sync.service.wiring import Services, build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions
from ilert_statuspage_sync.store.tables import Transition
from ilert_statuspage_sync.sync.syncer import Syncer

__all__ = [
    "AUTO_PAGE",
    "AUTO_SOURCE",
    "FLEET_SOURCE",
    "ILERT_KEY",
    "MANUAL_PAGE",
    "MANUAL_SOURCE",
    "SCENES",
    "STATUSPAGE_KEY",
    "STORE_SOURCE",
    "Scene",
    "Stage",
    "demo_components",
    "demo_config",
    "demo_settings",
    "run_demo",
    "seed_accounts",
    "show_pages",
]

AUTO_SOURCE, MANUAL_SOURCE = 101, 202
# The component scenes' sources: one incident per alert, and a storm shared by the action.
STORE_SOURCE, FLEET_SOURCE = 404, 505
AUTO_PAGE, MANUAL_PAGE = "demoautopage", "demomanualpg"
ILERT_KEY, STATUSPAGE_KEY = "demo-ilert-key-0001", "demo-statuspage-key-0001"

Expectation = tuple[str, str, str | None]  # (event, outcome, to_status)


@dataclass
class Stage:
    """The world a scene acts on: both simulators, the config, the daemon, named alerts."""

    lifecycle: str
    ilert: IlertSimulator
    statuspage: StatuspageSimulator
    config: Config
    folder: Path
    syncer: Syncer
    sessions: sessionmaker[Session]
    alerts: dict[str, int] = field(default_factory=dict)
    # Statuspage incident id -> "#n", in the order the demo first met them.
    labels: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def trigger(self, action: str, alert_id: int) -> None:
        """What `ilert-statuspage-sync trigger ACTION ALERT_ID` stores."""
        with self.sessions() as session:
            page = self.config.action(action).page_id
            repo.trigger(session, action, alert_id, page, datetime.now(UTC))
            session.commit()

    def label(self, incident_id: str | None) -> str:
        """The demo's short name for an incident (#1, #2, ...)."""
        if incident_id is None:
            return ""
        return self.labels.setdefault(incident_id, f"#{len(self.labels) + 1}")

    def close_daemon(self) -> None:
        """Release the demo's own clients and database, so another process may take them."""
        while self.closers:
            self.closers.pop()()


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


def _new(name: str, source: int, priority: str = "HIGH") -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        stage.alerts[name] = stage.ilert.create_alert(
            source, f"Demo: {name}", f"details of {name}", priority
        )

    return act


def _manual(name: str, change: Callable[[IlertSimulator, int], object]) -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        alert = stage.ilert.create_alert(MANUAL_SOURCE, f"Demo: {name}", f"details of {name}")
        stage.alerts[name] = alert
        change(stage.ilert, alert)
        stage.trigger("manual-review", alert)

    return act


def _on(name: str, change: Callable[[IlertSimulator, int], object]) -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        change(stage.ilert, stage.alerts[name])

    return act


def _created_resolved(stage: Stage) -> None:
    alert = stage.ilert.create_alert(
        AUTO_SOURCE, "Demo: B (flap)", "created and resolved between polls"
    )
    stage.alerts["B"] = alert
    stage.ilert.resolve(alert)


def _store(name: str, priority: str) -> Callable[[Stage], None]:
    def act(stage: Stage) -> None:
        stage.alerts[name] = stage.ilert.create_alert(
            STORE_SOURCE, f"Demo: {name} checkout errors", f"details of {name}", priority
        )

    return act


STORM = ("web-1", "web-2", "web-3", "web-4", "web-5")


def _storm(stage: Stage) -> None:
    for name in STORM:
        stage.alerts[name] = stage.ilert.create_alert(
            FLEET_SOURCE, f"Demo: {name} down", f"health check of {name} failing"
        )


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
        _new("A", AUTO_SOURCE, "LOW"),
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
        _created_resolved,
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
        _store("J", "HIGH"),
        (*[_component("major_outage")] * 2, ("created", "created", "identified")),
        (*[_component("major_outage")] * 2, ("created", "created", "investigating")),
        note="storefront lists Checkout and Search: a HIGH alert puts them at major outage",
        check=_components_are("major_outage", "Checkout", "Search"),
    ),
    Scene(
        "K opened on Checkout (LOW)",
        _store("K", "LOW"),
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
        _storm,
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


def demo_settings(
    lifecycle: str,
    ilert_url: str,
    statuspage_url: str,
    database_url: str,
    *,
    rate: int = 600,
    components: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The demo's config as the TOML document would hold it (keys from DEMO_* variables).

    ``components`` (component name -> id on the demo page, ``demo_components``)
    adds the component scenes' two actions; without it (the tests' harness)
    the config has just the two lifecycle actions.
    """
    settings: dict[str, Any] = {
        "poll_interval": 5,
        "database_url": database_url,
        "lifecycle": lifecycle,
        "ilert": {
            "api_url": ilert_url,
            "api_key_env": "DEMO_ILERT_KEY",
            "requests_per_minute": rate,
        },
        "connectors": {
            "main": {
                "api_url": statuspage_url,
                "api_key_env": "DEMO_STATUSPAGE_KEY",
                "requests_per_minute": rate,
            }
        },
        "incident_actions": [
            {
                "name": "public-api",
                "alert_sources": [AUTO_SOURCE],
                "connector": "main",
                "page_id": AUTO_PAGE,
            },
            {
                "name": "manual-review",
                "alert_sources": [MANUAL_SOURCE],
                "connector": "main",
                "page_id": MANUAL_PAGE,
                "trigger_mode": "manual",
            },
        ],
    }
    if components is not None:
        settings["incident_actions"] += [
            {
                "name": "storefront",
                "alert_sources": [STORE_SOURCE],
                "connector": "main",
                "page_id": AUTO_PAGE,
                "components": [components["Checkout"], components["Search"]],
            },
            {
                "name": "web-fleet",
                "alert_sources": [FLEET_SOURCE],
                "connector": "main",
                "page_id": AUTO_PAGE,
                "components": [components["Website"]],
                "group": "action",
            },
        ]
    return settings


def demo_components(statuspage: StatuspageSimulator) -> dict[str, str]:
    """The demo page's components (not groups), name -> id, as ``seed_accounts`` made them."""
    return {
        str(c["name"]): str(c["id"]) for c in statuspage.components(AUTO_PAGE) if not c["group"]
    }


def demo_config(
    lifecycle: str,
    ilert_url: str,
    statuspage_url: str,
    database_url: str,
    *,
    rate: int = 600,
    components: Mapping[str, str] | None = None,
) -> Config:
    """The config the demo (and, without ``components``, the end-to-end tests) run with."""
    data = demo_settings(
        lifecycle, ilert_url, statuspage_url, database_url, rate=rate, components=components
    )
    environ = {"DEMO_ILERT_KEY": ILERT_KEY, "DEMO_STATUSPAGE_KEY": STATUSPAGE_KEY}
    return parse_config(data, environ, origin="demo config")


def seed_accounts(ilert: IlertSimulator, statuspage: StatuspageSimulator) -> None:
    """What the demo accounts hold: the config's alert sources and pages, named, with components."""
    ilert.add_alert_source(
        "Checkout API", source_id=AUTO_SOURCE, escalation_policy_name="Web on-call"
    )
    ilert.add_alert_source(
        "Back office",
        source_id=MANUAL_SOURCE,
        escalation_policy_id=2,
        escalation_policy_name="Ops business hours",
    )
    ilert.add_alert_source(
        "Nightly batch",
        source_id=303,
        escalation_policy_id=2,
        escalation_policy_name="Ops business hours",
        status="IN_MAINTENANCE",
    )
    statuspage.add_page(AUTO_PAGE, "Acme Status")
    storefront = statuspage.add_component_group(AUTO_PAGE, "Storefront")
    statuspage.add_component(AUTO_PAGE, "Checkout", group_id=storefront)
    statuspage.add_component(AUTO_PAGE, "Search", group_id=storefront)
    platform = statuspage.add_component_group(AUTO_PAGE, "Platform")
    statuspage.add_component(AUTO_PAGE, "Public API", group_id=platform)
    statuspage.add_component(AUTO_PAGE, "Webhooks", group_id=platform)
    statuspage.add_component(AUTO_PAGE, "Website")
    statuspage.add_page(MANUAL_PAGE, "Acme Internal Status")
    statuspage.add_component(MANUAL_PAGE, "Back office")
    statuspage.add_component(MANUAL_PAGE, "Reporting", status="degraded_performance")


def seed_scene_sources(ilert: IlertSimulator) -> None:
    """The alert sources of the component scenes' actions (storefront, web-fleet)."""
    ilert.add_alert_source(
        "Storefront probes", source_id=STORE_SOURCE, escalation_policy_name="Web on-call"
    )
    ilert.add_alert_source(
        "Web fleet", source_id=FLEET_SOURCE, escalation_policy_name="Web on-call"
    )


def run_demo(
    lifecycle: str,
    out: TextIO,
    *,
    keep: Path | None = None,
    scenes: Sequence[Scene] = SCENES,
) -> int:
    """Play the scenes for one lifecycle or both; 0 when every decision matched.

    With ``keep``, the last lifecycle's world stays up: a config, key files and
    the database in that folder, the simulators serving until SIGINT/SIGTERM.
    """
    from ilert_statuspage_sync.demo import keep as demo_keep  # only --keep needs signals and files

    style = Style(colour=wants_colour(out))
    lifecycles = ("classic", "realtime") if lifecycle == "both" else (lifecycle,)
    mismatches = 0
    with ExitStack() as kept_world:
        kept = demo_keep.prepare_folder(keep, kept_world) if keep is not None else None
        out.write("\n".join(legend(_action_lines(), style)) + "\n")
        stage = None
        for index, name in enumerate(lifecycles):
            if kept is not None and index == len(lifecycles) - 1:
                stage = kept_world.enter_context(_world(name, kept))
                mismatches += _play(stage, scenes, out, style)
                show_pages(stage, out, style)
                continue
            with _world(name, None) as played:
                mismatches += _play(played, scenes, out, style)
                show_pages(played, out, style)
        out.write(
            f"\n{style('every decision matched the lifecycle table', 'green')}\n"
            if not mismatches
            else f"\n{style(f'{mismatches} scenes differ from the lifecycle table', 'red')}\n"
        )
        out.flush()
        if kept is not None and stage is not None:
            code = demo_keep.keep_running(stage, out, style)
            return code if not mismatches else 1
    return 0 if not mismatches else 1


def _action_lines() -> list[str]:
    placeholders = {name: f"{name.lower()}0" for name in ("Checkout", "Search", "Website")}
    url = "http://127.0.0.1:1"
    config = demo_config("classic", url, url, "sqlite://", components=placeholders)
    names = {v: k for k, v in placeholders.items()}
    lines = []
    for action in config.incident_actions:
        sources = ", ".join(str(source) for source in action.alert_sources)
        which = "only alerts someone triggers" if action.manual else "every alert"
        if action.components:
            which += ", sets " + " and ".join(names[c] for c in action.components)
        if action.group == "action":
            which += "; one shared incident"
        lines.append(f"{action.name:<14} alert source {sources} to page {action.page_id}, {which}")
    return lines


@contextmanager
def _world(lifecycle: str, folder: Path | None) -> Iterator[Stage]:
    """Seeded simulators, a migrated database and a syncer; all stopped on exit."""
    with ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ilert-demo-")))
        ilert = stack.enter_context(IlertSimulator(api_key=ILERT_KEY))
        statuspage = stack.enter_context(StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=()))
        seed_accounts(ilert, statuspage)
        seed_scene_sources(ilert)
        database_url = f"sqlite:///{folder / 'state.db'}"
        components = demo_components(statuspage)
        config = demo_config(
            lifecycle, ilert.url, statuspage.url, database_url, components=components
        )
        services: Services = build_services(config)
        engine: sa.Engine = make_engine(database_url)
        syncer = build_syncer(config, services, engine=engine)
        stage = Stage(
            lifecycle,
            ilert,
            statuspage,
            config,
            folder,
            syncer,
            make_sessions(engine),
            closers=[engine.dispose, services.close],
        )
        stack.callback(stage.close_daemon)
        yield stage


def _play(stage: Stage, scenes: Sequence[Scene], out: TextIO, style: Style) -> int:
    """Every scene, one pass each; the number of scenes that differ from the table."""
    out.write(
        "\n"
        + style(f'== lifecycle = "{stage.lifecycle}"', "bold")
        + style(f"  (iLert {stage.ilert.url}, Statuspage {stage.statuspage.url})", "dim")
        + "\n"
        + table_header(style)
        + "\n"
    )
    stage.syncer.run_pass()  # the first pass activates both incident actions
    seen = len(_audit(stage))
    mismatches = 0
    for number, scene in enumerate(scenes, start=1):
        scene.act(stage)
        stage.syncer.run_pass()
        rows = _audit(stage)[seen:]
        seen += len(rows)
        expected = scene.expected(stage.lifecycle)
        problem = scene.check(stage) if scene.check is not None else None
        ok = [(r.event, r.outcome, r.to_status) for r in rows] == expected and problem is None
        mismatches += 0 if ok else 1
        mark = Cell("ok", ("green",)) if ok else Cell("BAD", ("red", "bold"))
        first: list[Cell] = [mark, Cell(f"{number}."), Cell(scene.title)]
        created: set[str] = set()
        for index, row in enumerate(rows or [None]):
            lead = first if index == 0 else [Cell(""), Cell(""), Cell("")]
            out.write(table_row([*lead, *_decision(stage, row, created)], style) + "\n")
        if scene.note:
            out.write(f"{' ' * 10}{style(scene.note, 'dim')}\n")
        if not ok:
            out.write(f"{' ' * 10}{style(f'expected {expected}', 'red')}\n")
            if problem is not None:
                out.write(f"{' ' * 10}{style(problem, 'red')}\n")
    return mismatches


def _audit(stage: Stage) -> list[Transition]:
    with stage.sessions() as session:
        return list(repo.history(session, limit=1_000_000))


_DID = {
    "created": "created incident {label}",
    "status_changed": "changed its status",
    "body_updated": "posted an update",
    "no_change": "left it unchanged",
    "failed": "failed (retries later)",
    "filtered": "kept it off the page",
    "duplicate_resolved": "resolved a duplicate",
    "joined": "joined incident {label}",
    "component_changed": "set a component",
}


def _decision(stage: Stage, row: Transition | None, created: set[str]) -> list[Cell]:
    """The EVENT, DAEMON and PUBLIC PAGE cells of one audit row."""
    if row is None:
        return [Cell("-"), Cell("nothing seen", ("dim",)), Cell("")]
    if row.event == "component":
        name = _component_named(stage, row.reason or "")
        page = f"{name} {row.from_status} -> {row.to_status}"
        shown = (COMPONENT_COLOURS.get(row.to_status or "", ""),)
        return [Cell(row.event), Cell(_DID[row.outcome], ("yellow",)), Cell(page, shown)]
    incident = row.statuspage_incident_id
    label = stage.label(incident)
    did = _DID.get(row.outcome, row.outcome).format(label=label)
    if row.event == "human_edit":
        did = "saw a person's edit"
    if row.outcome == "created" and incident in created:
        did = "(in the same create)"
    if row.outcome == "created" and incident is not None:
        created.add(incident)
    before, after = row.from_status or "new", row.to_status or "-"
    page = f"{label} {before}" if before == after else f"{label} {before} -> {after}"
    if row.outcome == "body_updated":
        page += " + update"
    colours = (OUTCOME_COLOURS.get(row.outcome, ""),)
    shown = (STATUS_COLOURS.get(after, ""),)  # the page column in the status's own colour
    return [Cell(row.event), Cell(did, colours), Cell(page.strip(), shown)]


def _component_named(stage: Stage, reason: str) -> str:
    """The name of the component an audit row's reason names (by id or by name)."""
    for component in stage.statuspage.components(AUTO_PAGE):
        if str(component["id"]) in reason:
            return str(component["name"])
    return "component"


def show_pages(stage: Stage, out: TextIO, style: Style) -> None:
    """Each configured page as Statuspage shows it: components, incidents, timelines."""
    pages = {page["id"]: page for page in stage.statuspage.pages()}
    wanted = dict.fromkeys(action.page_id for action in stage.config.incident_actions)
    out.write("\n" + style("The public pages now (as Statuspage shows them)", "bold") + "\n")
    for page_id in wanted:
        page = pages.get(page_id, {"id": page_id})
        view = page_view(
            page,
            stage.statuspage.components(page_id),
            stage.statuspage.incidents(page_id),
            style,
            stage.labels,
        )
        out.write("\n" + "\n".join(view) + "\n")
