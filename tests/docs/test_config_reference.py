"""docs/configuration.md's reference is the loader's: every key, default and choice.

Adding a key to the loader without describing it in ``config_reference.SETTINGS``
(and regenerating the docs table) fails here, as does a default or a list
of allowed values that differs from what the loader does.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ilert_statuspage_sync import config as loader
from ilert_statuspage_sync.config import actions, bridges, loading, services, settings
from ilert_statuspage_sync.docgen.config_reference import (
    BEGIN,
    END,
    LOG_LEVELS,
    SETTINGS,
    Setting,
    markdown_table,
)
from ilert_statuspage_sync.errors import ConfigError

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
TABLES = {"ilert", "connectors", "incident_actions", "status_bridges", "metrics"}
MINIMAL: dict[str, Any] = {
    "ilert": {"api_key": "k-ilert"},
    "connectors": {"main": {"api_key": "k-statuspage"}},
    "incident_actions": [
        {"name": "a", "alert_sources": [1], "connector": "main", "page_id": "pg"},
    ],
    "status_bridges": [
        {"name": "b", "connector": "main", "page_id": "pg", "services": {"1": "c1"}},
    ],
}


def _accepted() -> set[str]:
    """Every dotted key the loader accepts, spelled as the reference spells it."""
    keys = {key for key in loading.TOP_KEYS if key not in TABLES}
    keys |= {f"ilert.{key}" for key in services.SERVICE_KEYS}
    keys |= {f"connectors.NAME.{key}" for key in services.SERVICE_KEYS}
    keys |= {f"incident_actions[].{key}" for key in actions.ACTION_KEYS}
    keys |= {f"status_bridges[].{key}" for key in bridges.BRIDGE_KEYS}
    keys |= {f"metrics.{key}" for key in settings.METRICS_KEYS}
    return keys


def test_every_key_the_loader_accepts_is_documented_and_no_other() -> None:
    """The reference lists exactly the keys the loader accepts; tables are the known ones."""
    documented = [setting.key for setting in SETTINGS]
    assert len(documented) == len(set(documented)), "a key is described twice"
    assert set(documented) == _accepted()
    unknown_tables = set(loading.TOP_KEYS) - _accepted() - TABLES
    assert not unknown_tables, f"describe the keys of the new tables {unknown_tables}"


def _place(data: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    """A copy of ``data`` with the dotted reference ``key`` set to ``value``."""
    data = copy.deepcopy(data)
    parts = key.split(".")
    table: dict[str, Any] = data
    if parts[0] == "incident_actions[]":
        table, parts = data["incident_actions"][0], parts[1:]
    elif parts[0] == "status_bridges[]":
        table, parts = data["status_bridges"][0], parts[1:]
    elif parts[:2] == ["connectors", "NAME"]:
        table, parts = data["connectors"]["main"], parts[2:]
    elif len(parts) == 2:
        table, parts = data.setdefault(parts[0], {}), parts[1:]
    table[parts[-1]] = value
    return data


def _key(setting: Setting) -> str:
    return setting.key


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.read is not None], ids=_key)
def test_documented_default_is_what_the_loader_uses(setting: Setting) -> None:
    """A config without the key gets the documented default, and the shown text says it."""
    assert setting.read is not None
    config = loader.parse_config(MINIMAL, {}, origin="minimal")
    assert setting.read(config) == setting.value
    shown = setting.default
    if shown.startswith("`") and shown.endswith("`") and shown not in ("`{}`", "`[]`"):
        parsed = tomllib.loads(f"x = {shown.strip('`')}")["x"]
        assert parsed == setting.value or (parsed == "" and setting.value is None)


def _choices(setting: Setting) -> list[str]:
    return re.findall(r'`"([^"`]+)"`', setting.allowed)


CHOICES = [
    s
    for s in SETTINGS
    if s.kind == "string" and re.fullmatch(r'`"[^"`]+"`(, `"[^"`]+"`)*', s.allowed)
]


@pytest.mark.parametrize("setting", CHOICES, ids=_key)
def test_documented_choices_are_exactly_the_accepted_ones(setting: Setting) -> None:
    """Each documented value loads, any other is refused naming the key and the same list."""
    for choice in _choices(setting):
        loader.parse_config(_place(MINIMAL, setting.key, choice), {}, origin="c")
    with pytest.raises(ConfigError) as refused:
        loader.parse_config(_place(MINIMAL, setting.key, "not-a-choice"), {}, origin="c")
    assert setting.key.split(".")[-1] in str(refused.value)
    # The loader's own list, as its refusal names it: a choice it accepts undocumented fails.
    named = str(refused.value).rsplit("is not one of ", 1)[1].split(", ")
    assert [choice.strip('"') for choice in named] == _choices(setting)


def test_log_levels_are_the_loaders() -> None:
    """The log levels shown are the loader's."""
    assert LOG_LEVELS == loading.LOG_LEVELS


def test_docs_hold_the_generated_table() -> None:
    """docs/configuration.md's reference equals the generated one (regenerate with its main)."""
    text = PAGE.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == markdown_table(), (
        "docs/configuration.md's reference is stale: run "
        "`python -m ilert_statuspage_sync.docgen.config_reference docs/configuration.md`"
    )
