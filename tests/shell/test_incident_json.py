"""The incident decoder: what ``json.loads`` returns, decoding only the updates not seen before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ilert_statuspage_sync.clients.http import json_int
from ilert_statuspage_sync.clients.incident_json import IncidentDecoder


def _answer(updates: list[dict[str, Any]], **extra: Any) -> str:
    # Keys in the vendor's (alphabetical) order: the timeline sits between other fields.
    return json.dumps({"id": "inc1", "incident_updates": updates, "status": "identified", **extra})


def _update(number: int, body: str = "") -> dict[str, Any]:
    text = body or f'node {number} down ]"}}'
    return {"id": f"u{number}", "body": text, "affected": [{"a": 1}]}


def test_a_growing_timeline_decodes_each_update_once():
    """30 answers, each one update longer: each equals json.loads, 30 updates decoded (not 465)."""
    decoder = IncidentDecoder(json_int)
    updates: list[dict[str, Any]] = []
    for number in range(30):
        updates.insert(0, _update(number))
        raw = _answer(updates, metadata={"ilert": {"n": number}}).encode()
        assert decoder(raw) == json.loads(raw)
    assert decoder.decoded_updates == 30


def test_an_edited_earlier_update_is_decoded_in_full():
    """An earlier update's text changed on the page: the repeated text differs, all is decoded."""
    decoder = IncidentDecoder(json_int)
    updates = [_update(2), _update(1), _update(0)]
    decoder(_answer(updates).encode())
    edited = [_update(3), _update(2), _update(1, body="edited by a person"), _update(0)]
    raw = _answer(edited).encode()
    assert decoder(raw) == json.loads(raw)
    assert decoder.decoded_updates == 3 + 4


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"a": 1} x', b'{"incident_updates": [1,]}', b"[1]", b'\xef\xbb\xbf{"a": 1}'],
)
def test_anything_else_is_what_json_loads_makes_of_it(raw: bytes):
    """Malformed or other shapes: the same value, or the same ValueError, as json.loads."""
    decoder = IncidentDecoder(json_int)
    try:
        expected: Any = json.loads(raw, parse_int=json_int)
    except ValueError:
        with pytest.raises(json.JSONDecodeError):
            decoder(raw)
        return
    assert decoder(raw) == expected


def _scanned(updates: list[Any], text: str) -> frozenset[str]:
    """The ids a look at every update finds for ``text``."""
    return frozenset(
        u["id"]
        for u in updates
        if isinstance(u.get("id"), str) and str(u.get("body") or "").strip() == text
    )


def test_a_timeline_finds_its_updates_by_text_as_a_scan_does():
    """Repeated texts, an id that is no string, a full decode after an edit: each answer's
    updates found by text are those a scan finds, and an earlier answer's stay its own."""
    decoder = IncidentDecoder(json_int)
    updates: list[Any] = []
    answers: list[tuple[list[Any], Any]] = []
    for number in range(12):
        body = " same " if number % 3 == 0 else f"node {number}"
        updates.insert(0, {"id": f"u{number}" if number != 4 else 4, "body": body})
        if number == 8:
            updates[-1] = {"id": "u0", "body": "edited by a person"}
        answers.append((list(updates), decoder(_answer(updates).encode())["incident_updates"]))
    for sent, decoded in answers:
        for text in ("same", "node 5", "node 4", "edited by a person", "absent"):
            assert decoded.ids_with_text(text) == _scanned(sent, text), (len(sent), text)
