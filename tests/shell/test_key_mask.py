"""Any 8-character piece of a key is masked wherever text leaves the process, after every
normalisation: log lines (nested values too), CLI streams, stored text, error messages."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest
import structlog

from ilert_statuspage_sync.commands.output import ScrubbedStream
from ilert_statuspage_sync.core.public_text import publishable
from ilert_statuspage_sync.core.storable import clean_text
from ilert_statuspage_sync.errors import PermanentApiError
from ilert_statuspage_sync.runtime.secrets import MASK, register_secrets, scrub
from ilert_statuspage_sync.service.notify import Notifier

# Lower case and digits, as the vendors' keys; no word a log line could hold.
KEY = "k3yp13c3s9x4w7q2z8m5n1b6"
SHORT = "q7z3k9"  # under 8 characters: masked only whole


@pytest.fixture(autouse=True)
def _registered() -> None:
    register_secrets([KEY, SHORT])


def _pieces(key: str = KEY) -> list[str]:
    return [key[i : i + 8] for i in range(len(key) - 7)]


def _reader_view(text: str) -> str:
    """What a reader or a later normalisation makes of ``text``: controls and
    zero-width characters gone, lower case."""
    return "".join(
        c for c in publishable(text, 10**9, ()) if c.isprintable() and c != "\u200b"
    ).lower()


def _assert_no_piece(text: str) -> None:
    seen = _reader_view(text)
    assert [p for p in _pieces() if p in seen] == [], repr(text)


@pytest.mark.parametrize("start", range(len(KEY) - 7))
def test_every_eight_character_piece_is_masked(start: int):
    """A piece cut from anywhere in the key, not only its start, is masked."""
    piece = KEY[start : start + 8]
    assert scrub(f"invalid token ...{piece}!") == f"invalid token ...{MASK}!"


def test_a_vendor_echo_of_the_last_twelve_characters_is_masked():
    """The key's suffix (a vendor showing "...the last 12") is masked as a whole run."""
    text = f"key ending in {KEY[-12:]} was revoked"
    assert scrub(text) == f"key ending in {MASK} was revoked"


@pytest.mark.parametrize(
    "joint",
    [
        *("\x00", "\x1b", "\u200b", "\u2060", "\ufeff", "\u202e", "\n", "\r\n", " ", "\t"),
        *("\x7f", "\u034f", "\ufe0f", "\U000e0100", "\u3164", "\uffa0", "\u115f", "\u2800"),
    ],
    ids=[
        *("nul", "esc", "zwsp", "wj", "bom", "rlo", "lf", "crlf", "space", "tab", "del"),
        *("cgj", "vs16", "vs17", "hangul-filler", "halfwidth-filler", "choseong-filler"),
        "braille-blank",
    ],
)
def test_a_key_split_by_an_invisible_character_is_masked_before_it_is_rejoined(joint: str):
    """A key cut in two by a NUL, a control, a zero-width or bidi character or a break:
    masked whole, so ``clean_text``/``publishable`` afterwards cannot join it again."""
    text = f"echo: {KEY[:11]}{joint}{KEY[11:]} end"
    masked = scrub(text)
    assert masked == f"echo: {MASK} end"
    _assert_no_piece(clean_text(masked))
    _assert_no_piece(publishable(masked, 10**9, ()))


def test_a_key_in_other_case_or_full_width_is_masked():
    """Keys are case-sensitive, but an upper-cased or full-width echo gives the key away."""
    wide = "".join(chr(ord(c) + 0xFEE0) for c in KEY[:10])
    assert scrub(f"<{KEY.upper()}>") == f"<{MASK}>"
    assert scrub(f"<{wide}>") == f"<{MASK}>"


def test_seven_characters_are_not_masked_and_a_short_key_only_whole():
    """Under 8 characters nothing is masked; a key shorter than 8 is masked whole."""
    assert scrub(f"a {KEY[:7]} b") == f"a {KEY[:7]} b"
    assert scrub(f"a {SHORT} b {SHORT[:5]}") == f"a {MASK} b {SHORT[:5]}"


def test_two_pieces_and_text_between_keep_their_places():
    """Several runs in one text: each masked, the text around them unchanged, in order."""
    text = f"x{KEY[2:12]}y é {KEY[-9:]}z"
    assert scrub(text) == f"x{MASK}y é {MASK}z"


def test_an_error_message_is_masked_whenever_it_is_shown():
    """``str()`` of an error and an ApiError's ``message`` never hold a piece."""
    error = PermanentApiError("statuspage", f"bad key ...{KEY[-12:]}", 401)
    assert KEY[-12:] not in str(error)
    assert KEY[-12:] not in error.message


class _Opaque:
    def __repr__(self) -> str:
        return f"Opaque({KEY})"


def test_a_log_line_holds_no_piece_in_nested_values_or_reprs(json_log: io.StringIO):
    """Lists, dicts and objects rendered by repr are masked too, in structlog's lines
    and in a library's stdlib lines."""
    log = structlog.get_logger("probe")
    log.error(
        "probe",
        errors=[f"one {KEY[-12:]}", {"deep": (KEY[:4] + "\x00" + KEY[4:],)}],
        thing=_Opaque(),
    )
    logging.getLogger("urllib3").warning("echo %s", KEY[5:17])
    lines = json_log.getvalue().splitlines()
    assert len(lines) == 2
    for line in lines:
        json.loads(line)  # still valid JSON
        _assert_no_piece(json.loads(line).__repr__())
        _assert_no_piece(line)
    assert MASK in lines[0] and MASK in lines[1]


def test_a_cli_stream_masks_a_key_printed_in_several_writes():
    """stdout/stderr of a command: a line is masked as a whole, however it was written."""
    out = io.StringIO()
    stream = ScrubbedStream(out)
    print("FAIL page: ", KEY[:9], sep="", end="", file=stream)
    print(KEY[9:], "\x00", "done", file=stream)
    print("tail", KEY[-8:], end="", file=stream)
    assert out.getvalue() == f"FAIL page: {MASK} \x00 done\n"
    stream.flush()
    assert out.getvalue().endswith(f"tail {MASK}")
    stream.writelines(["\n", KEY[:4], KEY[4:12], "\n"])
    assert out.getvalue().endswith(f"\n{MASK}\n")
    _assert_no_piece(out.getvalue())


def test_a_systemd_status_line_holds_no_piece(tmp_path: Path):
    """STATUS= (shown by `systemctl status`) is masked like a log line."""
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(path)
        assert Notifier({"NOTIFY_SOCKET": path}).send(STATUS=f"database error: {KEY[-12:]}")
        sent = listener.recv(4096).decode()
    assert sent == f"STATUS=database error: {MASK}"


def test_keys_registered_later_add_to_the_earlier_ones():
    """Registering another key (a second connector) keeps masking the first."""
    other = "0th3rk3y5x8c1v4b7n2m6"
    register_secrets([other])
    assert scrub(f"{KEY[-9:]} {other[3:13]}") == f"{MASK} {MASK}"


def test_scrub_of_a_long_text_is_one_pass():
    """A megabyte of text with no key is returned as it is (the common case is cheap)."""
    text = "m" * 1_000_000
    assert scrub(text) is text


def test_published_text_is_masked_within_its_limit_and_scrub_keeps_it():
    """A name full of a short key is masked before the clip: within 255, and the audit's
    scrub of it changes nothing, so no stored column can overflow through the mask."""
    name = publishable(f"{SHORT} " * 40, 255, (), one_line=True)
    assert SHORT not in name and MASK in name and len(name) <= 255
    assert scrub(name) == name
