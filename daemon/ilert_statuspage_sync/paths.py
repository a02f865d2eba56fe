"""Where the daemon looks by default: a module of its own so the command line's parser,
which must start in milliseconds (``--version``, ``--help``), names it without loading the
config package."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_CONFIG_PATH"]

DEFAULT_CONFIG_PATH = Path("/etc/ilert-statuspage-sync/config.toml")
