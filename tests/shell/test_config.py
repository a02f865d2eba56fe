"""Tests of the config loader: defaults, dotted-key errors, key sources and secrecy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync.config import (
    Config,
    MetricsConfig,
    Secret,
    load_config,
    parse_config,
)
from ilert_statuspage_sync.errors import ConfigError
from tests.support.settings import (
    CANARIES,
    ENV,
    ILERT_CANARY,
    ORIGIN,
    STATUSPAGE_CANARY,
    minimal_settings,
    with_value,
)

MINIMAL_TOML = """\
[ilert]
api_key_env = "ILERT_API_KEY"

[connectors.main]
api_key_env = "STATUSPAGE_API_KEY"

[[incident_actions]]
name = "checkout"
alert_sources = [101]
connector = "main"
page_id = "kctbh9vrtdwd"
"""

INLINE_TOML = MINIMAL_TOML.replace(
    'api_key_env = "ILERT_API_KEY"', f'api_key = "{ILERT_CANARY}"'
).replace('api_key_env = "STATUSPAGE_API_KEY"', f'api_key = "{STATUSPAGE_CANARY}"')


@pytest.fixture(name="data")
def _data() -> dict[str, Any]:
    return minimal_settings()


def _without(data: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return changed


def _assert_secret_free(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


def _error(
    data: dict[str, Any],
    environ: dict[str, str] | None = None,
    base_dir: Path | None = None,
) -> str:
    """Parse ``data``, expect a ConfigError, check it leaks no key and return its message."""
    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV if environ is None else environ, origin=ORIGIN, base_dir=base_dir)
    message = str(caught.value)
    _assert_secret_free(message)
    _assert_secret_free(repr(caught.value))
    return message


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


KEY_LIKE = "ilc4n4ry8k2j7h5g3f9d1s6a"  # shaped like an iLert key


class TestValidConfig:
    def test_minimal_config_gets_the_documented_defaults(self, data):
        """A config with only keys and one action gets every documented default."""
        config = parse_config(data, ENV)

        assert config.poll_interval == 30.0
        assert config.lifecycle == "classic"
        assert config.database_url == "sqlite:///state.db"
        assert config.log_level == "info"
        assert config.ilert.api_url == "https://api.ilert.com"
        assert config.ilert.requests_per_minute == 120
        assert config.connectors["main"].api_url == "https://api.statuspage.io"
        assert config.connectors["main"].requests_per_minute == 60
        assert config.warnings == ()
        assert config.path is None

    def test_minimal_config_resolves_keys_and_actions(self, data):
        """Keys are read from the environment and the action keeps its values."""
        config = parse_config(data, ENV)

        assert config.ilert.api_key.reveal() == ILERT_CANARY
        assert config.ilert.key_origin == "env ILERT_API_KEY"
        assert config.connectors["main"].api_key.reveal() == STATUSPAGE_CANARY
        (action,) = config.incident_actions
        assert action.name == "checkout"
        assert action.alert_sources == (101,)
        assert action.connector == "main"
        assert action.page_id == "kctbh9vrtdwd"
        assert action.trigger_mode == "automatic"
        assert not action.manual
        assert action.notify_subscribers is True
        assert action.group == "alert"
        assert config.action("checkout") is action

    def test_explicit_values_override_the_defaults(self, data):
        """Given values win over defaults and api_url is normalised to scheme and host."""
        data.update(poll_interval=5, lifecycle="realtime", log_level="debug")
        data["database_url"] = "sqlite:////var/lib/sync/state.db"
        data["ilert"].update(api_url="https://eu.ilert.example/", requests_per_minute=10)
        data["connectors"]["main"]["api_url"] = "http://127.0.0.1:8080"
        data["incident_actions"][0].update(
            trigger_mode="manual", notify_subscribers=False, group="action"
        )

        config = parse_config(data, ENV)
        assert config.incident_actions[0].group == "action"

        assert config.poll_interval == 5.0
        assert config.lifecycle == "realtime"
        assert config.log_level == "debug"
        assert config.database_url == "sqlite:////var/lib/sync/state.db"
        assert config.ilert.api_url == "https://eu.ilert.example"
        assert config.ilert.requests_per_minute == 10
        assert config.connectors["main"].api_url == "http://127.0.0.1:8080"
        assert config.incident_actions[0].manual
        assert config.incident_actions[0].notify_subscribers is False

    def test_unknown_action_lookup_lists_the_configured_names(self, data):
        """Config.action on an unknown name raises a ConfigError naming the known ones."""
        config = parse_config(data, ENV)

        with pytest.raises(ConfigError, match=r"no incident action named 'nope'.*checkout"):
            config.action("nope")


class TestUnknownKeys:
    @pytest.mark.parametrize(
        ("path", "dotted", "hint"),
        [
            (("pol_interval",), "pol_interval", "poll_interval"),
            (("ilert", "api_kye"), "ilert.api_kye", "api_key"),
            (
                ("connectors", "main", "requests_per_minut"),
                "connectors.main.requests_per_minut",
                "requests_per_minute",
            ),
            (
                ("incident_actions", 0, "alert_source"),
                "incident_actions[0].alert_source",
                "alert_sources",
            ),
        ],
        ids=["top-level", "ilert", "connector", "incident-action"],
    )
    def test_unknown_key_is_named_with_a_did_you_mean_hint(self, data, path, dotted, hint):
        """An unknown key is reported by its dotted name with the closest known key."""
        message = _error(with_value(data, path, 1))

        assert message.startswith(f"{ORIGIN}: {dotted}: unknown key")
        assert f"did you mean {hint!r}?" in message

    def test_unknown_key_without_a_close_match_lists_the_known_keys(self, data):
        """An unknown key resembling nothing gets no hint but the list of known keys."""
        message = _error(with_value(data, ("zzzz",), 1))

        assert message.startswith(f"{ORIGIN}: zzzz: unknown key")
        assert "did you mean" not in message
        assert "poll_interval" in message
        assert "incident_actions" in message

    def test_unknown_key_holding_a_key_value_does_not_echo_it(self, data):
        """A misspelt key whose value is an API key is named, but its value is not shown."""
        message = _error(with_value(data, ("ilert", "apikey"), ILERT_CANARY))

        assert message.startswith(f"{ORIGIN}: ilert.apikey: unknown key")


class TestWrongValues:
    @pytest.mark.parametrize(
        ("path", "value", "dotted", "fragment"),
        [
            (("poll_interval",), "30", "poll_interval", "must be a number of seconds"),
            (("poll_interval",), True, "poll_interval", "must be a number of seconds"),
            (
                ("incident_actions", 0, "alert_sources"),
                ["101"],
                "incident_actions[0].alert_sources",
                "must be integers",
            ),
            (
                ("incident_actions", 0, "alert_sources"),
                [101, True],
                "incident_actions[0].alert_sources",
                "must be integers",
            ),
            (
                ("incident_actions", 0, "alert_sources"),
                101,
                "incident_actions[0].alert_sources",
                "non-empty list",
            ),
            (
                ("incident_actions", 0, "alert_sources"),
                [],
                "incident_actions[0].alert_sources",
                "non-empty list",
            ),
            (
                ("incident_actions", 0, "notify_subscribers"),
                "yes",
                "incident_actions[0].notify_subscribers",
                "must be true or false",
            ),
            (
                ("incident_actions", 0, "trigger_mode"),
                "sometimes",
                "incident_actions[0].trigger_mode",
                "'someti'... (9 characters) is not one of automatic, manual",
            ),
            (
                ("incident_actions", 0, "group"),
                "incident",
                "incident_actions[0].group",
                "'incide'... (8 characters) is not one of alert, action",
            ),
            (
                ("incident_actions", 0, "page_id"),
                "  ",
                "incident_actions[0].page_id",
                "must be a non-empty string",
            ),
            (
                ("connectors", "main", "requests_per_minute"),
                0,
                "connectors.main.requests_per_minute",
                "whole number >= 1",
            ),
            (
                ("ilert", "requests_per_minute"),
                "fast",
                "ilert.requests_per_minute",
                "whole number >= 1",
            ),
            (("ilert",), "https://api.ilert.com", "ilert", "must be a table"),
            (("connectors", "main"), [], "connectors.main", "must be a table"),
            (("log_level",), "verbose", "log_level", "is not one of debug, info"),
            (("database_url",), 5, "database_url", "must be a non-empty string"),
            (("metrics", "textfile"), "/tmp/a\x00b.prom", "metrics.textfile", "control character"),
            (
                ("connectors", "main", "api_url"),
                "https://x\x00y",
                "connectors.main.api_url",
                "control",
            ),
        ],
        ids=[
            "poll-interval-string",
            "poll-interval-bool",
            "sources-strings",
            "sources-bool",
            "sources-not-a-list",
            "sources-empty",
            "notify-not-bool",
            "trigger-mode",
            "group",
            "page-id-blank",
            "connector-rate-zero",
            "ilert-rate-string",
            "ilert-not-a-table",
            "connector-not-a-table",
            "log-level",
            "database-url-number",
            "textfile-nul",
            "api-url-nul",
        ],
    )
    def test_wrong_value_names_the_dotted_key(self, data, path, value, dotted, fragment):
        """A value of the wrong type or outside its range is reported under its dotted key."""
        message = _error(with_value(data, path, value))

        assert message.startswith(f"{ORIGIN}: {dotted}: ")
        assert fragment in message

    @pytest.mark.parametrize(
        ("line", "dotted", "fragment"),
        [
            ('database_url = "sqlite:///a\\u0000b"', "database_url", "control character"),
            ('database_url = "sqlite:///a\\nb"', "database_url", "control character"),
            ('page_id = "abc/def"', "incident_actions[0].page_id", "letters, digits"),
            ('page_id = "abc?x=1"', "incident_actions[0].page_id", "letters, digits"),
            ('page_id = "abc#x"', "incident_actions[0].page_id", "letters, digits"),
            ('page_id = "../x"', "incident_actions[0].page_id", "letters, digits"),
            (f'page_id = "{"a" * 65}"', "incident_actions[0].page_id", "at most 64"),
            ("alert_sources = [-1]", "incident_actions[0].alert_sources", "from 1 to"),
            ("alert_sources = [0]", "incident_actions[0].alert_sources", "from 1 to"),
            (
                "alert_sources = [100000000000000000000000]",
                "incident_actions[0].alert_sources",
                "from 1 to",
            ),
            ("alert_sources = [9223372036854775807]", None, "ok"),
            ('api_url = "https://api.ilert.com:99999"', "ilert.api_url", "port must be"),
            ('api_url = "https://api.ilert.com:0"', "ilert.api_url", "port must be"),
            ('api_url = "https://api.ilert.com:x"', "ilert.api_url", "port must be"),
            (
                "requests_per_minute = 100000000000000000000000",
                "ilert.requests_per_minute",
                "at most",
            ),
            ("requests_per_minute = 100001", "ilert.requests_per_minute", "at most 100,000"),
        ],
    )
    def test_hostile_values_in_a_file_name_the_file_and_key(self, tmp_path, line, dotted, fragment):
        """Out-of-range ids, ports, rates, page ids and control characters are ConfigErrors."""
        key = line.partition(" ")[0]
        table = {"database_url": None, "api_url": "[ilert]", "requests_per_minute": "[ilert]"}
        marker = table.get(key, "[[incident_actions]]")
        lines = [text for text in MINIMAL_TOML.splitlines() if not text.startswith(f"{key} =")]
        if marker is None:
            lines.insert(0, line)
        else:
            lines.insert(lines.index(marker) + 1, line)
        path = _write(tmp_path / "config.toml", "\n".join(lines) + "\n")
        if fragment == "ok":
            assert load_config(path, ENV).incident_actions[0].alert_sources == (2**63 - 1,)
            return
        with pytest.raises(ConfigError) as caught:
            load_config(path, ENV)
        assert str(caught.value).startswith(f"{path}: {dotted}: ")
        assert fragment in str(caught.value)
        assert "\n" not in str(caught.value)

    @pytest.mark.parametrize("value", [0, 4.9, -30], ids=["zero", "just-below", "negative"])
    def test_poll_interval_below_minimum_is_rejected(self, data, value):
        """A poll interval under five seconds is refused, naming the minimum."""
        message = _error(with_value(data, ("poll_interval",), value))

        assert message == f"{ORIGIN}: poll_interval: must be at least 5 seconds"

    def test_poll_interval_at_minimum_is_accepted(self, data):
        """Exactly the minimum poll interval is allowed."""
        assert parse_config(with_value(data, ("poll_interval",), 5.0), ENV).poll_interval == 5.0

    @pytest.mark.parametrize(
        "value", ["hybrid", "Classic", ""], ids=["unknown", "wrong-case", "empty"]
    )
    def test_lifecycle_must_be_classic_or_realtime(self, data, value):
        """Only the two lifecycle tables are accepted."""
        message = _error(with_value(data, ("lifecycle",), value))

        assert message.startswith(f"{ORIGIN}: lifecycle: ")

    def test_lifecycle_error_lists_the_choices(self, data):
        """The lifecycle error names the value and both allowed tables."""
        message = _error(with_value(data, ("lifecycle",), "hybrid"))

        assert message == f"{ORIGIN}: lifecycle: 'hybrid' is not one of classic, realtime"

    @pytest.mark.parametrize(
        ("path", "url", "fragment"),
        [
            (("ilert", "api_url"), "https://api.ilert.com/api", "give only scheme and host"),
            (("ilert", "api_url"), "https://api.ilert.com/?x=1", "give only scheme and host"),
            (("ilert", "api_url"), "ftp://api.ilert.com", "is not an http(s) URL"),
            (("ilert", "api_url"), "api.ilert.com", "is not an http(s) URL"),
            (
                ("connectors", "main", "api_url"),
                "https://api.statuspage.io/v1",
                "give only scheme and host",
            ),
        ],
        ids=["ilert-path", "ilert-query", "ilert-scheme", "ilert-no-scheme", "connector-path"],
    )
    def test_api_url_must_be_scheme_and_host_only(self, data, path, url, fragment):
        """An api_url with a path, a query or a non-HTTP scheme is rejected under its key."""
        message = _error(with_value(data, path, url))

        dotted = ".".join(str(step) for step in path)
        assert message.startswith(f"{ORIGIN}: {dotted}: ")
        assert fragment in message

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("ilert", "api_url"), KEY_LIKE),
            (("connectors", "main", "api_url"), f"https://u:{KEY_LIKE}@api.statuspage.io:0"),
            (("metrics", "listen"), KEY_LIKE),
            (("lifecycle",), KEY_LIKE),
        ],
        ids=["key-as-url", "key-in-user-part", "key-as-listen", "key-as-choice"],
    )
    def test_a_rejected_value_is_never_echoed_whole(self, data, path, value):
        """A key pasted where a URL or a choice goes: the error line shows at most its first
        six characters, never the user part of a URL."""
        message = _error(with_value(data, path, value))

        assert ".".join(path) in message
        pieces = [KEY_LIKE[i : i + 7] for i in range(len(KEY_LIKE) - 6)]
        assert [piece for piece in pieces if piece in message] == [], message


class TestKeySources:
    @pytest.mark.parametrize("source", ["api_key_env", "api_key_file"])
    def test_key_source_names_with_a_nul_are_config_errors(self, data, source):
        """A NUL in a key variable or file name is a ConfigError naming the key, not a crash."""
        data = _without(data, ("ilert", "api_key_env"))
        message = _error(with_value(data, ("ilert", source), "a\x00b"))
        assert message == (
            f"{ORIGIN}: ilert.{source}: holds a control character (content not shown); "
            "remove it (e.g. a NUL, tab or line break)"
        )

    def test_no_key_source_is_rejected(self, data):
        """A service table without any key source asks for exactly one."""
        message = _error(with_value(data, ("ilert",), {}))

        assert message == (
            f"{ORIGIN}: ilert: set exactly one of api_key_env, api_key_file, api_key (found none)"
        )

    def test_two_key_sources_are_rejected_without_showing_the_key(self, data):
        """Two key sources are refused, naming both sources but not the inline key."""
        data = with_value(data, ("connectors", "main", "api_key"), STATUSPAGE_CANARY)
        message = _error(data)

        assert message.startswith(f"{ORIGIN}: connectors.main: set exactly one of")
        assert "found api_key_env and api_key" in message

    @pytest.mark.parametrize(
        ("environ", "what"),
        [({}, "is not set"), ({"ILERT_API_KEY": ""}, "is set but empty")],
        ids=["absent", "empty"],
    )
    def test_unset_key_variable_is_named(self, data, environ, what):
        """An api_key_env naming an unset variable says "not set", an empty one "empty"."""
        environ = {**environ, "STATUSPAGE_API_KEY": STATUSPAGE_CANARY}
        message = _error(data, environ)

        assert message == (
            f"{ORIGIN}: ilert.api_key_env: environment variable ILERT_API_KEY {what}"
        )

    def test_blank_key_variable_is_reported_as_empty(self, data):
        """A variable holding only spaces is set, but empty of a key."""
        environ = {"ILERT_API_KEY": "   ", "STATUSPAGE_API_KEY": STATUSPAGE_CANARY}

        assert _error(data, environ) == (
            f"{ORIGIN}: ilert.api_key_env: environment variable ILERT_API_KEY is set but empty"
        )

    def test_unset_key_variable_message_shows_no_other_value(self, data):
        """The unset-variable error names only the variable, never any environment value."""
        data = with_value(data, ("connectors", "main", "api_key_env"), "MISSING_KEY")
        message = _error(data)

        assert "MISSING_KEY" in message
        assert "connectors.main.api_key_env" in message

    def test_key_variable_value_is_stripped(self, data):
        """Surrounding whitespace and a newline in the variable are not part of the key."""
        environ = {**ENV, "ILERT_API_KEY": f"  {ILERT_CANARY}\n"}

        assert parse_config(data, environ).ilert.api_key.reveal() == ILERT_CANARY

    def test_missing_key_file_names_the_path(self, data, tmp_path):
        """A key file that does not exist is reported with its full path."""
        missing = tmp_path / "no-such-key"
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), str(missing)
        )

        message = _error(data)

        assert message.startswith(f"{ORIGIN}: ilert.api_key_file: cannot read key file {missing}")

    @pytest.mark.parametrize("content", ["", "\n", "   \n\n"], ids=["empty", "newline", "blank"])
    def test_empty_key_file_is_rejected(self, data, tmp_path, content):
        """A key file holding no key is refused, naming the file."""
        key_file = _write(tmp_path / "key", content)
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), str(key_file)
        )

        message = _error(data)

        assert message == f"{ORIGIN}: ilert.api_key_file: key file {key_file} is empty"

    def test_key_file_is_read_and_stripped(self, data, tmp_path):
        """An absolute key file is read, its trailing newline dropped, its path kept as origin."""
        key_file = _write(tmp_path / "ilert.key", f"{ILERT_CANARY}\n")
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), str(key_file)
        )

        config = parse_config(data, ENV)

        assert config.ilert.api_key.reveal() == ILERT_CANARY
        assert config.ilert.key_origin == f"file {key_file}"

    def test_relative_key_file_resolves_in_credentials_directory(self, data, tmp_path):
        """A relative key file is looked up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)."""
        credentials = tmp_path / "credentials"
        credentials.mkdir()
        _write(credentials / "ilert-key", f"{ILERT_CANARY}\n")
        config_dir = tmp_path / "etc"
        config_dir.mkdir()
        _write(config_dir / "ilert-key", "the-wrong-key")
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), "ilert-key"
        )
        environ = {**ENV, "CREDENTIALS_DIRECTORY": str(credentials)}

        config = parse_config(data, environ, base_dir=config_dir)

        assert config.ilert.api_key.reveal() == ILERT_CANARY
        assert config.ilert.key_origin == f"file {credentials / 'ilert-key'}"

    def test_relative_key_file_missing_from_credentials_directory_names_that_path(
        self, data, tmp_path
    ):
        """A bare key file name missing from $CREDENTIALS_DIRECTORY names the folder only."""
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), "ilert-key"
        )
        environ = {**ENV, "CREDENTIALS_DIRECTORY": str(tmp_path)}

        message = _error(data, environ)

        expected = (
            f"ilert.api_key_file: cannot read key file (name not shown) in {tmp_path} "
            "(a relative name is read from $CREDENTIALS_DIRECTORY):"
        )
        assert expected in message
        assert "ilert-key" not in message

    def test_relative_key_file_without_credentials_directory_uses_base_dir(self, data, tmp_path):
        """Without $CREDENTIALS_DIRECTORY a relative key file is read next to the config."""
        _write(tmp_path / "ilert-key", ILERT_CANARY)
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), "ilert-key"
        )

        config = parse_config(data, ENV, base_dir=tmp_path)

        assert config.ilert.api_key.reveal() == ILERT_CANARY

    def test_key_file_that_is_not_utf8_is_a_config_error(self, data, tmp_path):
        """A key file holding bytes that are not UTF-8 raises ConfigError naming the file."""
        key_file = tmp_path / "binary.key"
        key_file.write_bytes(b"\xff\xfe" + ILERT_CANARY.encode())
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key_file"), str(key_file)
        )

        message = _error(data)

        assert message.startswith(f"{ORIGIN}: ilert.api_key_file: ")
        assert str(key_file) in message

    def test_inline_key_is_accepted(self, data):
        """An inline api_key is used as is and its origin says so."""
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key"), ILERT_CANARY
        )

        config = parse_config(data, ENV)

        assert config.ilert.api_key.reveal() == ILERT_CANARY
        assert config.ilert.key_origin == "inline"


class TestIncidentActions:
    def test_unknown_connector_is_named_with_the_defined_ones(self, data):
        """An action pointing at an undefined connector names it and lists the defined ones."""
        message = _error(with_value(data, ("incident_actions", 0, "connector"), "backup"))

        assert message == (
            f"{ORIGIN}: incident_actions[0].connector: unknown connector 'backup' (defined: main)"
        )

    def test_duplicate_action_names_are_rejected(self, data):
        """Two actions with the same name are refused at the second one."""
        data["incident_actions"].append(
            {**data["incident_actions"][0], "alert_sources": [202], "page_id": "other"}
        )

        message = _error(data)

        assert message == f"{ORIGIN}: incident_actions[1].name: 'checkout' is used twice"

    def test_previous_names_are_kept(self, data):
        """previous_names = ["old"] loads onto the action (its links move at the first pass)."""
        data["incident_actions"][0]["previous_names"] = ["checkout-old", "shop"]

        config = parse_config(data, ENV, origin=ORIGIN)

        assert config.incident_actions[0].previous_names == ("checkout-old", "shop")

    def test_a_previous_name_still_in_use_or_claimed_twice_is_refused(self, data):
        """A previous name that is a current action's name, or another action's previous
        name too, would leave its links no single owner: refused at load."""
        data["incident_actions"][0]["previous_names"] = ["old"]
        data["incident_actions"].append(
            {
                **data["incident_actions"][0],
                "name": "other",
                "alert_sources": [202],
                "page_id": "other",
                "previous_names": ["old", "checkout"],
            }
        )

        with pytest.raises(ConfigError) as raised:
            parse_config(data, ENV, origin=ORIGIN)

        assert str(raised.value).split("; test.toml: ") == [
            f"{ORIGIN}: incident_actions[1].previous_names: 'old' is also a previous name of "
            "'checkout'",
            "incident_actions[1].previous_names: 'checkout' is the name of a "
            "configured action; a previous name must be one no action has any more",
        ]

    @pytest.mark.parametrize("value", ["old", [1], ["a", "a"], [""], ["x" * 201]])
    def test_malformed_previous_names_are_refused(self, data, value):
        """Not a list of names, a name twice, empty or too long: one line naming the key."""
        data["incident_actions"][0]["previous_names"] = value

        assert _error(data).startswith(f"{ORIGIN}: incident_actions[0].previous_names")

    @pytest.mark.parametrize("value", [None, []], ids=["missing", "empty"])
    def test_no_action_is_valid_and_warns_nothing_to_mirror(self, data, value):
        """A starter config with every action commented out loads, idle, with one warning."""
        if value is None:
            del data["incident_actions"]
        else:
            data["incident_actions"] = value

        config = parse_config(data, ENV, origin=ORIGIN)

        assert config.incident_actions == ()
        assert config.warnings == (
            f"{ORIGIN}: no [[incident_actions]]: nothing to mirror; "
            "add one (`discover --write` shows examples)",
        )

    def test_actions_given_as_one_table_are_refused(self, data):
        """[incident_actions] (a table, not an array of tables) is an error naming the key."""
        data["incident_actions"] = {"name": "x"}

        message = _error(data)

        assert message == f"{ORIGIN}: incident_actions: must be [[incident_actions]] tables"

    def test_a_config_with_actions_has_no_idle_warning(self, data):
        """The nothing-to-mirror warning appears only when there is no action."""
        assert parse_config(data, ENV, origin=ORIGIN).warnings == ()

    @pytest.mark.parametrize("field", ["name", "connector", "page_id"], ids=str)
    def test_required_action_field_missing_is_named(self, data, field):
        """A required action field that is absent is reported under its dotted key."""
        message = _error(_without(data, ("incident_actions", 0, field)))

        assert message == f"{ORIGIN}: incident_actions[0].{field}: missing"

    def test_no_connectors_is_rejected(self, data):
        """An empty [connectors] table is refused."""
        message = _error(with_value(data, ("connectors",), {}))

        assert message.startswith(f"{ORIGIN}: connectors: define at least one")


class TestLoadConfig:
    def test_valid_file_loads_with_its_path(self, tmp_path):
        """A valid file loads; the config remembers its path and carries no warnings."""
        path = _write(tmp_path / "config.toml", MINIMAL_TOML, 0o644)

        config = load_config(path, ENV)

        assert config.path == path
        assert config.warnings == ()
        assert config.ilert.api_key.reveal() == ILERT_CANARY

    def test_errors_name_the_file(self, tmp_path):
        """Errors found in a loaded file start with the file's path."""
        path = _write(tmp_path / "config.toml", "pol_interval = 10\n" + MINIMAL_TOML)

        with pytest.raises(ConfigError) as caught:
            load_config(path, ENV)

        assert str(caught.value).startswith(f"{path}: pol_interval: unknown key")

    def test_invalid_toml_is_a_config_error_without_the_key(self, tmp_path):
        """A TOML syntax error names the file and does not echo the inline key."""
        text = INLINE_TOML.replace(f'"{ILERT_CANARY}"', f'"{ILERT_CANARY}', 1)
        path = _write(tmp_path / "config.toml", text)

        with pytest.raises(ConfigError) as caught:
            load_config(path, ENV)

        message = str(caught.value)
        assert message.startswith(f"{path}: invalid TOML")
        _assert_secret_free(message)

    def test_missing_file_is_a_config_error(self, tmp_path):
        """A missing config file is reported with its path."""
        path = tmp_path / "absent.toml"

        with pytest.raises(ConfigError, match="config file not found") as caught:
            load_config(path, ENV)

        assert str(path) in str(caught.value)

    def test_non_utf8_file_is_a_config_error(self, tmp_path):
        """A config file that is not UTF-8 is refused with a clear message."""
        path = tmp_path / "config.toml"
        path.write_bytes(MINIMAL_TOML.encode() + b"# \xff\n")

        with pytest.raises(ConfigError, match="not UTF-8"):
            load_config(path, ENV)

    def test_relative_key_file_is_read_next_to_the_config_file(self, tmp_path):
        """Without $CREDENTIALS_DIRECTORY a relative api_key_file is relative to the config."""
        _write(tmp_path / "ilert.key", ILERT_CANARY + "\n")
        text = MINIMAL_TOML.replace('api_key_env = "ILERT_API_KEY"', 'api_key_file = "ilert.key"')
        path = _write(tmp_path / "config.toml", text)

        config = load_config(path, {"STATUSPAGE_API_KEY": STATUSPAGE_CANARY})

        assert config.ilert.api_key.reveal() == ILERT_CANARY

    @pytest.mark.parametrize(
        ("text", "mode", "warned"),
        [
            (INLINE_TOML, 0o644, True),
            (INLINE_TOML, 0o640, True),
            (INLINE_TOML, 0o600, False),
            (MINIMAL_TOML, 0o644, False),
        ],
        ids=["inline-0644", "inline-0640", "inline-0600", "env-0644"],
    )
    def test_inline_key_in_a_readable_file_warns(self, tmp_path, text, mode, warned):
        """An inline key in a file others can read warns (without the key); 0600 does not."""
        path = _write(tmp_path / "config.toml", text, mode)

        config = load_config(path, ENV)

        if warned:
            (warning,) = config.warnings
            assert str(path) in warning
            assert "chmod 600" in warning
            _assert_secret_free(warning)
        else:
            assert config.warnings == ()


