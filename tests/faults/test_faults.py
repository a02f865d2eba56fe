"""Fault injection and outages: each ends in the right final state, within the rate limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from ilert_statuspage_sync.clients.http import RetryPolicy
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05, throttle_delay=0.5)


def converge(harness: Harness, done: Callable[[], bool], passes: int = 6) -> int:
    """Run passes an interval apart until ``done``; how many it took (fails past ``passes``)."""
    for number in range(1, passes + 1):
        harness.sync()
        harness.clock_offset += timedelta(seconds=harness.config.poll_interval)
        if done():
            return number
    raise AssertionError(f"not converged after {passes} passes")


def one_incident(harness: Harness, status: str) -> Callable[[], bool]:
    return lambda: [i["status"] for i in harness.incidents()] == [status]


def created_once(harness: Harness, alert_id: int) -> None:
    rows = [r for r in harness.transitions(alert_id) if r[1] == "created"]
    assert rows and rows[0][0] == "created"
    assert len(harness.incidents()) == 1


class TestStatuspageFaults:
    def test_5xx_burst_on_create_converges_without_duplicate(self, harness: Harness):
        """Three 503s on the create: reconciled each time, created exactly once."""
        harness.statuspage.fail_next(3, 503, method="POST")
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "burst", "")
        converge(harness, one_incident(harness, "identified"))
        created_once(harness, alert_id)

    def test_dropped_connection_after_apply_is_adopted(self, harness: Harness):
        """Statuspage created the incident but the answer was lost: adopted, not repeated."""
        harness.statuspage.drop_next(1, method="POST", after_apply=True)
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "lost answer", "")
        harness.sync()
        assert len(harness.incidents()) == 1
        harness.sync()
        posts = [w for w in harness.statuspage.writes() if w.method == "POST"]
        assert len(posts) == 1
        link = harness.link("public-api", alert_id)
        assert link is not None and link.statuspage_incident_id == harness.incidents()[0]["id"]
        assert any("interrupted call" in (r.reason or "") for r in harness.audit_rows())

    def test_dropped_comment_update_is_not_posted_twice(self, harness: Harness):
        """A body update whose answer was lost is found in incident_updates, not re-sent."""
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "comment", "")
        harness.sync()
        harness.statuspage.drop_next(1, method="PATCH", after_apply=True)
        harness.ilert.comment(alert_id, "only once")
        harness.sync()
        harness.sync()
        (incident,) = harness.incidents()
        bodies = [u["body"] for u in incident["incident_updates"]]
        assert bodies.count("only once") == 1

    def test_slow_answer_past_timeout_then_recovers(self, harness: Harness):
        """A create answered after the read timeout is reconciled once answers are quick again."""
        harness.statuspage.set_delay(3.0)
        harness.ilert.create_alert(AUTO_SOURCE, "slow", "")
        harness.sync()
        harness.statuspage.set_delay(0)
        converge(harness, one_incident(harness, "identified"))
        assert len(harness.incidents()) == 1

    def test_malformed_answer_is_reconciled_after_the_retry_delay(self, harness: Harness):
        """An HTML answer to a create is a precise failure; the retry reconciles first."""
        harness.statuspage.malformed_next(1, method="POST")
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "html", "")
        report = harness.sync()
        assert report.failed_items == 1
        link = harness.link("public-api", alert_id)
        assert link is not None and "not JSON" in (link.last_error or "")
        harness.clock_offset = timedelta(minutes=5)
        converge(harness, one_incident(harness, "identified"))
        assert len(harness.incidents()) == 1

    def test_rate_limit_rolling_window_420_with_retry_after(self, make_harness):
        """A budget set too high learns the limit from one 420 and never exceeds it again."""
        harness = make_harness()
        harness.syncer = harness.new_syncer(retry=FAST, rate_window=2.0)
        # Limited from the start: the first pass's reads (the empty-database rebuild) count too.
        harness.statuspage.set_rate_limit(6, window=2.0, status=420, retry_after=1)
        harness.sync()
        for number in range(14):
            harness.ilert.create_alert(AUTO_SOURCE, f"alert {number}", "")
        converge(harness, lambda: len(harness.incidents()) == 14, passes=12)
        assert harness.statuspage.rate_limit_violations() == 1

    def test_rate_limit_429_without_retry_after(self, make_harness):
        """A 429 without Retry-After pauses by policy and is not hit again."""
        harness = make_harness()
        harness.syncer = harness.new_syncer(retry=FAST, rate_window=2.0)
        # Limited from the start: the first pass's reads (the empty-database rebuild) count too.
        harness.statuspage.set_rate_limit(6, window=2.0, status=429, retry_after=None)
        harness.sync()
        for number in range(10):
            harness.ilert.create_alert(AUTO_SOURCE, f"alert {number}", "")
        converge(harness, lambda: len(harness.incidents()) == 10, passes=12)
        assert harness.statuspage.rate_limit_violations() == 1


class TestIlertFaults:
    def test_fixed_window_429_is_learned(self, make_harness):
        """iLert's fixed-window 429 (no Retry-After) is hit once, then the pace stays under it."""
        harness = make_harness()
        harness.syncer = harness.new_syncer(retry=FAST, rate_window=2.0)
        harness.sync()
        harness.ilert.set_rate_limit(8, window=2.0)
        for number in range(10):
            alert_id = harness.ilert.create_alert(AUTO_SOURCE, f"alert {number}", "")
            harness.ilert.comment(alert_id, "hello")
        converge(harness, lambda: len(harness.incidents()) == 10, passes=15)
        # At most the one throttle that teaches the limit: a slow (loaded) machine may not
        # even reach 9 requests in one 2 s window. The learning itself is unit-tested
        # (test_reliability_units: fixed windows learn half of what was accepted).
        assert harness.ilert.rate_limit_violations() <= 1

    def test_5xx_burst_on_reads_is_retried(self, harness: Harness):
        """Two 503s on the alert list are retried within the pass."""
        harness.ilert.fail_next(1, 503, path_contains="/api/alerts")
        harness.ilert.create_alert(AUTO_SOURCE, "retried", "")
        report = harness.sync()
        assert report.ilert_ok
        assert len(harness.incidents()) == 1

    def test_invalid_json_list_fails_the_pass_precisely(self, harness: Harness):
        """A list answered with HTML is a precise error; the next pass catches up."""
        harness.ilert.malformed_next(1, path_contains="/api/alerts", method="GET")
        harness.ilert.create_alert(AUTO_SOURCE, "after html", "")
        with capture_logs() as logs:
            report = harness.sync()
        assert not report.ilert_ok
        (line,) = [entry for entry in logs if entry["event"] == "ilert_read_failed"]
        assert "not JSON" in line["error"]
        harness.sync()
        assert len(harness.incidents()) == 1


