"""``discover``'s pure parts: payload parsing and tables (``inventory``), the starter config."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from ilert_statuspage_sync.commands.inventory import (
    AlertSource,
    Component,
    Inventory,
    Page,
    parse_alert_source,
    parse_component,
    parse_components,
    render_json,
    render_tables,
)
from ilert_statuspage_sync.commands.starter_config import starter_config
from ilert_statuspage_sync.config import Config, parse_config
from ilert_statuspage_sync.config.toml_text import toml_string
from ilert_statuspage_sync.errors import PayloadError

KEY = "canary-key-5ec4e7"
ENV = {"ILERT_API_KEY": KEY, "STATUSPAGE_API_KEY": KEY, "SP2": KEY}


def _config(**ilert: Any) -> Config:
    data = {
        "ilert": {"api_key_env": "ILERT_API_KEY", **ilert},
        "connectors": {"main": {"api_key_env": "STATUSPAGE_API_KEY"}},
    }
    return parse_config(data, ENV, origin="test")


def _inventory(*pages: Page) -> Inventory:
    sources = (
        AlertSource(12, "Checkout", 1, "Web on-call", "PENDING"),
        AlertSource(34, "Batch", 2, "Ops", "ALL_RESOLVED"),
    )
    connectors = (("main", "https://api.statuspage.io", "env STATUSPAGE_API_KEY"),)
    return Inventory("https://api.ilert.com", "env ILERT_API_KEY", sources, connectors, pages)


ACME = Page(
    "kctbh9vrtdwd",
    "Acme Status",
    "main",
    (
        Component("grp1", "Platform", "operational", is_group=True),
        Component("cmp1", "API", "major_outage", group_id="grp1", group_name="Platform"),
        Component("cmp2", "Website", "operational"),
    ),
)


def _uncommented(text: str, block: int) -> str:
    """The starter with the ``block``-th example's lines uncommented."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line == "# [[incident_actions]]"]
    index = starts[block]
    while index < len(lines) and lines[index].startswith("# ") and lines[index][2] != "#":
        lines[index] = lines[index][2:]
        index += 1
    return "\n".join(lines)


@pytest.mark.parametrize(
    "value",
    ['say "hi"', "back\\slash", "line\nbreak", "tab\there", "nul\x00del\x7f", "Ünïcødé 🚦", ""],
)
def test_toml_string_round_trips(value):
    """Any vendor name survives as a TOML basic string, control characters included."""
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_starter_keys_equal_the_loaders_defaults():
    """Every key the starter writes holds exactly the loader's default."""
    written = tomllib.loads(starter_config(_config(), _inventory(ACME)))
    loaded = parse_config(written, ENV, origin="starter")
    minimal = parse_config(
        {
            "ilert": {"api_key_env": "ILERT_API_KEY"},
            "connectors": {"main": {"api_key_env": "STATUSPAGE_API_KEY"}},
        },
        ENV,
        origin="starter",
    )
    assert loaded == minimal
    assert set(written) == {
        "poll_interval",
        "database_url",
        "lifecycle",
        "log_level",
        "retention_days",
        "ilert",
        "connectors",
    }
    assert set(written["ilert"]) == {"api_url", "api_key_env", "requests_per_minute"}


def test_each_example_uncommented_is_a_valid_action():
    """Uncommenting one page's example gives a config with exactly that action."""
    other = Page("otherpage001", "Acme Status", "main")  # same name: the action names differ
    text = starter_config(_config(), _inventory(ACME, other))
    actions = []
    for block in (0, 1):
        config = parse_config(tomllib.loads(_uncommented(text, block)), ENV, origin="starter")
        (action,) = config.incident_actions
        actions.append((action.name, action.page_id, action.alert_sources, action.connector))
    assert actions == [
        ("acme-status", "kctbh9vrtdwd", (12,), "main"),
        ("acme-status-2", "otherpage001", (12,), "main"),
    ]
    assert '# # components = ["cmp1", "cmp2"]' in text
    assert "#   cmp1: API, Platform, major_outage" in text
    assert "#   grp1" not in text  # a group is not a component an incident affects
    assert "#   12: Checkout, Web on-call, PENDING" in text


