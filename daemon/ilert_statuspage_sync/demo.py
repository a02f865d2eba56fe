"""``demo``: walk every row of the lifecycle table against the built-in simulators.

Real daemon code, real HTTP over loopback, a real SQLite file migrated by
Alembic in a temporary folder. Each step changes iLert, runs one pass, and
prints the transitions it synced next to the ones the table promises; the
exit code says whether they all matched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.database import make_engine, make_sessions
from ilert_statuspage_sync.wiring import build_services, build_syncer

__all__ = ["SCENARIO", "DemoStep", "demo_config", "run_demo", "seed_accounts"]

AUTO_SOURCE, MANUAL_SOURCE = 101, 202
AUTO_PAGE, MANUAL_PAGE = "demoautopage", "demomanualpg"
ILERT_KEY, STATUSPAGE_KEY = "demo-ilert-key-0001", "demo-statuspage-key-0001"

Expectation = tuple[str, str, str | None]  # (event, outcome, to_status)


@dataclass(frozen=True)
class DemoStep:
    """One scripted change in iLert and what each lifecycle must make of it."""

    title: str
    act: Callable[[IlertSimulator, dict[str, int], Callable[[str, int], None]], None]
    classic: tuple[Expectation, ...]
    realtime: tuple[Expectation, ...]


def _new(name: str, source: int, priority: str = "HIGH") -> Callable[..., None]:
    def act(
        ilert: IlertSimulator, ids: dict[str, int], _trigger: Callable[[str, int], None]
    ) -> None:
        ids[name] = ilert.create_alert(source, f"Demo: {name}", f"details of {name}", priority)

    return act


def _manual(name: str, change: Callable[[IlertSimulator, int], object]) -> Callable[..., None]:
    def act(
        ilert: IlertSimulator, ids: dict[str, int], trigger: Callable[[str, int], None]
    ) -> None:
        ids[name] = ilert.create_alert(MANUAL_SOURCE, f"Demo: {name}", f"details of {name}")
        change(ilert, ids[name])
        trigger("manual-review", ids[name])

    return act


def _on(name: str, change: Callable[[IlertSimulator, int], object]) -> Callable[..., None]:
    def act(
        ilert: IlertSimulator, ids: dict[str, int], _trigger: Callable[[str, int], None]
    ) -> None:
        change(ilert, ids[name])

    return act


def _created_resolved(
    ilert: IlertSimulator, ids: dict[str, int], _t: Callable[[str, int], None]
) -> None:
    ids["flap"] = ilert.create_alert(
        AUTO_SOURCE, "Demo: flap", "created and resolved between polls"
    )
    ilert.resolve(ids["flap"])


SCENARIO: tuple[DemoStep, ...] = (
    DemoStep(
        "alert A created (automatic action)",
        _new("A", AUTO_SOURCE, "LOW"),
        (("created", "created", "identified"),),
        (("created", "created", "investigating"),),
    ),
    DemoStep(
        "alert A re-assigned",
        _on("A", lambda i, a: i.reassign(a, 7)),
        (("reassigned", "no_change", "identified"),),
        (("reassigned", "no_change", "investigating"),),
    ),
    DemoStep(
        "alert A escalated",
        _on("A", lambda i, a: i.escalate(a)),
        (("escalated", "no_change", "identified"),),
        (("escalated", "no_change", "investigating"),),
    ),
    DemoStep(
        "alert A priority raised",
        _on("A", lambda i, a: i.raise_priority(a)),
        (("priority_raised", "no_change", "identified"),),
        (("priority_raised", "no_change", "investigating"),),
    ),
    DemoStep(
        "alert A commented",
        _on("A", lambda i, a: i.comment(a, "We are looking into elevated error rates.")),
        (("comment_added", "body_updated", "identified"),),
        (("comment_added", "body_updated", "investigating"),),
    ),
    DemoStep(
        "alert A accepted",
        _on("A", lambda i, a: i.accept(a)),
        (("accepted", "status_changed", "in_progress"),),
        (("accepted", "status_changed", "identified"),),
    ),
    DemoStep(
        "alert A escalation policy re-assigned after accept (realtime: back to investigating)",
        _on("A", lambda i, a: i.reassign(a, 9)),
        (("reassigned", "no_change", "in_progress"),),
        (("reassigned", "status_changed", "investigating"),),
    ),
    DemoStep(
        "alert A resolved",
        _on("A", lambda i, a: i.resolve(a)),
        (("resolved", "status_changed", "resolved"),),
        (("resolved", "status_changed", "resolved"),),
    ),
    DemoStep(
        "alert B created and resolved between two polls",
        _created_resolved,
        (("created", "created", "identified"), ("resolved", "created", "resolved")),
        (("created", "created", "investigating"), ("resolved", "created", "resolved")),
    ),
    DemoStep(
        "manual action: alert C escalated, then triggered",
        _manual("C", lambda i, a: i.escalate(a)),
        (("escalated", "created", "identified"),),
        (("escalated", "created", "investigating"),),
    ),
    DemoStep(
        "manual action: alert D re-assigned, then triggered",
        _manual("D", lambda i, a: i.reassign(a, 5)),
        (("reassigned", "created", "identified"),),
        (("reassigned", "created", "investigating"),),
    ),
    DemoStep(
        "manual action: alert E commented, then triggered",
        _manual("E", lambda i, a: i.comment(a, "Customer-facing API degraded.")),
        (("comment_added", "created", "identified"),),
        (("comment_added", "created", "identified"),),
    ),
    DemoStep(
        "manual action: alert F accepted, then triggered",
        _manual("F", lambda i, a: i.accept(a)),
        (("accepted", "created", "in_progress"),),
        (("accepted", "created", "identified"),),
    ),
    DemoStep(
        "manual action: alert G resolved, then triggered",
        _manual("G", lambda i, a: i.resolve(a)),
        (("resolved", "created", "resolved"),),
        (("resolved", "created", "resolved"),),
    ),
)


def demo_config(
    lifecycle: str, ilert_url: str, statuspage_url: str, database_url: str, *, rate: int = 600
) -> Config:
    """The config the demo (and the end-to-end tests) run with."""
    data = {
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


def run_demo(lifecycle: str, out: TextIO) -> int:
    """Play the scenario for one lifecycle or both; 0 when every row matched."""
    lifecycles = ("classic", "realtime") if lifecycle == "both" else (lifecycle,)
    mismatches = sum(_play(name, out) for name in lifecycles)
    out.write(
        "\nall rows matched the lifecycle table\n"
        if not mismatches
        else f"\n{mismatches} rows differ\n"
    )
    return 0 if not mismatches else 1


def _play(lifecycle: str, out: TextIO) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="ilert-sync-demo-") as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=()) as statuspage,
    ):
        seed_accounts(ilert, statuspage)
        database_url = f"sqlite:///{Path(folder) / 'state.db'}"
        config = demo_config(lifecycle, ilert.url, statuspage.url, database_url)
        services = build_services(config)
        engine = make_engine(database_url)
        syncer = build_syncer(config, services, engine=engine)
        sessions = make_sessions(engine)
        out.write(
            f'\n== lifecycle = "{lifecycle}"  (iLert {ilert.url}, Statuspage {statuspage.url})\n'
        )
        syncer.run_pass()  # activates both incident actions

        def trigger(action: str, alert_id: int) -> None:
            with sessions() as session:
                page = config.action(action).page_id
                repo.trigger(session, action, alert_id, page, datetime.now(UTC))
                session.commit()

        ids: dict[str, int] = {}
        mismatches = 0
        seen = 0
        for number, step in enumerate(SCENARIO, start=1):
            step.act(ilert, ids, trigger)
            syncer.run_pass()
            with sessions() as session:
                rows = repo.history(session, limit=10_000)
            got = [(r.event, r.outcome, r.to_status) for r in rows[seen:]]
            shown = rows[seen:]
            seen = len(rows)
            expected = list(step.classic if lifecycle == "classic" else step.realtime)
            ok = got == expected
            mismatches += 0 if ok else 1
            out.write(f"{'ok ' if ok else 'BAD'} {number:2d}. {step.title}\n")
            for row in shown:
                out.write(
                    f"        {row.event:<16} -> {row.outcome:<15} {row.from_status or '-':>13}"
                    f" -> {row.to_status or '-':<13} incident {row.statuspage_incident_id}\n"
                )
            if not ok:
                out.write(f"        expected {expected}\n")
        incidents = statuspage.incidents()
        out.write(
            f"   Statuspage now holds {len(incidents)} incidents; "
            f"{len(statuspage.writes())} writes were sent\n"
        )
        services.close()
        engine.dispose()
        return mismatches