class TestSecrecy:
    @pytest.fixture(name="configs")
    def _configs(self, tmp_path) -> dict[str, Config]:
        """The same keys supplied inline, through the environment and through files."""
        ilert_file = _write(tmp_path / "ilert.key", ILERT_CANARY)
        statuspage_file = _write(tmp_path / "sp.key", STATUSPAGE_CANARY)
        files = MINIMAL_TOML.replace(
            'api_key_env = "ILERT_API_KEY"', f'api_key_file = "{ilert_file}"'
        ).replace('api_key_env = "STATUSPAGE_API_KEY"', f'api_key_file = "{statuspage_file}"')
        return {
            "inline": load_config(_write(tmp_path / "inline.toml", INLINE_TOML, 0o644), {}),
            "env": load_config(_write(tmp_path / "env.toml", MINIMAL_TOML), ENV),
            "file": load_config(_write(tmp_path / "file.toml", files), {}),
        }

    @pytest.mark.parametrize("source", ["inline", "env", "file"], ids=str)
    def test_repr_and_str_never_show_the_key(self, configs, source):
        """repr, str and f-strings of a config and its parts never contain the key."""
        config = configs[source]

        assert config.ilert.api_key.reveal() == ILERT_CANARY
        for text in (
            repr(config),
            str(config),
            f"{config}",
            repr(config.ilert),
            repr(config.connectors),
            f"{config.ilert.api_key}",
            " ".join(config.warnings),
        ):
            _assert_secret_free(text)

    def test_secret_masks_itself(self):
        """A Secret shows asterisks and compares by value."""
        secret = Secret(ILERT_CANARY)

        assert repr(secret) == str(secret) == "Secret('********')"
        assert secret == Secret(ILERT_CANARY)
        assert secret != Secret(STATUSPAGE_CANARY)
        assert secret.reveal() == ILERT_CANARY

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("zzzz",), 1),
            (("ilert", "api_kye"), 1),
            (("ilert", "api_key_env"), "ILERT_API_KEY"),
            (("ilert", "api_url"), "https://api.ilert.com/api"),
            (("poll_interval",), 1),
            (("incident_actions", 0, "connector"), "nope"),
        ],
        ids=["unknown-top", "unknown-ilert", "two-sources", "api-url", "poll", "connector"],
    )
    def test_config_errors_never_show_an_inline_key(self, path, value):
        """Whatever is wrong in a config with inline keys, the error message omits them."""
        data = minimal_settings()
        data["ilert"] = {"api_key": ILERT_CANARY}
        data["connectors"]["main"] = {"api_key": STATUSPAGE_CANARY}

        _error(with_value(data, path, value), environ={})

    def test_non_string_inline_key_is_not_echoed(self, data):
        """An inline api_key of the wrong type (a number) is refused without echoing it."""
        numeric_key = 738291046554
        data = with_value(
            _without(data, ("ilert", "api_key_env")), ("ilert", "api_key"), numeric_key
        )

        message = _error(data)

        assert message.startswith(f"{ORIGIN}: ilert.api_key: ")
        assert str(numeric_key) not in message


