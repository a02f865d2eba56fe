"""Keys are never printed: one-line key sources, no echo of what may be a key, prefix masking,
and no plain-HTTP key to a non-loopback host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync.config import parse_config
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.runtime.logs import redact
from ilert_statuspage_sync.runtime.secrets import register_secrets, scrub

# Lower case and digits: it can never pass for an environment variable name.
KEY = "il1canary7q4x9w2m5k8r3t6"
ENV = {"ILERT_API_KEY": KEY, "STATUSPAGE_API_KEY": "sp-canary-key-3e7c1a9b"}
ORIGIN = "test.toml"


def _data(ilert: dict[str, Any] | None = None, **service: Any) -> dict[str, Any]:
    return {
        "ilert": ilert if ilert is not None else {"api_key_env": "ILERT_API_KEY"},
        "connectors": {"main": {"api_key_env": "STATUSPAGE_API_KEY", **service}},
        "incident_actions": [
            {"name": "a", "alert_sources": [1], "connector": "main", "page_id": "p"}
        ],
    }


def _error(data: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV if environ is None else environ, origin=ORIGIN)
    return str(caught.value)


def _fragments(text: str) -> list[str]:
    """Every 8-character piece of KEY found in ``text``."""
    return [KEY[i : i + 8] for i in range(len(KEY) - 7) if KEY[i : i + 8] in text]


class TestOneLine:
    @pytest.mark.parametrize(
        "content",
        [f"{KEY}\n# rotated 2024\n", f"# old key\n{KEY}\n", f"{KEY}\r\nzweiter-kkey-abcdef\r\n"],
        ids=["comment-after", "comment-before", "two-keys-crlf"],
    )
    def test_key_file_with_a_second_line_is_refused_unshown(self, tmp_path: Path, content: str):
        """A key file with two non-empty lines is a config error that shows neither line."""
        key_file = tmp_path / "ilert.key"
        key_file.write_text(content)
        message = _error(_data({"api_key_file": str(key_file)}))
        assert message.startswith(f"{ORIGIN}: ilert.api_key_file: key file {key_file} holds 2")
        assert "only the key, on one line" in message
        assert _fragments(message) == []
        assert "rotated" not in message
        assert "zweiter" not in message

    def test_key_file_is_read_as_one_stripped_line(self, tmp_path: Path):
        """Blank lines and surrounding whitespace around the one key line are dropped."""
        key_file = tmp_path / "ilert.key"
        key_file.write_text(f"\n\n  {KEY}  \r\n\n")
        config = parse_config(_data({"api_key_file": str(key_file)}), ENV)
        assert config.ilert.api_key.reveal() == KEY

    def test_a_variable_with_two_lines_is_refused_unshown(self):
        """An environment variable holding a second line is refused without its content."""
        message = _error(_data(), {**ENV, "ILERT_API_KEY": f"{KEY}\n# rotated"})
        assert "ilert.api_key_env: the variable holds 2 non-empty lines" in message
        assert _fragments(message) == []

    def test_a_control_character_in_a_key_is_refused_unshown(self):
        """A key with a control character (it would break the header) is refused unshown."""
        message = _error(_data({"api_key": f"{KEY}\x07"}))
        assert "ilert.api_key: the key holds a control character" in message
        assert _fragments(message) == []


class TestNoEcho:
    def test_a_key_pasted_into_api_key_env_is_not_echoed(self):
        """api_key_env holding a key (not a VARIABLE_NAME) is named by its dotted key only."""
        message = _error(_data({"api_key_env": KEY}))
        assert message.startswith(f"{ORIGIN}: ilert.api_key_env: environment variable (name not")
        assert _fragments(message) == []

    def test_a_conventional_variable_name_is_echoed(self):
        """An unset VARIABLE_NAME is named, so the operator knows what to export."""
        message = _error(_data({"api_key_env": "MISSING_ILERT_KEY"}))
        assert "environment variable MISSING_ILERT_KEY is not set" in message

    def test_a_key_pasted_into_api_key_file_is_not_echoed(self, tmp_path: Path):
        """api_key_file holding a key (no '/') is not echoed, even as part of the tried path."""
        data = _data({"api_key_file": KEY})
        with pytest.raises(ConfigError) as caught:
            parse_config(data, ENV, origin=ORIGIN, base_dir=tmp_path)
        message = str(caught.value)
        assert "ilert.api_key_file: cannot read key file (name not shown) in" in message
        assert _fragments(message) == []

    def test_a_key_file_path_with_a_slash_is_echoed(self, tmp_path: Path):
        """A path containing '/' cannot be a key, so a missing file is named in full."""
        missing = tmp_path / "nope.key"
        message = _error(_data({"api_key_file": str(missing)}))
        assert f"cannot read key file {missing}: No such file" in message

    @pytest.mark.parametrize("source", ["api_key_env", "api_key_file", "api_key"])
    def test_an_unquoted_numeric_key_is_not_echoed(self, source: str):
        """A key written as a bare number in any source is refused without its digits."""
        message = _error(_data({source: 834729104857362918}))
        assert message == f"{ORIGIN}: ilert.{source}: must be a non-empty string (in quotes)"


class TestPlainHttp:
    @pytest.mark.parametrize(
        ("ilert", "service", "dotted"),
        [
            ({"api_url": "http://api.ilert.com"}, {}, "ilert"),
            (None, {"api_url": "http://10.0.0.7:8080"}, "connectors.main"),
        ],
        ids=["ilert", "connector"],
    )
    def test_http_to_a_non_loopback_host_is_refused(self, ilert, service, dotted):
        """Plain http:// to a remote host would send the key in clear: refused, naming the fix."""
        if ilert is not None:
            ilert = {"api_key_env": "ILERT_API_KEY", **ilert}
        message = _error(_data(ilert, **service))
        assert message.startswith(f"{ORIGIN}: {dotted}.api_url: ")
        assert "unencrypted" in message
        assert f"allow_insecure_http = true in [{dotted}]" in message

    def test_allow_insecure_http_lets_it_through(self):
        """allow_insecure_http = true in that service's table accepts plain http://."""
        data = _data(
            {
                "api_key_env": "ILERT_API_KEY",
                "api_url": "http://ilert.lan",
                "allow_insecure_http": True,
            },
            api_url="http://statuspage.lan:8080",
            allow_insecure_http=True,
        )
        config = parse_config(data, ENV)
        assert config.ilert.api_url == "http://ilert.lan"
        assert config.connectors["main"].api_url == "http://statuspage.lan:8080"

    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80", "https://x.io"]
    )
    def test_loopback_http_and_https_need_no_flag(self, url: str):
        """Simulators on loopback and any https URL are accepted as before."""
        assert parse_config(_data(api_url=url), ENV).connectors["main"].api_url == url

    def test_allow_insecure_http_must_be_a_boolean(self):
        """A quoted "true" is refused, naming the dotted key."""
        message = _error(_data(api_url="http://x.lan", allow_insecure_http="true"))
        assert message == f"{ORIGIN}: connectors.main.allow_insecure_http: must be true or false"


class TestPrefixMasking:
    def test_any_prefix_of_eight_or_more_characters_is_masked(self):
        """A key cut after 8, 10 or 20 characters is masked as a whole key is."""
        register_secrets([KEY])
        for cut in (8, 10, 20, len(KEY)):
            text = f"error: {'x' * 5}{KEY[:cut]}"
            assert scrub(text) == "error: xxxxx********"
        assert scrub(f"a {KEY[:7]} b") == f"a {KEY[:7]} b"

    def test_every_occurrence_is_masked_in_log_events(self):
        """redact masks several cut copies in one value, and in exception reprs."""
        register_secrets([KEY])
        event = {"event": "x", "error": f"{KEY[:9]} and {KEY}!", "exc": ValueError(KEY[:12])}
        cleaned = redact(None, "info", event)
        assert cleaned["error"] == "******** and ********!"
        assert _fragments(repr(cleaned)) == []
