"""TOML text for the config files this project writes: ``core.toml_text``'s, kept here for
the commands that import it from the config layer."""

from __future__ import annotations

from ilert_statuspage_sync.core.toml_text import toml_key, toml_string

__all__ = ["toml_key", "toml_string"]
