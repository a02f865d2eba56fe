"""Tests of the Prometheus metrics: exact samples, atomic textfile, loopback-only HTTP."""

from __future__ import annotations

import os
import platform
import socket
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ilert_statuspage_sync import __version__
from ilert_statuspage_sync.clients.http import HttpService, RateBudget, RetryPolicy
from ilert_statuspage_sync.errors import PermanentApiError, SyncError
from ilert_statuspage_sync.service.metrics import (
    Metrics,
    MetricsError,
    MetricsServer,
    check_textfile,
)
from ilert_statuspage_sync.simulators import IlertSimulator
from ilert_statuspage_sync.sync.syncer import PassReport
from tests.support.clock import FakeClock

P = "ilert_statuspage_sync_"
T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
T1 = T0 + timedelta(seconds=30)
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "20.0", "+Inf")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: bytes | str) -> Samples:
    """Every sample of an exposition, keyed by name and labels, without ``_created`` ones."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (P + name, frozenset(labels.items()))


def _histogram(service: str, counts: tuple[int, ...], total: float) -> Samples:
    """The samples of one service's duration histogram from its cumulative bucket counts."""
    samples = {
        _key("api_request_duration_seconds_bucket", service=service, le=le): float(count)
        for le, count in zip(BUCKETS, counts, strict=True)
    }
    samples[_key("api_request_duration_seconds_count", service=service)] = float(counts[-1])
    samples[_key("api_request_duration_seconds_sum", service=service)] = total
    return samples


@pytest.fixture(name="metrics")
def _metrics() -> Metrics:
    return Metrics()


