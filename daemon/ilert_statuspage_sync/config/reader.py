"""The reader every table check shares: where it is in the file, and its collected mistakes.

Every problem is reported as one line naming the file and the dotted key, so a
check raises ``reader.fail(...)`` and the caller wraps it in ``reader.attempt``
to collect it and go on reading.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ilert_statuspage_sync.errors import ConfigError

__all__ = ["NO_CONTROL", "Reader", "glimpse", "join", "kind"]

NO_CONTROL = "remove it (e.g. a NUL, tab or line break)"
T = TypeVar("T")
GLIMPSE = 6  # characters of a rejected value an error line may show


def glimpse(value: object) -> str:
    """A rejected value as an error line may show it: its first few characters and its
    length. A value in the wrong place may be a key pasted there; a whole one never shows."""
    text = str(value)
    if len(text) <= GLIMPSE:
        return repr(text)
    return f"{text[:GLIMPSE]!r}... ({len(text)} characters)"


class Reader:
    """Validation helpers that know where they are in the file."""

    def __init__(
        self,
        origin: str,
        environ: Mapping[str, str],
        base_dir: Path | None,
        *,
        keys: bool = True,
        templates: bool = True,
    ) -> None:
        self.origin = origin
        self.environ = environ
        self.base_dir = base_dir
        self.keys = keys
        self.templates = templates
        self.errors: list[str] = []
        self.warnings: list[str] = []
        # Connector names as written, so an action naming a broken connector is not
        # also reported as naming an unknown one.
        self.connector_names: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        """The error for ``key``, prefixed with the file it is in."""
        return ConfigError(
            f"{self.origin}: {key}: {message}" if key else f"{self.origin}: {message}"
        )

    def report(self, key: str, message: str) -> None:
        """Collect one mistake and go on reading."""
        self.errors.extend(self.fail(key, message).lines)

    def attempt(self, default: T, check: Callable[..., T], *args: Any) -> T:
        """``check(*args)``, or ``default`` with its mistakes collected."""
        try:
            return check(*args)
        except ConfigError as error:
            self.errors.extend(error.lines)
            return default

    def no_unknown(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        """Report every key of ``table`` not in ``allowed``, with the closest known one."""
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                known = ", ".join(sorted(allowed))
                self.report(join(prefix, key), f"unknown key{suggestion}; known keys: {known}")

    def table(self, value: object, key: str) -> Mapping[str, Any]:
        """``value`` as a TOML table, or an error naming ``key``."""
        if value is None:
            raise self.fail(key, "missing table")
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table, got {kind(value)}")
        return value

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        default: str | None = None,
        *,
        printable: bool = True,
    ) -> str:
        """A non-empty, stripped string (printable unless told otherwise)."""
        value = table.get(key, default)
        if value is None:
            raise self.fail(join(prefix, key), "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(join(prefix, key), f"must be a non-empty string, got {kind(value)}")
        if printable and not value.strip().isprintable():
            # A NUL or line break would reach a driver, a path or a log line (not echoed).
            raise self.fail(join(prefix, key), f"holds a control character; {NO_CONTROL}")
        return value.strip()

    def choice(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        allowed: tuple[str, ...],
        default: str,
    ) -> str:
        """A string that must be one of ``allowed``."""
        value = self.string(table, key, prefix, default)
        if value not in allowed:
            raise self.fail(
                join(prefix, key), f"{glimpse(value)} is not one of {', '.join(allowed)}"
            )
        return value

    def stored_string(self, table: Mapping[str, Any], key: str, prefix: str, limit: int) -> str:
        """A string the state database stores in a String(limit) column, as it is."""
        value = self.string(table, key, prefix, printable=False)  # checked here, with the limit
        if len(value) > limit or not value.isprintable():
            raise self.fail(join(prefix, key), f"must be at most {limit} printable characters")
        return value


def join(prefix: str, key: str) -> str:
    """The dotted key ``prefix.key`` (just ``key`` at the top level)."""
    return f"{prefix}.{key}" if prefix else key


def kind(value: object) -> str:
    """What a wrong value is, in words, without echoing a string (it may be a key)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