class TestMetricsSection:
    def test_no_metrics_table_means_metrics_off(self, data):
        """Without [metrics] there is no textfile and no listener."""
        config = parse_config(data, ENV)

        assert config.metrics == MetricsConfig()
        assert config.metrics.textfile is None
        assert config.metrics.listen_host is None
        assert config.metrics.listen_port is None

    def test_empty_metrics_table_means_metrics_off(self, data):
        """An empty [metrics] table is accepted and enables nothing."""
        assert parse_config(with_value(data, ("metrics",), {}), ENV).metrics == MetricsConfig()

    def test_textfile_and_listen_are_read(self, data):
        """textfile becomes a Path and listen is split into host and port."""
        data["metrics"] = {
            "textfile": "/var/lib/node_exporter/textfile/ilert_statuspage_sync.prom",
            "listen": "127.0.0.1:9464",
        }

        metrics = parse_config(data, ENV).metrics

        assert metrics == MetricsConfig(
            textfile=Path("/var/lib/node_exporter/textfile/ilert_statuspage_sync.prom"),
            listen_host="127.0.0.1",
            listen_port=9464,
        )

    @pytest.mark.parametrize(
        ("listen", "host", "port"),
        [
            ("127.0.0.1:1", "127.0.0.1", 1),
            ("127.8.9.10:65535", "127.8.9.10", 65535),
            ("[::1]:9464", "::1", 9464),
            ("localhost:9464", "localhost", 9464),
            (" 127.0.0.1:9464 ", "127.0.0.1", 9464),
        ],
        ids=["port-1", "any-127", "ipv6", "localhost", "spaces"],
    )
    def test_loopback_listen_addresses_are_accepted(self, data, listen, host, port):
        """Any 127.0.0.0/8 address, [::1] and localhost are accepted; IPv6 loses its brackets."""
        metrics = parse_config(with_value(data, ("metrics", "listen"), listen), ENV).metrics

        assert (metrics.listen_host, metrics.listen_port) == (host, port)
        assert metrics.textfile is None

    def test_the_textfile_folder_need_not_exist_at_load(self, data, tmp_path):
        """textfile is only checked for its form; its folder may appear later."""
        path = tmp_path / "not-yet" / "sync.prom"

        metrics = parse_config(with_value(data, ("metrics", "textfile"), str(path)), ENV).metrics

        assert metrics.textfile == path

    def test_loaded_file_keeps_the_metrics_section(self, tmp_path):
        """load_config carries [metrics] through to the Config it returns."""
        text = MINIMAL_TOML + '\n[metrics]\nlisten = "[::1]:9100"\n'
        path = _write(tmp_path / "config.toml", text)

        config = load_config(path, ENV)

        assert config.metrics == MetricsConfig(listen_host="::1", listen_port=9100)
        assert config.path == path

    def test_config_built_without_metrics_gets_the_default(self, data):
        """Config constructed by hand without metrics= still has metrics off."""
        parsed = parse_config(data, ENV)

        config = Config(
            ilert=parsed.ilert,
            connectors=parsed.connectors,
            incident_actions=parsed.incident_actions,
        )

        assert config.metrics == MetricsConfig()

    @pytest.mark.parametrize(
        ("textfile", "fragment"),
        [
            ("metrics/sync.prom", "must be an absolute path ending in .prom"),
            ("/var/lib/sync.txt", "must be an absolute path ending in .prom"),
            ("/var/lib/sync", "must be an absolute path ending in .prom"),
            ("/var/lib/.prom", "must be an absolute path ending in .prom"),
            ("", "must be a non-empty string"),
            (42, "must be a non-empty string, got the number 42"),
        ],
        ids=["relative", "wrong-suffix", "no-suffix", "only-suffix", "empty", "number"],
    )
    def test_bad_textfile_is_named(self, data, textfile, fragment):
        """A textfile that is not an absolute .prom path is reported as metrics.textfile."""
        message = _error(with_value(data, ("metrics", "textfile"), textfile))

        assert message.startswith(f"{ORIGIN}: metrics.textfile: ")
        assert fragment in message

    @pytest.mark.parametrize(
        ("listen", "fragment"),
        [
            ("0.0.0.0:9464", "loopback address"),
            ("192.0.2.10:9464", "loopback address"),
            ("[::]:9464", "loopback address"),
            ("example.com:9464", "loopback address"),
            ("::1:9464", "put an IPv6 address in brackets"),
            ("[127.0.0.1]:9464", "brackets are only for IPv6"),
            ("127.0.0.1", "is not HOST:PORT"),
            (":9464", "is not HOST:PORT"),
            ("[::1]9464", "is not HOST:PORT"),
            ("127.0.0.1:0", "port must be a number from 1 to 65535"),
            ("127.0.0.1:65536", "port must be a number from 1 to 65535"),
            ("127.0.0.1:http", "port must be a number from 1 to 65535"),
            ("127.0.0.1:-1", "port must be a number from 1 to 65535"),
            ("127.0.0.1:", "port must be a number from 1 to 65535"),
            (9464, "must be a non-empty string, got the number 9464"),
        ],
        ids=[
            "any-address",
            "public",
            "ipv6-any",
            "hostname",
            "ipv6-unbracketed",
            "ipv4-bracketed",
            "no-port",
            "no-host",
            "ipv6-no-colon",
            "port-0",
            "port-too-big",
            "port-name",
            "port-negative",
            "port-empty",
            "number",
        ],
    )
    def test_bad_listen_is_named(self, data, listen, fragment):
        """A listen value that is not a loopback HOST:PORT is reported as metrics.listen."""
        message = _error(with_value(data, ("metrics", "listen"), listen))

        assert message.startswith(f"{ORIGIN}: metrics.listen: ")
        assert fragment in message

    def test_unknown_metrics_key_gets_a_did_you_mean_hint(self, data):
        """An unknown key in [metrics] is named by its dotted name with the closest known key."""
        message = _error(with_value(data, ("metrics", "text_file"), "/x.prom"))

        assert message.startswith(f"{ORIGIN}: metrics.text_file: unknown key")
        assert "did you mean 'textfile'?" in message
        assert "known keys: listen, textfile" in message

    def test_metrics_must_be_a_table(self, data):
        """metrics = "..." instead of a [metrics] table is refused."""
        message = _error(with_value(data, ("metrics",), "127.0.0.1:9464"))

        assert message == f"{ORIGIN}: metrics: must be a table, got a string"


