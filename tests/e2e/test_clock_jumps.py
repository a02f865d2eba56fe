"""The VM's wall clock jumps; what is read, mirrored and retried does not follow it.

freezegun moves the daemon's clock (every ``datetime.now`` and ``time.time`` in
the process); both simulators stay on the real clock, as iLert and Statuspage
would, so their ``reportTime`` stamps and ``Date`` headers keep the true time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from ilert_statuspage_sync.core.backoff import retry_delay
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.harness import Harness
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

# A bound method of the real class: freezegun swaps module attributes that hold
# the datetime class, not this.
_REAL_NOW = datetime.now


class VendorClock:
    """The vendors' clock: the real time, plus an offset a test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return _REAL_NOW(UTC) + self.offset


@pytest.fixture(name="vendor_clock")
def _vendor_clock(ilert: IlertSimulator, statuspage: StatuspageSimulator) -> VendorClock:
    clock = VendorClock()
    ilert.set_clock(clock)
    statuspage.set_clock(clock)
    return clock


def _incidents_of(harness: Harness, alert_id: int) -> list[dict[str, object]]:
    return [
        incident
        for incident in harness.incidents(AUTO_PAGE)
        if incident["metadata"]["ilert"]["alert_id"] == str(alert_id)
    ]


def test_activation_two_hours_ahead_still_mirrors_alerts_opened_after_the_fix(
    make_harness, vendor_clock: VendorClock
):
    """A first pass on a clock 2 h ahead activates at iLert's time, so later alerts are mirrored."""
    harness: Harness = make_harness("classic")
    with freeze_time(vendor_clock() + timedelta(hours=2), tick=True):
        harness.sync()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "after the clock fix", "")
    harness.sync()
    (incident,) = _incidents_of(harness, alert_id)
    assert incident["status"] == "identified"


def test_one_pass_two_hours_ahead_loses_no_alert(harness: Harness, vendor_clock: VendorClock):
    """After one pass on a clock 2 h ahead, an alert created and resolved before the next
    pass (10 minutes later) still gets its incident, created resolved."""
    with freeze_time(vendor_clock() + timedelta(hours=2), tick=True):
        harness.sync()
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "brief outage", "")
    harness.ilert.resolve(alert_id)
    vendor_clock.offset = timedelta(minutes=10)
    with freeze_time(vendor_clock(), tick=True):  # the clock is right again
        harness.sync()
    (incident,) = _incidents_of(harness, alert_id)
    assert incident["status"] == "resolved"


def test_retry_delay_survives_a_backward_jump(harness: Harness, vendor_clock: VendorClock):
    """A failed item retried after a -1 h jump waits its own delay, not an hour more."""
    harness.statuspage.fail_next(1, status=409, method="POST")
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "refused once", "")
    first = harness.sync()
    assert first.failed_items == 1 and harness.incidents(AUTO_PAGE) == []
    delay = retry_delay(1, harness.config.poll_interval)
    with freeze_time(vendor_clock() - timedelta(hours=1)) as frozen:
        jumped = harness.sync()
        assert jumped.deferred_items == 1  # still inside its delay, counted from the jump
        link = harness.link("public-api", alert_id)
        assert link is not None and link.next_attempt_at is not None
        assert link.next_attempt_at <= datetime.now(UTC) + delay
        frozen.tick(delay + timedelta(seconds=1))
        retried = harness.sync()
    assert retried.deferred_items == 0
    (incident,) = _incidents_of(harness, alert_id)
    assert incident["status"] == "identified"


def test_ilert_time_is_the_date_header_on_the_simulators_clock(make_harness):
    """The iLert simulator stamps Date on its own clock; the client reads it as iLert's time."""
    harness: Harness = make_harness("classic")
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    harness.ilert.set_clock(lambda: moment)
    harness.syncer.ilert.list_alerts(sources=[AUTO_SOURCE])
    assert harness.syncer.ilert.server_time() == moment


@pytest.mark.parametrize("lie", [timedelta(days=365 * 70), -timedelta(days=365 * 70)])
def test_an_implausible_date_header_on_the_first_pass_is_not_used(
    make_harness, vendor_clock: VendorClock, lie: timedelta
):
    """iLert's Date decades off on the activation pass: ignored (logged), so later alerts are
    mirrored and old ones are not published."""
    harness: Harness = make_harness("classic")
    reported = _REAL_NOW(UTC) - timedelta(hours=3)
    old = harness.ilert.create_alert(AUTO_SOURCE, "closed long ago", "", report_time=reported)
    harness.ilert.resolve(old)
    vendor_clock.offset = lie
    harness.sync()  # the first pass activates the action
    vendor_clock.offset = timedelta(0)
    later = harness.ilert.create_alert(AUTO_SOURCE, "opened after", "")
    harness.sync()
    assert [i["name"] for i in harness.incidents(AUTO_PAGE)] == ["opened after"]
    assert harness.link("public-api", later) is not None
