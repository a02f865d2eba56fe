"""Ids read from vendor text: digits only, at most 19, within what the database stores."""

from __future__ import annotations

from ilert_statuspage_sync.core.relink import PageIncident, links_to_rebuild
from ilert_statuspage_sync.core.vendor_ids import vendor_id


def test_a_plain_id_reads_and_anything_else_names_none():
    """Digits and ints in range read; huge, signed, spaced, foreign digits, bools do not."""
    assert vendor_id("42") == 42
    assert vendor_id(42) == 42
    assert vendor_id(str(2**63 - 1)) == 2**63 - 1
    for raw in ("9" * 5000, str(2**63), "0", "-1", " 1", "1.0", "١٢", "²", "", True, 0, 2**63):
        assert vendor_id(raw) is None, raw


def test_a_rebuild_skips_an_incident_whose_metadata_holds_a_5000_digit_id():
    """A huge alert_id or alert_ids part names no alert; the sane incident still rebuilds."""
    huge = "9" * 5000
    incidents = [
        PageIncident("p", "a", "identified", {"ilert": {"alert_id": huge, "incident_action": "x"}}),
        PageIncident(
            "p",
            "b",
            "identified",
            {"ilert": {"alert_id": "5", "incident_action": "x", "alert_ids": f"{huge},6"}},
        ),
    ]
    links, _ = links_to_rebuild(incidents, {"x": "p"})
    assert sorted(link.alert_id for link in links) == [5, 6]
