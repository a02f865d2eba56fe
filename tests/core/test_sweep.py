"""core.sweep: the unresolved list read one page a pass."""

from __future__ import annotations

from ilert_statuspage_sync.core.sweep import (
    MAX_PAGES,
    Sweep,
    advance,
    known,
    missing,
    passes_per_sweep,
)


def _page(*ids: str) -> dict[str, str]:
    return dict.fromkeys(ids, "investigating")


def test_a_full_page_moves_the_cursor_and_a_short_one_completes_the_sweep():
    """Page 1 full: next is page 2; a short page 2 ends the sweep with both pages seen."""
    sweep: Sweep[str] = Sweep()
    sweep = advance(sweep, _page("a", "b"), {"a"}, full=True)
    assert (sweep.next_page, sweep.complete, sweep.ended) == (2, None, False)
    sweep = advance(sweep, _page("c"), {"a", "c"}, full=False)
    assert sweep.next_page == 1 and sweep.ended
    assert set(sweep.complete or {}) == {"a", "b", "c"}


def test_ours_missing_from_a_whole_sweep_are_candidates_only_if_ours_at_its_start():
    """An incident of ours no page showed is missing; one that became ours mid-sweep is not."""
    sweep: Sweep[str] = advance(Sweep(), _page("x"), {"gone"}, full=True)
    sweep = advance(sweep, _page("y"), {"gone", "new"}, full=False)
    assert missing(sweep, {"gone", "new"}) == {"gone"}


def test_nothing_is_missing_before_a_sweep_ends():
    """Mid-sweep, an incident not read yet is no candidate."""
    sweep: Sweep[str] = advance(Sweep(), _page("x"), {"later"}, full=True)
    assert missing(sweep, {"later"}) == set()


def test_known_is_the_last_whole_sweep_overlaid_with_the_pages_read_since():
    """Evidence: none before a completed sweep; then the last one with newer pages on top."""
    sweep: Sweep[str] = Sweep()
    assert known(sweep) is None
    sweep = advance(sweep, {"a": "old"}, set(), full=False)
    sweep = advance(sweep, {"a": "new", "b": "x"}, set(), full=True)
    assert known(sweep) == {"a": "new", "b": "x"}


def test_a_sweep_takes_one_pass_per_hundred_open_plus_the_short_page():
    """1,100 open: 12 passes (11 full pages and an empty one); 99 open: 1 pass."""
    assert passes_per_sweep(1_100) == 12
    assert passes_per_sweep(99) == 1
    assert passes_per_sweep(10_000) == 101


def test_a_server_repeating_its_last_page_ends_the_sweep():
    """A full page showing only incidents this sweep saw ends it: it would never end else."""
    sweep: Sweep[str] = advance(Sweep(), _page("a", "b"), {"a", "gone"}, full=True)
    sweep = advance(sweep, _page("a", "b"), {"a", "gone"}, full=True)
    assert sweep.ended and sweep.next_page == 1
    assert missing(sweep, {"a", "gone"}) == {"gone"}  # a candidate, confirmed by a read


def test_a_sweep_ends_at_its_page_bound_whatever_the_server_answers():
    """Full pages of new incidents forever: the sweep still ends at ``MAX_PAGES``."""
    sweep: Sweep[str] = Sweep()
    for page in range(1, MAX_PAGES + 1):
        assert not sweep.ended
        sweep = advance(sweep, _page(f"p{page}"), set(), full=True)
    assert sweep.ended and sweep.next_page == 1