@pytest.fixture(name="fed")
def _fed(metrics: Metrics) -> Metrics:
    """Metrics after a realistic run: API calls, a throttled key, an ok and a failed pass."""
    clock = FakeClock()
    budget = RateBudget(2, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    metrics.watch_budgets([("statuspage", budget), ("statuspage", budget)])
    for _ in range(3):
        budget.acquire()  # the third waits 60 s for the window to roll

    metrics.observe_response("ilert", 200, 0.12)
    metrics.observe_response("ilert", 200, 0.3)
    metrics.observe_response("ilert", None, 25.0)
    metrics.observe_response("statuspage", 201, 0.7)
    metrics.observe_response("statuspage", 429, 0.04)
    metrics.observe_throttle_wait("ilert", 1.5)
    metrics.observe_throttle_wait("ilert", 0.0)

    first = PassReport(started_at=T0, outcomes=Counter(created=2, no_change=1), duration=1.25)
    metrics.observe_pass(first, finished_at=T0, alerts_tracked=2, failing_items=0)
    second = PassReport(
        started_at=T1,
        failed_items=1,
        deferred_items=2,
        outcomes=Counter(status_changed=1, failed=1, skipped=1),
        duration=0.5,
    )
    metrics.observe_pass(second, finished_at=T1, alerts_tracked=3, failing_items=1)
    metrics.set_leader(True)
    return metrics


class TestSamples:
    def test_render_holds_exactly_the_expected_samples(self, fed):
        """After a realistic run every sample has the value the run implies, and no other exists."""
        expected: Samples = {
            _key("passes_total", result="ok"): 1.0,
            _key("passes_total", result="failed"): 1.0,
            _key("transitions_total", outcome="created"): 2.0,
            _key("transitions_total", outcome="status_changed"): 1.0,
            _key("transitions_total", outcome="body_updated"): 0.0,
            _key("transitions_total", outcome="no_change"): 1.0,
            _key("transitions_total", outcome="failed"): 1.0,
            _key("transitions_total", outcome="duplicate_resolved"): 0.0,
            _key("transitions_total", outcome="component_changed"): 0.0,
            _key("transitions_total", outcome="joined"): 0.0,
            _key("transitions_total", outcome="human_override"): 0.0,
            _key("transitions_total", outcome="skipped"): 1.0,
            _key("api_requests_total", service="ilert", status="200"): 2.0,
            _key("api_requests_total", service="ilert", status="error"): 1.0,
            _key("api_requests_total", service="statuspage", status="201"): 1.0,
            _key("api_requests_total", service="statuspage", status="429"): 1.0,
            **_histogram("ilert", (0, 0, 1, 2, 2, 2, 2, 2, 2, 3), 0.12 + 0.3 + 25.0),
            **_histogram("statuspage", (1, 1, 1, 1, 2, 2, 2, 2, 2, 2), 0.7 + 0.04),
            _key("throttle_wait_seconds_total", service="ilert"): 1.5,
            _key("throttle_wait_seconds_total", service="statuspage"): 60.0,
            _key("last_pass_timestamp_seconds"): T1.timestamp(),
            _key("last_successful_pass_timestamp_seconds"): T0.timestamp(),
            _key("pass_duration_seconds"): 0.5,
            _key("alerts_tracked"): 3.0,
            _key("failing_items"): 1.0,
            _key("deferred_items"): 2.0,
            _key("leader"): 1.0,
            _key(
                "build_info",
                version=__version__,
                python=platform.python_version(),
                database="unknown",
            ): 1.0,
        }

        actual = _samples(fed.render())

        assert actual.keys() == expected.keys()
        for key, value in expected.items():
            assert actual[key] == pytest.approx(value), key

    def test_families_have_the_documented_types(self, fed):
        """Counters, the histogram and the gauges are exposed with their Prometheus types."""
        types = {
            family.name: family.type
            for family in text_string_to_metric_families(fed.render().decode())
            if not family.name.endswith("_created")
        }

        assert types == {
            P + "passes": "counter",
            P + "transitions": "counter",
            P + "api_requests": "counter",
            P + "api_request_duration_seconds": "histogram",
            P + "throttle_wait_seconds": "counter",
            P + "last_pass_timestamp_seconds": "gauge",
            P + "last_successful_pass_timestamp_seconds": "gauge",
            P + "pass_duration_seconds": "gauge",
            P + "alerts_tracked": "gauge",
            P + "failing_items": "gauge",
            P + "deferred_items": "gauge",
            P + "leader": "gauge",
            P + "build_info": "gauge",
        }

    def test_build_info_names_version_python_and_database(self):
        """build_info is 1 with the package version, the Python version and the dialect."""
        samples = _samples(Metrics(database="postgresql").render())

        key = _key(
            "build_info",
            version=__version__,
            python=platform.python_version(),
            database="postgresql",
        )
        assert samples[key] == 1.0

    def test_no_created_series_are_exposed(self, fed):
        """Counters and histograms are exposed without their _created samples."""
        text = fed.render().decode()

        assert "_created" not in text
        assert P + "passes_total" in text

    def test_fresh_metrics_start_known_labels_at_zero(self, metrics):
        """Before any pass, pass results, outcomes and per-service series exist at zero."""
        samples = _samples(metrics.render())

        assert samples[_key("passes_total", result="ok")] == 0.0
        assert samples[_key("passes_total", result="failed")] == 0.0
        assert samples[_key("transitions_total", outcome="body_updated")] == 0.0
        assert samples[_key("throttle_wait_seconds_total", service="statuspage")] == 0.0
        assert samples[_key("api_request_duration_seconds_count", service="ilert")] == 0.0
        assert samples[_key("last_successful_pass_timestamp_seconds")] == 0.0
        assert not any(name == P + "api_requests_total" for name, _ in samples)

    def test_leader_follows_the_latest_call(self, metrics):
        """set_leader(False) after True brings the gauge back to 0."""
        metrics.set_leader(True)
        metrics.set_leader(False)

        assert _samples(metrics.render())[_key("leader")] == 0.0

    def test_budget_waits_count_only_growth_since_watching(self, metrics):
        """A watched budget adds only what it waited after watch_budgets, at each pass."""
        clock = FakeClock()
        budget = RateBudget(1, 10.0, clock=clock, sleep=clock.sleep, margin=0.0)
        budget.acquire()
        budget.acquire()  # 10 s waited before watching: not counted
        metrics.watch_budgets([("ilert", budget)])
        budget.acquire()  # 10 s more
        report = PassReport(started_at=T0)

        metrics.observe_pass(report, finished_at=T0, alerts_tracked=0, failing_items=0)
        metrics.observe_pass(report, finished_at=T1, alerts_tracked=0, failing_items=0)

        samples = _samples(metrics.render())
        assert samples[_key("throttle_wait_seconds_total", service="ilert")] == 10.0

    def test_naive_finished_at_is_refused(self, metrics):
        """A pass finish time without a timezone is a ValueError, not a silently local time."""
        with pytest.raises(ValueError, match="timezone-aware"):
            metrics.observe_pass(
                PassReport(started_at=T0),
                finished_at=datetime(2024, 5, 6, 7, 8, 9),  # noqa: DTZ001 - the point of the test
                alerts_tracked=0,
                failing_items=0,
            )

    def test_two_instances_do_not_share_samples(self):
        """Each Metrics owns its registry, so observing one leaves another untouched."""
        first, second = Metrics(), Metrics()

        first.observe_response("ilert", 200, 0.1)

        assert _samples(first.render())[_key("api_requests_total", service="ilert", status="200")]
        assert not any(name == P + "api_requests_total" for name, _ in _samples(second.render()))

    def test_observe_response_is_an_http_service_observer(self, metrics):
        """Wired as HttpService's on_response, a real refused request is counted by its code."""
        observer: Callable[[str, int | None, float], None] = metrics.observe_response
        with IlertSimulator(api_key="canary-key-7f3a") as simulator:
            http = HttpService(
                "ilert",
                simulator.url,
                "Bearer canary-wrong-key-5d0e",
                RateBudget(1000, 60.0),
                retry=RetryPolicy(attempts=1),
                on_response=observer,
            )
            try:
                with pytest.raises(PermanentApiError) as caught:
                    http.get("/api/alerts")
            finally:
                http.close()

        samples = _samples(metrics.render())
        status = str(caught.value.status)
        assert status in {"401", "403"}
        assert samples[_key("api_requests_total", service="ilert", status=status)] == 1.0
        assert samples[_key("api_request_duration_seconds_count", service="ilert")] == 1.0


class TestTextfile:
    def test_textfile_holds_the_rendered_text_and_nothing_else_is_left(self, fed, tmp_path):
        """write_textfile writes exactly render() with mode 0644 and leaves no temp file."""
        path = tmp_path / "ilert_statuspage_sync.prom"

        fed.write_textfile(path)

        assert path.read_bytes() == fed.render()
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]

    def test_rewrite_replaces_the_file_instead_of_editing_it(self, fed, tmp_path):
        """A second write renames a new file over the old one, so readers never see a partial."""
        path = tmp_path / "sync.prom"
        fed.write_textfile(path)
        before = path.stat().st_ino
        fed.set_leader(False)

        fed.write_textfile(path)

        assert path.stat().st_ino != before
        assert _samples(path.read_bytes())[_key("leader")] == 0.0
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]

    def test_missing_folder_is_a_metrics_error_naming_it(self, metrics, tmp_path):
        """A textfile in a folder that does not exist raises MetricsError naming the folder."""
        folder = tmp_path / "absent"

        with pytest.raises(MetricsError, match=f"folder {folder} does not exist") as caught:
            metrics.write_textfile(folder / "sync.prom")

        assert isinstance(caught.value, SyncError)

    def test_failed_rename_leaves_no_temp_file(self, metrics, tmp_path, monkeypatch):
        """When the final rename fails the error is a MetricsError and the temp file is gone."""

        def refuse(src: object, dst: object) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "replace", refuse)

        with pytest.raises(MetricsError, match="Permission denied"):
            metrics.write_textfile(tmp_path / "sync.prom")

        assert list(tmp_path.iterdir()) == []


