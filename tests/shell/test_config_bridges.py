"""Tests of the ``[[status_bridges]]`` tables: what loads, and one dotted line per mistake."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync.config import MAX_COMPONENTS, load_config, parse_config
from ilert_statuspage_sync.errors import ConfigError
from tests.support.settings import ENV, ORIGIN, minimal_settings

BRIDGE_TOML = """\
[ilert]
api_key_env = "ILERT_API_KEY"

[connectors.main]
api_key_env = "STATUSPAGE_API_KEY"

[[status_bridges]]
name = "platform"
connector = "main"
page_id = "kctbh9vrtdwd"
services = { "101" = "ftgks51sfs2d", "102" = "zq9ldjc1hx1c" }
incidents = true
service_status = true
maintenance_windows = true
"""


def _bridge(**changes: object) -> dict[str, Any]:
    bridge: dict[str, Any] = {
        "name": "platform",
        "connector": "main",
        "page_id": "kctbh9vrtdwd",
        "services": {"101": "ftgks51sfs2d", "102": "zq9ldjc1hx1c"},
    }
    bridge.update(changes)
    return bridge


def _settings(*bridges: dict[str, Any], actions: bool = True) -> dict[str, Any]:
    data = minimal_settings()
    if not actions:
        del data["incident_actions"]
    data["status_bridges"] = list(bridges)
    return data


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, ENV, origin=ORIGIN)
    return str(caught.value)


def _without(key: str) -> dict[str, Any]:
    bridge = _bridge()
    del bridge[key]
    return bridge


class TestLoads:
    def test_a_bridges_only_config_loads_with_the_defaults(self):
        """A config with a bridge and no [[incident_actions]] loads, not idle, with defaults."""
        config = parse_config(_settings(_bridge(), actions=False), ENV, origin=ORIGIN)

        assert config.incident_actions == ()
        assert config.warnings == ()
        (bridge,) = config.status_bridges
        assert bridge.name == "platform"
        assert bridge.connector == "main"
        assert bridge.page_id == "kctbh9vrtdwd"
        assert dict(bridge.services) == {101: "ftgks51sfs2d", 102: "zq9ldjc1hx1c"}
        assert bridge.component_of(102) == "zq9ldjc1hx1c"
        assert (bridge.incidents, bridge.service_status, bridge.maintenance_windows) == (
            True,
            True,
            True,
        )
        assert bridge.notify == "ilert"
        assert bridge.redact == ()

    def test_the_documented_toml_loads_from_a_file(self, tmp_path: Path):
        """The issue's TOML (quoted service ids, inline table) loads from a file."""
        path = tmp_path / "config.toml"
        path.write_text(BRIDGE_TOML, encoding="utf-8")
        path.chmod(0o600)

        config = load_config(path, ENV)

        assert [dict(b.services) for b in config.status_bridges] == [
            {101: "ftgks51sfs2d", 102: "zq9ldjc1hx1c"}
        ]

    def test_explicit_values_are_kept(self):
        """Booleans, notify and redact patterns as written."""
        bridge = _bridge(
            incidents=False, maintenance_windows=False, notify="never", redact=[r"\d{4}-\d{4}"]
        )

        (loaded,) = parse_config(_settings(bridge), ENV, origin=ORIGIN).status_bridges

        assert (loaded.incidents, loaded.service_status, loaded.maintenance_windows) == (
            False,
            True,
            False,
        )
        assert loaded.notify == "never"
        assert [pattern.pattern for pattern in loaded.redact] == [r"\d{4}-\d{4}"]

    @pytest.mark.parametrize("notify", ["ilert", "always", "never"])
    def test_each_notify_policy_loads(self, notify):
        """notify takes each of "ilert", "always", "never"."""
        config = parse_config(_settings(_bridge(notify=notify)), ENV, origin=ORIGIN)

        assert config.status_bridges[0].notify == notify

    def test_an_empty_bridge_list_is_still_nothing_to_mirror(self):
        """With neither actions nor bridges the config loads idle, with the one warning."""
        config = parse_config(_settings(actions=False), ENV, origin=ORIGIN)

        assert config.status_bridges == ()
        assert config.warnings == (
            f"{ORIGIN}: no [[incident_actions]]: nothing to mirror; "
            "add one (`discover --write` shows examples)",
        )

    def test_two_bridges_may_share_a_page_and_a_connector(self):
        """Bridges are told apart by name; the same page and connector are fine."""
        other = _bridge(name="edge", services={"103": "aaaaaaaaaaaa"})

        config = parse_config(_settings(_bridge(), other), ENV, origin=ORIGIN)

        assert [b.name for b in config.status_bridges] == ["platform", "edge"]

    def test_a_service_two_bridges_publish_on_one_page_is_refused(self):
        """Two bridges publishing one service's incidents on one page would publish each twice."""
        other = _bridge(name="edge", services={"101": "aaaaaaaaaaaa"})

        assert _error(_settings(_bridge(), other)) == (
            f'{ORIGIN}: status_bridges[1].services."101": service 101 is also published by '
            "bridge 'platform' on the same page; its incidents and windows would be published "
            "twice"
        )

    def test_a_service_shared_for_statuses_only_or_on_another_page_loads(self):
        """Statuses only, or another page: nothing is published twice."""
        statuses = _bridge(
            name="edge", services={"101": "aaaaaaaaaaaa"}, incidents=False,
            maintenance_windows=False,
        )  # fmt: skip
        elsewhere = _bridge(name="far", page_id="otherpage123", services={"101": "bbbbbbbbbbbb"})

        config = parse_config(_settings(_bridge(), statuses, elsewhere), ENV, origin=ORIGIN)

        assert [b.name for b in config.status_bridges] == ["platform", "edge", "far"]