def test_hostile_names_stay_inside_their_comments():
    """A page name with a newline or quotes cannot inject TOML into the starter."""
    page = Page("evilpage0001", 'Evil"\n[connectors.x]\napi_key = "k"', "main")
    text = starter_config(_config(), _inventory(page))
    data = tomllib.loads(text)
    assert set(data["connectors"]) == {"main"}
    config = parse_config(tomllib.loads(_uncommented(text, 0)), ENV, origin="starter")
    assert config.incident_actions[0].name == "evil-connectors-x-api-key-k"


INJECTION = "abc\npoll_interval = 5\n#"


def test_hostile_ids_stay_inside_their_comments():
    """Page, component and connector ids with newlines cannot add live TOML lines."""
    page = Page(INJECTION, "Evil", "main", (Component(INJECTION, "API", "operational"),))
    text = starter_config(_config(), _inventory(page))
    assert "\npoll_interval = 5" not in text
    assert tomllib.loads(text) == tomllib.loads(starter_config(_config(), _inventory()))


def test_lone_surrogates_write_a_utf8_starter_and_ascii_json():
    """A lone surrogate in a vendor id or name still gives UTF-8 text and valid JSON."""
    page = Page("p\ud800", "Bad \udfff name", "main", (Component("c\ud800", "x\ud800", ""),))
    starter_config(_config(), _inventory(page)).encode("utf-8")
    document = render_json(_inventory(page))
    document.encode("ascii")
    assert json.loads(document)["statuspage"]["pages"][0]["name"] == "Bad \udfff name"
    render_tables(_inventory(page)).encode("utf-8")


def test_table_titles_print_page_ids_on_one_line():
    """A page id with a newline stays inside its "Components of page" title."""
    text = render_tables(_inventory(Page("p1\nfake line", "Name", "main")))
    assert "Components of page p1 fake line (Name): 0" in text


@pytest.mark.parametrize(
    ("origin", "credentials", "expected"),
    [
        ("env MY_KEY", None, {"api_key_env": "MY_KEY"}),
        ("file /etc/isync/ilert.key", None, {"api_key_file": "/etc/isync/ilert.key"}),
        ("file /run/credentials/x/ilert", "/run/credentials/x", {"api_key_file": "ilert"}),
        ("inline", None, {"api_key_env": "ILERT_API_KEY"}),
    ],
    ids=["env", "file", "credential", "inline"],
)
def test_key_lines_name_the_origin_never_the_key(origin, credentials, expected):
    """The starter names where the key comes from; an inline key is never copied."""
    config = parse_config(
        {"ilert": {"api_key": KEY}, "connectors": {"main": {"api_key": KEY}}}, {}, origin="t"
    )
    ilert = type(config.ilert)(config.ilert.api_url, config.ilert.api_key, origin)
    config = Config(**{**config.__dict__, "ilert": ilert})
    text = starter_config(config, _inventory(ACME), credentials)
    assert KEY not in text
    written = tomllib.loads(text)["ilert"]
    assert {k: v for k, v in written.items() if k.startswith("api_key")} == expected


def test_tables_are_one_line_per_row_with_printable_cells():
    """Control characters and long names cannot break a row; an empty page says so."""
    long_name = "x" * 80
    page = Page("p1", "Status\x1b[31m\nred", "main", (Component("c1", long_name, ""),))
    empty = Page("p2", "Empty", "main")
    text = render_tables(_inventory(page, empty))
    assert "\x1b" not in text
    assert "Components of page p1 (Status [31m red): 1" in text
    assert f"c1  {'x' * 59}\u2026  -      -" in text
    assert text.split("Components of page p2 (Empty): 0\n")[1] == "  (none)\n"


def test_payloads_parse_leniently_but_need_ids():
    """Missing names read as empty; a missing or wrong id is a PayloadError."""
    assert parse_alert_source({"id": 5}) == AlertSource(5, "", None, "", "")
    with pytest.raises(PayloadError, match="integer 'id'"):
        parse_alert_source({"id": "5", "name": "x"})
    with pytest.raises(PayloadError, match="string 'id'"):
        parse_component({"id": 5})
    members = parse_components(
        [
            {"id": "g", "name": "Group", "group": True, "status": "operational"},
            {"id": "c", "name": "API", "group_id": "g", "status": "partial_outage"},
            {"id": "d", "name": "Orphan", "group_id": "gone", "status": "operational"},
        ]
    )
    assert [(c.id, c.is_group, c.group_name) for c in members] == [
        ("g", True, None),
        ("c", False, "Group"),
        ("d", False, "gone"),
    ]
