"""An iLert listing that never ends (a broken server serving fresh full pages) is bounded.

It used to be read until it ended: `sync` grew by megabytes a second and never
finished, and `run`'s first pass never ended. `GET /api/alerts/count` (same
filters) now bounds the pages a listing may take; past the bound the read of
iLert fails with one line, and nothing of the listing is used.
"""

from __future__ import annotations

from structlog.testing import capture_logs

from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE


def _listing_requests(harness: Harness) -> list[str]:
    listing = ("/api/alerts", "/api/alerts/count")
    return [r.path for r in harness.ilert.requests if r.path in listing]


def test_a_one_shot_sync_of_an_endless_listing_stops_at_the_count_with_one_error(
    harness: Harness,
):
    """150 real alerts, endless padding: 4 pages and 2 counts, then `ilert_read_failed`."""
    for n in range(150):
        harness.ilert.create_alert(AUTO_SOURCE, f"real {n}")
    harness.ilert.set_endless_listing()
    harness.syncer.one_shot = True  # as `sync` builds it
    harness.ilert.clear_requests()

    with capture_logs() as logs:
        report = harness.sync()

    assert not report.ok and not report.ilert_ok
    requests = _listing_requests(harness)
    assert requests.count("/api/alerts/count") == 2  # counted again at the bound: no growth
    assert requests.count("/api/alerts") == 4  # ceil-ish 150 / 100 + 1, and a slack of 2
    (failed,) = [e for e in logs if e["event"] == "ilert_read_failed"]
    assert "does not end" in failed["error"] and "at most 4 pages" in failed["error"]
    assert harness.incidents() == []  # nothing of a listing that does not end is used


def test_a_running_daemon_fails_the_pass_and_lists_anew_once_the_listing_is_mended(
    harness: Harness,
):
    """`run`: the pass fails at the bound (never hangs); once mended, the next pass syncs."""
    for n in range(150):
        harness.ilert.create_alert(AUTO_SOURCE, f"real {n}")
    harness.ilert.set_endless_listing()

    assert not harness.sync().ilert_ok
    harness.ilert.set_endless_listing(endless=False)
    report = harness.sync()

    assert report.ok
    assert len(harness.incidents()) == 150


def test_an_open_set_grown_past_its_kept_bound_is_counted_again_not_failed(harness: Harness):
    """`run` keeps the count across passes; a set grown past it is counted again and listed."""
    for n in range(150):
        harness.ilert.create_alert(AUTO_SOURCE, f"first {n}")
    harness.sync()
    for n in range(400):
        harness.ilert.create_alert(AUTO_SOURCE, f"storm {n}")
    harness.ilert.clear_requests()

    report = harness.sync()

    assert report.ilert_ok
    open_pages = [
        r
        for r in harness.ilert.requests
        if r.path == "/api/alerts" and "PENDING" in r.query["states"]
    ]
    assert len(open_pages) == 6  # 550 open alerts: 5 full pages and a short one
    assert _listing_requests(harness).count("/api/alerts/count") == 1  # past the kept bound of 4


def test_a_count_answering_404_leaves_the_listing_to_its_guards_and_everything_syncs(
    harness: Harness,
):
    """150 open alerts, the count endpoint 404s: one warning a listing, all 150 published."""
    ids = [harness.ilert.create_alert(AUTO_SOURCE, f"svc-{n} down") for n in range(150)]
    harness.ilert.fail_next(1000, 404, path_contains="/api/alerts/count")

    with capture_logs() as logs:
        report = harness.sync()

    assert report.ok
    assert len(harness.incidents()) == 150
    assert [e["event"] for e in logs].count("ilert_count_unusable") == 1
    harness.ilert.resolve(ids[0])
    assert harness.sync().ok
    statuses = {i["name"]: i["status"] for i in harness.incidents()}
    assert statuses["svc-0 down"] == "resolved"