class TestShape:
    def test_bridges_given_as_one_table_are_refused(self):
        """[status_bridges] (a table, not an array of tables) is one line naming the key."""
        data = minimal_settings()
        data["status_bridges"] = _bridge()

        assert _error(data) == f"{ORIGIN}: status_bridges: must be [[status_bridges]] tables"

    def test_a_bridge_that_is_not_a_table_is_refused(self):
        """status_bridges = [5] names the entry."""
        data = minimal_settings()
        data["status_bridges"] = [5]

        assert _error(data) == f"{ORIGIN}: status_bridges[0]: must be a table, got the number 5"

    def test_an_unknown_key_is_named_with_a_hint(self):
        """A misspelt key is refused as actions refuse theirs, with the closest known key."""
        message = _error(_settings(_bridge(incident=True)))

        assert message.startswith(
            f"{ORIGIN}: status_bridges[0].incident: unknown key (did you mean 'incidents'?); "
            "known keys: connector, incidents, maintenance_windows, name, notify, page_id, "
            "redact, service_status, services"
        )

    @pytest.mark.parametrize("key", ["name", "connector", "page_id", "services"])
    def test_a_required_key_missing_is_named(self, key):
        """name, connector, page_id and services are required."""
        assert _error(_settings(_without(key))) == f"{ORIGIN}: status_bridges[0].{key}: missing"

    def test_every_mistake_of_a_bridge_is_reported(self):
        """Two wrong keys of one bridge are both reported, each on its own line."""
        message = _error(_settings(_bridge(page_id="a/b", notify="loud")))

        assert message.split("; test.toml: ") == [
            f"{ORIGIN}: status_bridges[0].page_id: must be at most 64 printable characters, only "
            "letters, digits, '-' or '_' (the id in the page's API URL)",
            "status_bridges[0].notify: 'loud' is not one of ilert, always, never",
        ]


class TestNames:
    def test_a_name_used_twice_is_refused(self):
        """Two bridges of one name are refused at the second."""
        message = _error(_settings(_bridge(), _bridge(services={"103": "aaaaaaaaaaaa"})))

        assert message == f"{ORIGIN}: status_bridges[1].name: 'platform' is used twice"

    def test_a_name_of_an_incident_action_is_refused(self):
        """A bridge may not take an action's name: the audit trail and history key on it."""
        message = _error(_settings(_bridge(name="checkout")))

        assert message == (
            f"{ORIGIN}: status_bridges[0].name: 'checkout' is the name of an incident action; "
            "the audit trail and history key on names, so give the bridge its own"
        )

    def test_a_previous_name_of_an_incident_action_is_refused(self):
        """Nor a name an action had before: a pass moves what is stored under it."""
        data = _settings(_bridge(name="shop"))
        data["incident_actions"][0]["previous_names"] = ["shop"]

        assert _error(data) == (
            f"{ORIGIN}: status_bridges[0].name: 'shop' is a previous name of incident action "
            "'checkout'; the audit trail and history key on names, so give the bridge its own"
        )

    @pytest.mark.parametrize("name", ["", "x" * 201, "a\nb", 7])
    def test_a_malformed_name_is_refused(self, name):
        """Empty, too long, a control character or not a string: refused as actions' names."""
        assert _error(_settings(_bridge(name=name))).startswith(
            f"{ORIGIN}: status_bridges[0].name: "
        )


