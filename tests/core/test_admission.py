"""Whether a work item syncs now, and why it waits (core.admission)."""

from __future__ import annotations

from dataclasses import replace

from ilert_statuspage_sync.core.admission import Admission, Gate, admit


def _never() -> bool:
    raise AssertionError("asked although an earlier answer decided")


OPEN = Gate(
    waiting=False,
    service_down=False,
    stopping=False,
    selected=True,
    may_start=lambda: True,
    in_flight=lambda: False,
)


def test_a_clear_item_syncs():
    """Nothing holds it back: the item syncs now."""
    assert admit(OPEN) is Admission.SYNC


def test_backed_off_down_or_stopping_defers_without_asking_further():
    """A back-off, a service down or a stop defers; pacing and in-flight are not asked."""
    quiet = replace(OPEN, may_start=_never, in_flight=_never)
    for gate in (
        replace(quiet, waiting=True),
        replace(quiet, service_down=True),
        replace(quiet, stopping=True),
    ):
        assert admit(gate) is Admission.DEFERRED


def test_no_timeline_check_waits_for_one():
    """An alert whose timeline is not read this pass waits for its check."""
    gate = replace(OPEN, selected=False, may_start=_never, in_flight=_never)
    assert admit(gate) is Admission.WAITING_CHECK


def test_past_the_allowance_is_paced():
    """A spent Statuspage allowance paces the item; in-flight is not asked."""
    gate = replace(OPEN, may_start=lambda: False, in_flight=_never)
    assert admit(gate) is Admission.PACED


def test_another_write_in_flight_defers():
    """Another process's write that may still land keeps the item waiting."""
    assert admit(replace(OPEN, in_flight=lambda: True)) is Admission.IN_FLIGHT