class TestCheckTextfile:
    def test_writable_world_readable_folder_is_ok(self):
        """A folder this user may write and others may read passes."""
        with tempfile.TemporaryDirectory(dir="/tmp") as name:
            folder = Path(name)
            folder.chmod(0o755)

            ok, line = check_textfile(folder / "sync.prom")

        assert ok, line
        assert line.endswith("folder writable, readable by node_exporter")

    def test_missing_folder_fails_naming_it(self, tmp_path):
        """A folder that does not exist is a failed check naming the folder."""
        ok, line = check_textfile(tmp_path / "absent" / "sync.prom")

        assert not ok
        assert f"folder {tmp_path / 'absent'} does not exist" in line

    def test_private_parent_fails_naming_it_and_the_fix(self, tmp_path):
        """A 0700 ancestor (like DynamicUser's /var/lib/private) fails: node_exporter
        running as its own user could not read the file."""
        private = tmp_path / "private"
        (private / "state").mkdir(parents=True)
        private.chmod(0o700)

        ok, line = check_textfile(private / "state" / "metrics.prom")

        assert not ok
        assert "is not readable by other users" in line
        assert "/run/ilert-statuspage-sync" in line


class TestHealth:
    def test_fresh_process_is_not_healthy(self, metrics):
        """Before any tick the verdict is 'starting', unhealthy."""
        verdict = metrics.health(30.0, now=T0)

        assert not verdict.healthy
        assert verdict.reason == "starting: no pass finished yet"

    def test_leader_is_healthy_within_three_intervals_of_an_ok_pass(self, metrics):
        """An ok pass 89 s ago with a 30 s interval is healthy; 91 s ago is not."""
        metrics.set_leader(True)
        metrics.observe_pass(
            PassReport(started_at=T0), finished_at=T0, alerts_tracked=0, failing_items=0
        )

        assert metrics.health(30.0, now=T0 + timedelta(seconds=89)).healthy
        stale = metrics.health(30.0, now=T0 + timedelta(seconds=91))
        assert not stale.healthy
        assert stale.reason == ("last successful pass 91s ago, more than 3 poll intervals (90s)")

    def test_failed_passes_only_is_unhealthy(self, metrics):
        """A leader whose passes all failed is unhealthy and says so."""
        metrics.set_leader(True)
        failed = PassReport(started_at=T0, failed_items=1)
        metrics.observe_pass(failed, finished_at=T0, alerts_tracked=0, failing_items=1)

        verdict = metrics.health(30.0, now=T0)

        assert not verdict.healthy
        assert verdict.reason.startswith("no successful pass yet")

    def test_follower_checking_the_lock_is_healthy(self, metrics):
        """A follower that checked the leader lock just now is healthy."""
        metrics.set_leader(False)

        verdict = metrics.health(30.0)

        assert verdict.healthy
        assert verdict.reason.startswith("follower: waiting for the leader lock")