class TestPageAndConnector:
    def test_an_unknown_connector_is_named_with_the_defined_ones(self):
        """connector must be a [connectors.NAME] of the file."""
        message = _error(_settings(_bridge(connector="backup")))

        assert message == (
            f"{ORIGIN}: status_bridges[0].connector: unknown connector 'backup' (defined: main)"
        )

    @pytest.mark.parametrize("page_id", ["a/b", "x" * 65, "a.b", 5])
    def test_a_malformed_page_id_is_refused(self, page_id):
        """page_id is held to the shape actions' page ids are."""
        assert _error(_settings(_bridge(page_id=page_id))).startswith(
            f"{ORIGIN}: status_bridges[0].page_id: "
        )


class TestServices:
    @pytest.mark.parametrize("services", [["101"], "101", 101], ids=["list", "string", "number"])
    def test_services_must_be_a_table(self, services):
        """services is a table of service id = component id."""
        assert _error(_settings(_bridge(services=services))).startswith(
            f"{ORIGIN}: status_bridges[0].services: must be a table of iLert service id = "
            'component id, e.g. { "101" = "ftgks51sfs2d" }'
        )

    def test_services_must_not_be_empty(self):
        """An empty services table would publish nothing."""
        assert _error(_settings(_bridge(services={}))) == (
            f"{ORIGIN}: status_bridges[0].services: must map at least one iLert service to a "
            "component"
        )

    def test_at_most_max_components_services(self):
        """More than MAX_COMPONENTS entries are refused; exactly that many load."""
        services = {str(n): f"c{n}" for n in range(1, MAX_COMPONENTS + 1)}
        parse_config(_settings(_bridge(services=services)), ENV, origin=ORIGIN)

        services[str(MAX_COMPONENTS + 1)] = "one-more"

        assert _error(_settings(_bridge(services=services))) == (
            f"{ORIGIN}: status_bridges[0].services: must map at most {MAX_COMPONENTS} services"
        )

    @pytest.mark.parametrize(
        "key",
        ["abc", "-1", "0", "1.5", " 101", "\u0663", str(2**63), "9" * 5000],
        ids=["letters", "negative", "zero", "decimal", "space", "arabic-digit", "over", "huge"],
    )
    def test_a_key_that_is_no_service_id_is_refused(self, key):
        """Keys are ASCII digits within int64; the key is shown as a glimpse, never whole."""
        message = _error(_settings(_bridge(services={key: "ftgks51sfs2d"})))

        assert message.startswith(
            f"{ORIGIN}: status_bridges[0].services: key "
        ) and message.endswith(
            f"is not an iLert service id: ASCII digits, 1 to {2**63 - 1} (2^63-1)"
        )
        assert len(message) < 200

    def test_the_largest_service_id_loads(self):
        """2^63-1 is a service id the state database can hold."""
        config = parse_config(
            _settings(_bridge(services={str(2**63 - 1): "ftgks51sfs2d"})), ENV, origin=ORIGIN
        )

        assert list(config.status_bridges[0].services) == [2**63 - 1]

    @pytest.mark.parametrize("component", ["a/b", "", "x" * 65, 5, ["c"]])
    def test_a_malformed_component_id_is_refused_naming_the_service(self, component):
        """Each value is a component id as actions' components are."""
        message = _error(_settings(_bridge(services={"101": component})))

        assert message == (
            f'{ORIGIN}: status_bridges[0].services."101": must be a component id: at most 64 '
            "letters, digits, '-' or '_' (`discover` lists them)"
        )

    def test_a_component_mapped_twice_is_refused(self):
        """Two services on one component within a bridge would fight over its status."""
        message = _error(
            _settings(_bridge(services={"101": "ftgks51sfs2d", "102": "ftgks51sfs2d"}))
        )

        assert message == (
            f"{ORIGIN}: status_bridges[0].services.\"102\": component 'ftgks51sfs2d' is also "
            "mapped from service 101; map each component from one service"
        )

    def test_one_service_written_twice_is_refused(self):
        """ "101" and "0101" name one service: the second is refused."""
        message = _error(_settings(_bridge(services={"101": "aaaa", "0101": "bbbb"})))

        assert message == (
            f'{ORIGIN}: status_bridges[0].services."0101": names service 101 a second time'
        )

    def test_every_wrong_entry_is_reported(self):
        """A bad key and a bad component id in one table are both named, in order."""
        message = _error(_settings(_bridge(services={"x1": "c", "2": "a/b", "3": "ok"})))

        assert message.split("; test.toml: ") == [
            f"{ORIGIN}: status_bridges[0].services: key 'x1' is not an iLert service id: ASCII "
            f"digits, 1 to {2**63 - 1} (2^63-1)",
            'status_bridges[0].services."2": must be a component id: at most 64 letters, '
            "digits, '-' or '_' (`discover` lists them)",
        ]


