"""Reliability figures: convergence after outages, throttling, and the fairness bound.

Runs the real daemon against the built-in simulators on loopback and prints
one line per scenario. Usage: python bench/bench_reliability.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from ilert_statuspage_sync.clients.http import RetryPolicy, reset_budgets
from ilert_statuspage_sync.demo.play import (
    AUTO_PAGE,
    AUTO_SOURCE,
    ILERT_KEY,
    STATUSPAGE_KEY,
    demo_config,
)
from ilert_statuspage_sync.runtime.logs import configure_logging
from ilert_statuspage_sync.service.wiring import build_services, build_syncer
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.sync.syncer import Syncer

Scenario = Callable[[IlertSimulator, StatuspageSimulator, Syncer, sa.Engine], str]
FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, throttle_delay=0.5)


def run(
    scenario: Scenario, *, ilert_rate: int = 100_000, poll: float = 30, window: float = 60
) -> str:
    """Run one scenario on fresh simulators and a fresh SQLite file."""
    reset_budgets()
    with (
        tempfile.TemporaryDirectory() as folder,
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=(AUTO_PAGE, "demomanualpg")) as sp,
    ):
        url = f"sqlite:///{Path(folder) / 's.db'}"
        config = demo_config("classic", ilert.url, sp.url, url, rate=100_000)
        config = config.__class__(
            **{
                **config.__dict__,
                "poll_interval": poll,
                "ilert": config.ilert.__class__(
                    **{**config.ilert.__dict__, "requests_per_minute": ilert_rate}
                ),
            }
        )
        services = build_services(config, timeout=(2, 2), retry=FAST, rate_window=window)
        engine = sa.create_engine(url)
        syncer = build_syncer(config, services, engine=engine)
        syncer.run_pass()
        try:
            return scenario(ilert, sp, syncer, engine)
        finally:
            services.close()
            engine.dispose()


def passes_until(syncer: Syncer, done: Callable[[], bool], limit: int = 50) -> int:
    for number in range(1, limit + 1):
        syncer.run_pass()
        if done():
            return number
    return -1


def statuspage_outage(
    ilert: IlertSimulator, sp: StatuspageSimulator, syncer: Syncer, _e: sa.Engine
) -> str:
    """20 alerts change through a 10-pass Statuspage outage."""
    sp.set_down("error")
    ids = [ilert.create_alert(AUTO_SOURCE, f"a{n}", "d") for n in range(20)]
    for number in range(10):
        if number == 3:
            for alert_id in ids[::2]:
                ilert.accept(alert_id)
        if number == 6:
            for alert_id in ids[::3]:
                ilert.comment(alert_id, "note")
        if number == 8:
            for alert_id in ids[::4]:
                ilert.resolve(alert_id)
        syncer.run_pass()
    sp.set_down(None)
    passes = passes_until(syncer, lambda: len(sp.incidents(AUTO_PAGE)) == 20)
    writes = len([w for w in sp.writes() if w.status < 400])
    return f"Statuspage down 10 passes, 20 alerts: converged in {passes} pass(es), {writes} writes"


def ilert_outage(
    ilert: IlertSimulator, sp: StatuspageSimulator, syncer: Syncer, _e: sa.Engine
) -> str:
    """Alerts created and resolved while iLert refuses connections."""
    ilert.set_down("refuse")
    for _ in range(10):
        syncer.run_pass()
    ilert.set_down(None)
    for number in range(10):
        alert_id = ilert.create_alert(AUTO_SOURCE, f"b{number}", "d")
        if number % 2:
            ilert.resolve(alert_id)
    passes = passes_until(syncer, lambda: len(sp.incidents(AUTO_PAGE)) == 10)
    return (
        f"iLert down 10 passes, then 10 alerts (5 already resolved): converged in {passes} pass(es)"
    )


def throttled(ilert: IlertSimulator, sp: StatuspageSimulator, syncer: Syncer, _e: sa.Engine) -> str:
    """A budget configured too high against a 6-per-2-s Statuspage limit."""
    sp.set_rate_limit(6, window=2.0, status=420, retry_after=1)
    for number in range(30):
        ilert.create_alert(AUTO_SOURCE, f"c{number}", "d")
    started = time.monotonic()
    passes = passes_until(syncer, lambda: len(sp.incidents(AUTO_PAGE)) == 30)
    elapsed = time.monotonic() - started
    return (
        f"Statuspage limit 6 per 2 s, 30 creates: "
        f"{sp.rate_limit_violations()} throttled request(s), "
        f"{passes} passes, {elapsed:.1f} s"
    )


def fairness(
    ilert: IlertSimulator, sp: StatuspageSimulator, syncer: Syncer, engine: sa.Engine
) -> str:
    """200 open alerts against the default iLert budget (120/min, 30 s passes)."""
    for number in range(200):
        ilert.create_alert(AUTO_SOURCE, f"d{number}", "d")
    syncer.run_pass()  # creates all (changed alerts are always checked)
    ilert.clear_requests()
    seen: set[int] = set()
    passes = 0
    while len(seen) < 200 and passes < 20:
        before = _checked(engine)
        syncer.run_pass()
        passes += 1
        after = _checked(engine)
        seen |= {alert for alert, checked in after.items() if checked != before.get(alert)}
    per_pass = len(ilert.requests) / passes
    return (
        f"200 open alerts, iLert budget 120/min, 30 s passes: every timeline read within "
        f"{passes} passes ({passes * 30} s), {per_pass:.0f} iLert requests per pass"
    )


def _checked(engine: sa.Engine) -> dict[int, object]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT alert_id, last_checked_at FROM links")).all()
    return {int(alert_id): checked for alert_id, checked in rows}


def main() -> None:
    configure_logging("critical")
    print(run(statuspage_outage))
    print(run(ilert_outage))
    print(run(throttled, window=2.0))
    print(run(fairness, ilert_rate=100))


if __name__ == "__main__":
    main()
