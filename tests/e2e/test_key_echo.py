"""A vendor echoing a piece of the key in an error body (its last 12 characters, or the whole
key split by a NUL that ``clean_text`` removes later): no piece reaches the log,
``transitions.reason`` or ``links.last_error``, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from ilert_statuspage_sync.core.public_text import publishable
from ilert_statuspage_sync.runtime.secrets import MASK
from tests.support.harness import Harness
from tests.support.world import AUTO_SOURCE, ILERT_KEY, STATUSPAGE_KEY

ECHOES: dict[str, Callable[[str], str]] = {
    "suffix": lambda key: f"token ...{key[-12:]} is not valid for this page",
    "nul-split": lambda key: f"bad token {key[:7]}\x00{key[7:]}",
}


def _pieces() -> list[str]:
    return [key[i : i + 8] for key in (ILERT_KEY, STATUSPAGE_KEY) for i in range(len(key) - 7)]


def _assert_no_piece(text: str) -> None:
    """No piece in ``text`` as a reader sees it: NUL and other controls removed."""
    seen = publishable(text, 10**9, ()).replace("\\u0000", "")
    leaked = [piece for piece in _pieces() if piece in seen]
    assert leaked == [], f"{leaked} in {text[-2000:]!r}"


@pytest.mark.parametrize("echo", ECHOES)
def test_a_refused_create_echoing_the_key_is_stored_and_logged_without_it(
    harness: Harness, json_log: io.StringIO, echo: str
):
    """The create is refused with a 422 whose body echoes the Statuspage key: the failure
    is recorded (reason, last_error) and logged, masked."""
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "Checkout down", "")
    body = {"error": ECHOES[echo](STATUSPAGE_KEY)}
    harness.statuspage.inject_fault(422, body, times=3, method="POST")
    harness.sync()
    link = harness.link("public-api", alert_id)
    assert link is not None and link.last_error is not None
    reasons = [row.reason for row in harness.audit_rows() if row.reason]
    assert any(MASK in reason for reason in reasons), reasons
    assert MASK in link.last_error
    for text in [*reasons, link.last_error, json_log.getvalue()]:
        _assert_no_piece(text)


@pytest.mark.parametrize("echo", ECHOES)
def test_an_ilert_error_echoing_the_key_is_logged_without_it(
    harness: Harness, json_log: io.StringIO, echo: str
):
    """iLert answering 503 with the iLert key echoed: the outage is logged, masked."""
    harness.ilert.inject_fault(503, {"message": ECHOES[echo](ILERT_KEY)}, times=5)
    harness.sync()
    log = json_log.getvalue()
    assert "service_unreachable" in log and MASK in log
    _assert_no_piece(log)