class TestEveryMistakeAtOnce:
    """A config with several mistakes reports each, one line apiece, in one ConfigError."""

    def test_an_empty_file_names_both_missing_tables(self):
        """An empty document lacks [ilert] and [connectors]: two lines, not one."""
        with pytest.raises(ConfigError) as caught:
            parse_config({}, ENV, origin=ORIGIN)

        assert caught.value.lines == (
            f"{ORIGIN}: ilert: missing table",
            f"{ORIGIN}: connectors: missing table",
        )

    def test_mistakes_in_every_section_are_all_reported(self, data):
        """An unknown top key, a bad interval, a bad URL, a bad action field: four lines."""
        data = with_value(data, ("pol_interval",), 30)
        data = with_value(data, ("poll_interval",), 1)
        data = with_value(data, ("connectors", "main", "api_url"), "ftp://x")
        data = with_value(data, ("incident_actions", 0, "page_id"), "a/b")

        with pytest.raises(ConfigError) as caught:
            parse_config(data, ENV, origin=ORIGIN)

        keys = [line.split(": ")[1] for line in caught.value.lines]
        assert keys == [
            "pol_interval",
            "connectors.main.api_url",
            "incident_actions[0].page_id",
            "poll_interval",
        ]
        assert all(line.startswith(f"{ORIGIN}: ") for line in caught.value.lines)
        assert "\n" not in str(caught.value)

    def test_an_action_naming_a_broken_connector_is_not_also_unknown(self, data):
        """A connector with a bad key source is one mistake; its action does not add another."""
        data = with_value(data, ("connectors", "main", "api_key_env"), "MISSING_VAR")

        with pytest.raises(ConfigError) as caught:
            parse_config(data, ENV, origin=ORIGIN)

        assert caught.value.lines == (
            f"{ORIGIN}: connectors.main.api_key_env: environment variable MISSING_VAR is not set",
        )