class TestFeatures:
    @pytest.mark.parametrize("key", ["incidents", "service_status", "maintenance_windows"])
    @pytest.mark.parametrize("value", ["true", "false", 1, 0])
    def test_a_feature_must_be_a_boolean(self, key, value):
        """ "false" is not false: only TOML booleans are read."""
        message = _error(_settings(_bridge(**{key: value})))

        assert re.fullmatch(
            rf"{ORIGIN}: status_bridges\[0\]\.{key}: must be true or false, got .+", message
        )

    def test_all_three_false_is_refused(self):
        """A bridge that publishes nothing is a mistake, named at the bridge."""
        bridge = _bridge(incidents=False, service_status=False, maintenance_windows=False)

        assert _error(_settings(bridge)) == (
            f"{ORIGIN}: status_bridges[0]: incidents, service_status, maintenance_windows are "
            "all false, so the bridge would publish nothing; set one to true"
        )

    @pytest.mark.parametrize("key", ["incidents", "service_status", "maintenance_windows"])
    def test_any_one_true_is_enough(self, key):
        """One feature on and the others off loads."""
        flags = dict.fromkeys(("incidents", "service_status", "maintenance_windows"), False)
        flags[key] = True

        (bridge,) = parse_config(_settings(_bridge(**flags)), ENV, origin=ORIGIN).status_bridges

        assert getattr(bridge, key) is True

    @pytest.mark.parametrize(
        ("notify", "fragment"),
        [
            ("loud", "'loud' is not one of ilert, always, never"),
            (True, "must be a non-empty string, got a boolean"),
        ],
    )
    def test_notify_must_be_one_of_the_three(self, notify, fragment):
        """notify is one of "ilert", "always", "never"; anything else names the key."""
        assert _error(_settings(_bridge(notify=notify))) == (
            f"{ORIGIN}: status_bridges[0].notify: {fragment}"
        )


class TestRedact:
    def test_an_empty_pattern_is_refused(self):
        """An empty pattern would match everywhere: refused as actions refuse it."""
        assert _error(_settings(_bridge(redact=["ok", ""]))) == (
            f"{ORIGIN}: status_bridges[0].redact[1]: an empty pattern would match everywhere"
        )

    def test_an_invalid_pattern_is_refused(self):
        """A pattern that does not compile is named with its index."""
        assert _error(_settings(_bridge(redact=["("]))).startswith(
            f"{ORIGIN}: status_bridges[0].redact[0]: invalid regular expression '('"
        )

    def test_redact_must_be_a_list_of_strings(self):
        """redact = "x" is refused."""
        assert _error(_settings(_bridge(redact="x"))) == (
            f"{ORIGIN}: status_bridges[0].redact: must be a list of regular expressions in strings"
        )


def test_templates_load_compiled_and_render_the_bridges_words() -> None:
    """``templates`` keys load compiled; a rendered name uses the incident's fields."""
    from ilert_statuspage_sync.core.bridge_model import AffectedService, IlertIncident
    from ilert_statuspage_sync.core.bridge_templates import incident_context

    templates = {"incident_name": "Platform: {{ incident.summary }} ({{ bridge.name }})"}
    config = parse_config(_settings(_bridge(templates=templates)), ENV, origin=ORIGIN)
    (bridge,) = config.status_bridges
    incident = IlertIncident(7, "API errors", "INVESTIGATING", "", False, None, None, None,
                             (AffectedService(101, "DEGRADED"),))  # fmt: skip
    context = incident_context(bridge.name, bridge.page_id, incident)
    assert (
        bridge.templates.get("incident_name").render(context) == "Platform: API errors (platform)"
    )
    assert bridge.templates.get("incident_body").render(context) == ""


@pytest.mark.parametrize(
    ("templates", "expected"),
    [
        ({"incident_title": "x"}, "templates.incident_title: unknown template"),
        ({"incident_name": 3}, "templates.incident_name: must be a string"),
        ({"incident_name": "{{ window.summary }}"}, "unknown variable 'window'"),
        ({"maintenance_body": "{{ incident.message }}"}, "unknown variable 'incident'"),
        ({"incident_body": "{{ incident.details }}"}, "unknown variable 'incident.details'"),
        ({"maintenance_name": "{% if %}"}, "status_bridges[0].templates.maintenance_name"),
    ],
)
def test_a_wrong_template_is_one_line_naming_its_key(templates: object, expected: str) -> None:
    """An unknown key, a non-string, a name the key's template does not know or a syntax error."""
    assert expected in _error(_settings(_bridge(templates=templates)))
