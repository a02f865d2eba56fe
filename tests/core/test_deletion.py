"""core.deletion: a 404 is taken as a deletion only when confirmed over reads and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ilert_statuspage_sync.core.deletion import (
    Absence,
    deleted_event,
    gone_alert,
    mass_missing,
    not_found,
)
from ilert_statuspage_sync.core.deletion import not_found_again as again
from ilert_statuspage_sync.core.model import AlertStatus, EventKind
from ilert_statuspage_sync.errors import PermanentApiError, TransientApiError

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _reads(*minutes: float) -> Absence:
    absence = Absence()
    for minute in minutes:
        moment = T0 + timedelta(minutes=minute)
        absence = again(absence, moment, moment)
    return absence


def test_three_404s_spanning_ten_minutes_confirm_a_deletion():
    """Three reads over ten minutes confirm; fewer reads or a shorter span do not."""
    ten, three = T0 + timedelta(minutes=10), T0 + timedelta(minutes=3)
    assert _reads(0, 5, 10).confirmed(ten, ten)
    assert not _reads(0, 10).confirmed(ten, ten)
    assert not _reads(0, 1, 2, 3).confirmed(three, three)


def test_a_clock_gone_back_past_the_first_404_starts_the_span_again():
    """iLert's clock went back: the span restarts at the new time, it never confirms early."""
    absence = _reads(0, 5, -60)
    assert absence.since == T0 - timedelta(minutes=60) and absence.reads == 3
    later = T0 - timedelta(minutes=55)
    assert not absence.confirmed(later, later)


def test_only_ilerts_404_counts_as_not_found():
    """A 404 counts; a 403 or an outage does not."""
    assert not_found(PermanentApiError("ilert", "gone", 404))
    assert not not_found(PermanentApiError("ilert", "key", 403))
    assert not not_found(TransientApiError("ilert", "down", 503))


def test_the_deleted_event_resolves_the_alert_as_last_mirrored():
    """The alert keeps its summary and is resolved; the event is ``deleted``."""
    alert = gone_alert(7, "Checkout down", None, reported=T0, now=T0)
    event = deleted_event(None, alert, T0)
    assert alert.status == AlertStatus.RESOLVED and alert.summary == "Checkout down"
    assert event.kind is EventKind.DELETED and event.mirror_after.status == AlertStatus.RESOLVED


def test_an_ilert_date_far_ahead_does_not_shorten_the_span_on_this_machines_clock():
    """Three 404s over one local minute, the last with iLert's Date 15 minutes ahead: waits."""
    absence = Absence()
    for real, header in [(0, 0), (30, 30), (60, 60 + 15 * 60)]:
        absence = again(absence, T0 + timedelta(seconds=header), T0 + timedelta(seconds=real))
    assert not absence.confirmed(T0 + timedelta(seconds=960), T0 + timedelta(seconds=60))
    assert absence.confirmed(T0 + timedelta(minutes=20), T0 + timedelta(minutes=10))


def test_this_machines_clock_gone_back_restarts_its_span():
    """The local clock went back past the first 404: its span starts again there."""
    absence = again(Absence(), T0, T0)
    absence = again(absence, T0 + timedelta(minutes=5), T0 - timedelta(hours=1))
    assert absence.local_since == T0 - timedelta(hours=1)


def test_many_missing_at_once_is_no_deletion():
    """More than 3 and more than half the open incidents missing: held; a few: not."""
    assert mass_missing(20, 20)
    assert mass_missing(4, 7)
    assert not mass_missing(3, 3)
    assert not mass_missing(4, 8)
    assert not mass_missing(1, 1)