class TestKeylessLoading:
    """Commands that call no vendor load the config without reading any key."""

    def test_keys_false_reads_no_variable_and_no_file(self, data, tmp_path):
        """Unset variables and missing key files are no error with keys=False; keys are unread."""
        data = with_value(data, ("connectors", "main"), {"api_key_file": "missing.key"})

        config = parse_config(data, {}, origin=ORIGIN, base_dir=tmp_path, keys=False)

        assert config.keys_loaded is False
        assert config.ilert.api_key.reveal() == ""
        assert config.ilert.key_origin == "env ILERT_API_KEY (not read)"
        assert config.connectors["main"].key_origin == (
            f"file (name not shown) in {tmp_path} (not read)"
        )

    def test_keys_false_still_checks_the_key_settings_shape(self, data):
        """Two key sources in one table stay a mistake without reading either."""
        data = with_value(data, ("ilert", "api_key_file"), "ilert.key")

        with pytest.raises(ConfigError, match="set exactly one of"):
            parse_config(data, {}, origin=ORIGIN, keys=False)

    def test_no_client_is_built_from_a_keyless_config(self, data):
        """build_services refuses a config whose keys were never read."""
        from ilert_statuspage_sync.service.wiring import build_services

        config = parse_config(data, {}, origin=ORIGIN, keys=False)

        with pytest.raises(RuntimeError, match="keys=True"):
            build_services(config)