class TestHttp:
    @pytest.fixture(name="server")
    def _server(self, fed: Metrics) -> Iterator[MetricsServer]:
        server = fed.start_http("127.0.0.1", 0)
        yield server
        server.close()

    def test_healthz_answers_200_after_a_recent_ok_pass(self, metrics):
        """/healthz is 200 with a one-line reason while the last ok pass is recent."""
        metrics.set_leader(True)
        now = datetime.now(UTC)
        report = PassReport(started_at=now)
        metrics.observe_pass(report, finished_at=now, alerts_tracked=0, failing_items=0)
        with metrics.start_http("127.0.0.1", 0, interval=lambda: 30.0) as server:
            base = server.url.removesuffix("/metrics")
            with requests.Session() as session:
                response = session.get(base + "/healthz", timeout=5)

        assert response.status_code == 200
        assert response.text.startswith("ok: last successful pass")
        assert response.text.count("\n") == 1

    def test_healthz_answers_503_with_the_reason_when_stale(self, metrics):
        """/healthz is 503 once the last ok pass is older than three current intervals."""
        metrics.set_leader(True)
        old = datetime.now(UTC) - timedelta(seconds=40)
        metrics.observe_pass(
            PassReport(started_at=old), finished_at=old, alerts_tracked=0, failing_items=0
        )
        interval = [30.0]
        with metrics.start_http("127.0.0.1", 0, interval=lambda: interval[0]) as server:
            url = server.url.removesuffix("/metrics") + "/healthz"
            with requests.Session() as session:
                healthy = session.get(url, timeout=5)
                interval[0] = 10.0  # a reload shortened the interval
                stale = session.get(url, timeout=5)

        assert healthy.status_code == 200
        assert stale.status_code == 503
        assert stale.text.startswith("last successful pass 40s ago, more than 3 poll intervals")

    @pytest.mark.parametrize("path", ["/", "/metricsx", "/healthz/", "/favicon.ico"])
    def test_other_paths_are_404(self, server, path):
        """Only /metrics and /healthz exist; every other path is 404."""
        base = server.url.removesuffix("/metrics")
        with requests.Session() as session:
            response = session.get(base + path, timeout=5)

        assert response.status_code == 404
        assert "/metrics and /healthz" in response.text

    def test_ipv6_loopback_is_served(self, metrics):
        """The listener binds [::1] when asked for an IPv6 loopback address."""
        try:
            server = metrics.start_http("[::1]", 0)
        except MetricsError as error:
            pytest.skip(f"no IPv6 loopback here: {error}")
        with server, requests.Session() as session:
            response = session.get(server.url, timeout=5)

        assert server.url.startswith("http://[::1]:")
        assert response.status_code == 200

    def test_metrics_are_served_over_http(self, fed, server):
        """GET /metrics on the loopback port answers 200 with the same samples as render()."""
        with requests.Session() as session:
            response = session.get(server.url, timeout=5)

        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert _samples(response.text) == _samples(fed.render())

    def test_close_stops_serving(self, server):
        """After close() the port refuses connections; a second close() is harmless."""
        server.close()
        server.close()

        with requests.Session() as session, pytest.raises(requests.ConnectionError):
            session.get(server.url, timeout=5)

    @pytest.mark.parametrize(
        "host", ["0.0.0.0", "192.0.2.10", "::", "[::]", "example.com", ""], ids=repr
    )
    def test_non_loopback_host_is_refused(self, metrics, host):
        """Any host but a loopback address raises ValueError before binding anything."""
        with pytest.raises(ValueError, match="not a loopback address"):
            metrics.start_http(host, 0)

    def test_port_in_use_is_a_metrics_error(self, metrics):
        """A port another socket listens on raises MetricsError naming host and port."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]

            with pytest.raises(MetricsError, match=f"127.0.0.1:{port}"):
                metrics.start_http("127.0.0.1", port)
