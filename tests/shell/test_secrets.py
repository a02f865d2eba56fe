"""Secrets stay secret: TLS verification on, masked reprs, redacted log lines."""

from __future__ import annotations

from ilert_statuspage_sync.clients.http import HttpService, RateBudget
from ilert_statuspage_sync.runtime.logs import redact
from ilert_statuspage_sync.runtime.secrets import register_secrets, scrub

CANARY = "canary-key-51f0e2d9"


def test_tls_verification_stays_on_and_auth_is_masked():
    """Every session verifies TLS; the auth object never shows the key."""
    http = HttpService("statuspage", "https://api.statuspage.io", f"OAuth {CANARY}", RateBudget(5))
    try:
        assert http._session.verify is True
        assert CANARY not in repr(http._session.auth)
        assert CANARY not in repr(http.__dict__)
    finally:
        http.close()


def test_redact_masks_registered_values_and_credential_keys():
    """A key value anywhere in a log line, or any credential-like field, is masked."""
    register_secrets([CANARY])
    event = {
        "event": "x",
        "error": f"Authorization: OAuth {CANARY} refused",
        "api_key": "whatever",
        "exc": ValueError(CANARY),
    }
    cleaned = redact(None, "info", event)
    assert CANARY not in repr(cleaned)
    assert cleaned["api_key"] == "********"
    assert scrub(f"x{CANARY}y") == "x********y"
