"""Back-off of refused items and what a failure means (core.backoff)."""

from __future__ import annotations

from datetime import timedelta

from ilert_statuspage_sync.core.backoff import (
    MAX_RETRY_DELAY,
    Failure,
    deleted_incident,
    failure_kind,
    read_failure_backs_off,
    retry_delay,
)
from ilert_statuspage_sync.errors import (
    ApiError,
    PayloadError,
    PermanentApiError,
    SyncError,
    TransientApiError,
)


def test_retry_delay_doubles_from_one_interval():
    """The first failure waits one interval, each next one twice as long."""
    assert retry_delay(1, 30) == timedelta(seconds=30)
    assert retry_delay(2, 30) == timedelta(seconds=60)
    assert retry_delay(3, 30) == timedelta(seconds=120)


def test_retry_delay_is_capped_at_an_hour():
    """However many failures, an item waits at most an hour."""
    assert retry_delay(1000, 30) == MAX_RETRY_DELAY


def test_retry_delay_of_no_failure_is_one_interval():
    """A count of zero (or less) still waits one interval."""
    assert retry_delay(0, 10) == timedelta(seconds=10)


def test_a_service_down_defers():
    """A transient API error is no one's fault: the item is deferred."""
    error = TransientApiError("ilert", "down")
    assert failure_kind(error, database=False) is Failure.DEFERRED


def test_payload_error_is_unreadable():
    """An alert iLert sent in a shape the daemon cannot read is unreadable."""
    assert failure_kind(PayloadError("bad"), database=False) is Failure.UNREADABLE


def test_database_error_is_a_store_failure():
    """An error of the database layer is a store failure."""
    assert failure_kind(RuntimeError("locked"), database=True) is Failure.STORE


def test_api_and_sync_errors_are_refusals():
    """An API's or the daemon's own refusal is recorded without a traceback."""
    assert (
        failure_kind(PermanentApiError("statuspage", "no", 422), database=False) is Failure.REFUSED
    )
    assert failure_kind(SyncError("no"), database=False) is Failure.REFUSED
    assert isinstance(PermanentApiError("statuspage", "no", 422), ApiError)


def test_anything_else_is_a_crash():
    """An unexpected exception is a crash."""
    assert failure_kind(KeyError("x"), database=False) is Failure.CRASHED


def test_a_404_on_a_linked_incident_means_it_was_deleted():
    """A 404 while an incident is linked says a person deleted it."""
    error = PermanentApiError("statuspage", "gone", 404)
    assert deleted_incident(error, published=True)
    assert not deleted_incident(error, published=False)
    assert not deleted_incident(PermanentApiError("statuspage", "no", 422), published=True)


def test_an_ilert_404_says_nothing_of_the_linked_incident():
    """iLert's 404 (a deleted alert's timeline) is no deleted incident: the page keeps it."""
    assert not deleted_incident(PermanentApiError("ilert", "gone", 404), published=True)


def test_only_an_unpublished_manual_trigger_backs_off_on_a_read_failure():
    """A manual trigger with nothing published fails and backs off; any other link does not."""
    assert read_failure_backs_off(manual=True, published=False)
    assert not read_failure_backs_off(manual=True, published=True)
    assert not read_failure_backs_off(manual=False, published=False)
