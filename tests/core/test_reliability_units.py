"""Pure pieces of reliability: fair timeline checks, outage logging, learned rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from ilert_statuspage_sync.clients.http import RateBudget
from ilert_statuspage_sync.core.backoff import retry_delay
from ilert_statuspage_sync.core.timeline_checks import (
    Candidate,
    checks_per_pass,
    choose_checks,
    worst_case_passes,
)
from ilert_statuspage_sync.sync.outages import ServiceHealth

T0 = datetime(2026, 11, 27, tzinfo=UTC)


class TestChooseChecks:
    def test_changed_alerts_always_checked(self):
        """Alerts with changes are checked even beyond the budget."""
        candidates = [Candidate(i, True, T0) for i in range(5)]
        assert sorted(choose_checks(candidates, 2)) == [0, 1, 2, 3, 4]

    def test_longest_unchecked_first(self):
        """Unchanged alerts are checked oldest-check first, never-checked before all."""
        candidates = [
            Candidate(1, False, T0 + timedelta(minutes=3)),
            Candidate(2, False, None),
            Candidate(3, False, T0 + timedelta(minutes=1)),
        ]
        assert choose_checks(candidates, 2) == [2, 3]

    def test_round_robin_bound(self):
        """Simulated passes: every unchanged alert is checked within ceil(n / per_pass) passes."""
        alerts, per_pass = 23, 5
        last: dict[int, datetime | None] = dict.fromkeys(range(alerts))
        waits: dict[int, int] = dict.fromkeys(range(alerts), 0)
        worst = 0
        for number in range(40):
            now = T0 + timedelta(minutes=number)
            chosen = choose_checks([Candidate(a, False, last[a]) for a in range(alerts)], per_pass)
            for alert in range(alerts):
                if alert in chosen:
                    last[alert] = now
                    worst = max(worst, waits[alert] + 1)
                    waits[alert] = 0
                else:
                    waits[alert] += 1
        assert worst == worst_case_passes(alerts, per_pass) == 5

    def test_budget_arithmetic(self):
        """The default budget leaves room for about 45 timeline reads per 30 s pass."""
        assert checks_per_pass(100, 30, 5) == 45
        assert checks_per_pass(10, 5, 50) == 1


class TestServiceHealth:
    def test_one_line_per_state_change(self):
        """Many failures log once; recovery logs once."""
        health = ServiceHealth("statuspage:main")
        with capture_logs() as logs:
            for minute in range(10):
                health.failed(RuntimeError("HTTP 503"), T0 + timedelta(minutes=minute))
            health.succeeded(T0 + timedelta(minutes=12))
            health.succeeded(T0 + timedelta(minutes=13))
        assert [entry["event"] for entry in logs] == ["service_unreachable", "service_recovered"]
        assert logs[1]["down_for_s"] == 720.0


class TestLearnedLimit:
    def test_throttle_after_traffic_lowers_the_limit(self):
        """A throttle after n accepted requests sets the limit to n - 1 and pauses."""
        now = [0.0]
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        budget = RateBudget(50, 10.0, clock=lambda: now[0], sleep=sleep)
        for _ in range(9):
            budget.acquire()
            now[0] += 0.1
        budget.acquire()  # the refused one
        budget.throttled(2.0)
        assert budget.limit == 8
        assert budget.acquire() > 0

    def test_fixed_window_throttle_learns_half_of_what_was_accepted(self):
        """Against fixed windows (iLert) the rolling window may span two: half is sure to fit."""
        now = [0.0]
        budget = RateBudget(
            50, 10.0, clock=lambda: now[0], sleep=lambda s: None, fixed_windows=True
        )
        for _ in range(9):
            budget.acquire()
            now[0] += 0.1
        budget.acquire()  # the refused one
        budget.throttled(2.0)
        assert budget.limit == 4

    def test_early_throttle_only_pauses(self):
        """A throttle on the first requests (a shared key) does not shrink the limit."""
        budget = RateBudget(50, 10.0, clock=lambda: 0.0, sleep=lambda _s: None)
        budget.acquire()
        budget.throttled(3.0)
        assert budget.limit == 50


def test_retry_delay_grows_and_caps():
    """Refused items wait one interval, doubling, at most an hour."""
    assert [retry_delay(n, 30).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(50, 30) == timedelta(hours=1)


class TestHealthLines:
    def _replica(self, role: str, seen: int, passed: int | None, ok: bool = True):
        from ilert_statuspage_sync.store.overview import ReplicaLine

        return ReplicaLine(
            instance_id=f"{role}{seen}",
            host="vm1",
            pid=42,
            role=role,
            last_seen_at=T0 - timedelta(seconds=seen),
            last_pass_at=None if passed is None else T0 - timedelta(seconds=passed),
            last_pass_ok=ok,
            poll_interval=30.0,
        )

    def test_healthy_leader_and_follower(self):
        """A leader that passed recently is healthy; followers are listed."""
        from ilert_statuspage_sync.commands.status import health_lines

        lines = health_lines(
            [self._replica("leader", 5, 5), self._replica("follower", 10, None)], 0, T0
        )
        assert lines[0].startswith("daemon: healthy: leader vm1:42, last pass 5s ago (ok)")
        assert lines[1] == "follower: vm1:42, waiting, seen 10s ago"
        assert lines[-1] == "failing items: 0"

    def test_stale_leader_is_unhealthy(self):
        """No pass for more than three intervals is unhealthy."""
        from ilert_statuspage_sync.commands.status import health_lines

        lines = health_lines([self._replica("leader", 200, 200)], 2, T0)
        assert lines[0].startswith("daemon: UNHEALTHY: last pass too old")
        assert lines[-1] == "failing items: 2"

    def test_no_daemon(self):
        """Without any report the daemon is unhealthy and says what to check."""
        from ilert_statuspage_sync.commands.status import health_lines

        assert "is `run` running?" in health_lines([], 0, T0)[0]


def test_dns_failure_is_named_plainly():
    """A resolver failure reads as 'DNS lookup failed' (no real lookups from tests)."""
    import requests

    from ilert_statuspage_sync.clients.http import _reason

    error = requests.ConnectionError(
        "HTTPSConnectionPool(host='api.ilert.com', port=443): Max retries exceeded "
        "(Caused by NameResolutionError(\"Failed to resolve 'api.ilert.com'\"))"
    )
    assert _reason(error) == "DNS lookup failed"
    assert _reason(requests.ConnectionError("[Errno 111] Connection refused")) == (
        "connection refused"
    )