class TestDuplicateActions:
    """Two actions mirroring one source onto one page would publish every alert twice."""

    def _two(self, data: dict[str, Any], **second: Any) -> dict[str, Any]:
        action = {**data["incident_actions"][0], "name": "checkout-2", **second}
        return with_value(data, ("incident_actions",), [data["incident_actions"][0], action])

    def test_same_source_and_page_is_one_line_naming_both(self, data):
        """The error names both actions, the shared source and the page."""
        with pytest.raises(ConfigError) as caught:
            parse_config(self._two(data, alert_sources=[7, 101]), ENV, origin=ORIGIN)

        assert caught.value.lines == (
            f"{ORIGIN}: incident_actions[1] 'checkout-2' and incident_actions[0] 'checkout' "
            "both mirror alert source 101 onto page kctbh9vrtdwd, so every alert would be "
            "published twice; give each source on a page to one action",
        )

    def test_other_page_or_other_sources_are_fine(self, data):
        """Same sources on another page, or other sources on the same page: accepted."""
        parse_config(self._two(data, page_id="otherpage"), ENV, origin=ORIGIN)
        parse_config(self._two(data, alert_sources=[102]), ENV, origin=ORIGIN)

    def test_both_filtered_is_a_warning(self, data):
        """When both actions filter, they may split the alerts: a warning, not an error."""
        data = with_value(data, ("incident_actions", 0, "min_priority"), "HIGH")
        config = parse_config(self._two(data, exclude="maintenance"), ENV, origin=ORIGIN)

        assert any("both mirror alert source 101" in w for w in config.warnings)