class TestOutages:
    @pytest.mark.parametrize("mode", ["error", "refuse"])
    def test_statuspage_down_for_many_passes(self, harness: Harness, mode: str):
        """Statuspage down: one log line, no failed rows; after recovery an alert created
        and resolved meanwhile is created resolved within two passes."""
        harness.statuspage.set_down(mode)
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "during outage", "")
        with capture_logs() as logs:
            for number in range(6):
                if number == 2:
                    harness.ilert.accept(alert_id)
                if number == 4:
                    harness.ilert.resolve(alert_id)
                report = harness.sync()
                assert report.deferred_items >= 1
        down = [e for e in logs if e["event"] == "service_unreachable"]
        assert [e["service"] for e in down] == ["statuspage:main"]
        assert not [r for r in harness.audit_rows() if r.outcome == "failed"]
        harness.statuspage.set_down(None)
        with capture_logs() as logs:
            passes = converge(harness, one_incident(harness, "resolved"), passes=2)
        assert passes <= 2
        assert [e["event"] for e in logs if e["event"] == "service_recovered"]
        assert len(harness.statuspage.writes()) - _failed_writes(harness) == 1
        assert harness.transitions(alert_id)[-1] == ("resolved", "created", "resolved")

    @pytest.mark.parametrize("mode", ["error", "refuse"])
    def test_ilert_down_for_many_passes(self, harness: Harness, mode: str):
        """iLert down: one log line; alerts created and resolved meanwhile converge."""
        harness.ilert.set_down(mode)
        with capture_logs() as logs:
            for _ in range(5):
                assert not harness.sync().ilert_ok
        assert [e["service"] for e in logs if e["event"] == "service_unreachable"] == ["ilert"]
        harness.ilert.set_down(None)
        alert_id = harness.ilert.create_alert(AUTO_SOURCE, "while down", "")
        harness.ilert.resolve(alert_id)
        assert converge(harness, one_incident(harness, "resolved"), passes=2) <= 2

    def test_statuspage_hanging_defers_then_converges(self, harness: Harness):
        """A hanging Statuspage costs one timeout per pass, not one per alert."""
        harness.statuspage.set_down("hang")
        for number in range(3):
            harness.ilert.create_alert(AUTO_SOURCE, f"hang {number}", "")
        report = harness.sync()
        assert report.deferred_items == 3
        assert report.writes == 0
        harness.statuspage.set_down(None)
        converge(harness, lambda: len(harness.incidents()) == 3, passes=2)


def _failed_writes(harness: Harness) -> int:
    return sum(1 for w in harness.statuspage.writes() if w.status >= 400)