def test_missing_relative_key_file_names_the_config_folder(data, tmp_path):
    """A relative key file name is looked up beside the config file, and the error says so."""
    (tmp_path / "config.toml").write_text(
        MINIMAL_TOML.replace('api_key_env = "ILERT_API_KEY"', 'api_key_file = "ilert.key"')
    )

    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", ENV)

    assert str(caught.value) == (
        f"{tmp_path / 'config.toml'}: ilert.api_key_file: cannot read key file (name not shown) "
        f"in {tmp_path} (a relative name is read from the config file's folder): "
        "No such file or directory"
    )


def test_both_metrics_mistakes_are_reported(data):
    """A bad textfile and a bad listen address in [metrics]: two lines."""
    data = with_value(data, ("metrics",), {"textfile": "relative.prom", "listen": "0.0.0.0:9464"})

    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV, origin=ORIGIN)

    assert [line.split(": ")[1] for line in caught.value.lines] == [
        "metrics.textfile",
        "metrics.listen",
    ]


def test_every_publish_mistake_of_an_action_is_reported(data):
    """A bad min_priority, a bad regex and a bad status override: three lines."""
    data = with_value(data, ("incident_actions", 0, "min_priority"), "URGENT")
    data = with_value(data, ("incident_actions", 0, "include"), "(")
    data = with_value(data, ("incident_actions", 0, "statuses"), {"accepted": "done"})

    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV, origin=ORIGIN)

    assert [line.split(": ")[1] for line in caught.value.lines] == [
        "incident_actions[0].min_priority",
        "incident_actions[0].include",
        "incident_actions[0].statuses.accepted",
    ]


def test_an_unsupported_database_is_reported_with_the_other_mistakes(data):
    """mysql:// is one more line among the others, naming the file and the supported ones."""
    data = with_value(data, ("database_url",), "mysql://user:pw@db/state")
    data = with_value(data, ("lifecycle",), "fast")

    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV, origin=ORIGIN)

    first, second = caught.value.lines
    assert first.startswith(f"{ORIGIN}: database_url: mysql is not supported; use sqlite")
    assert "pw" not in first
    assert second.startswith(f"{ORIGIN}: lifecycle: 'fast' is not one of")
