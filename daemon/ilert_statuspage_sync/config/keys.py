"""API key sources: ``api_key`` inline, ``api_key_env`` or ``api_key_file``.

A key is read here, once, into a ``Secret``. No message ever echoes a value that
may be a key: a variable's name is shown only when it looks like one, a file's
path only when the setting holds a "/". With ``keys=False`` the sources are
checked for shape only and nothing is read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ilert_statuspage_sync.config.reader import NO_CONTROL, Reader, join
from ilert_statuspage_sync.runtime.secrets import Secret

__all__ = ["KEY_SOURCES", "UNREAD", "header_safe", "read_key"]

KEY_SOURCES = {"api_key_env", "api_key_file", "api_key"}
# Only a value shaped like this is echoed back from api_key_env: anything else may be a key.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# Stands in for a key that was not read (``keys=False``); never sent anywhere.
UNREAD = ""


def read_key(reader: Reader, table: Mapping[str, Any], prefix: str) -> tuple[Secret, str]:
    """The key of a service table and where it came from (for ``check``'s report)."""
    source = _one_source(reader, table, prefix)
    dotted = join(prefix, source)
    name = table[source].strip()
    if source == "api_key":
        return Secret(_one_line(reader, name, dotted, "the key")), "inline"
    if source == "api_key_env":
        return _from_env(reader, name, dotted)
    return _from_file(reader, name, dotted)


def _one_source(reader: Reader, table: Mapping[str, Any], prefix: str) -> str:
    """The one key source the table sets, checked to be a printable, non-empty string."""
    given = [key for key in ("api_key_env", "api_key_file", "api_key") if key in table]
    if len(given) != 1:
        what = "none" if not given else " and ".join(given)
        raise reader.fail(
            prefix, f"set exactly one of api_key_env, api_key_file, api_key (found {what})"
        )
    source = given[0]
    dotted = join(prefix, source)
    if not isinstance(table[source], str) or not table[source].strip():
        # Never echo the value: it may be a real key written without quotes.
        raise reader.fail(dotted, "must be a non-empty string (in quotes)")
    if source != "api_key" and not table[source].strip().isprintable():
        # A NUL would reach open() or the environment as an internal error.
        raise reader.fail(dotted, f"holds a control character (content not shown); {NO_CONTROL}")
    return source


def _from_env(reader: Reader, name: str, dotted: str) -> tuple[Secret, str]:
    # A key pasted here by mistake must not be echoed: name the variable
    # only when it looks like one.
    what = name if _ENV_NAME.fullmatch(name) else "(name not shown: not A-Z, 0-9, _)"
    if not reader.keys:
        return Secret(UNREAD), f"env {what} (not read)"
    if name not in reader.environ:
        raise reader.fail(dotted, f"environment variable {what} is not set")
    value = reader.environ[name].strip()
    if not value:
        raise reader.fail(dotted, f"environment variable {what} is set but empty")
    return Secret(_one_line(reader, value, dotted, "the variable")), f"env {name}"


def _from_file(reader: Reader, name: str, dotted: str) -> tuple[Secret, str]:
    path, searched = _key_path(reader, name)
    # Show the path only when the setting holds a "/": a bare name may be a pasted key.
    shown = str(path) if "/" in name else f"(name not shown) in {path.parent}"
    if not reader.keys:
        return Secret(UNREAD), f"file {shown} (not read)"
    if searched:
        shown = f"{shown} ({searched})"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise reader.fail(dotted, f"key file {shown} is not UTF-8 text") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise reader.fail(dotted, f"cannot read key file {shown}: {reason}") from None
    if not value:
        raise reader.fail(dotted, f"key file {shown} is empty")
    return Secret(_one_line(reader, value, dotted, f"key file {shown}")), f"file {path}"


def _one_line(reader: Reader, value: str, dotted: str, what: str) -> str:
    """The key itself; a second line (a comment, a second key) is an error never echoed."""
    lines = [line for line in value.splitlines() if line.strip()]
    if len(lines) > 1:
        raise reader.fail(
            dotted,
            f"{what} holds {len(lines)} non-empty lines; it must hold only the key, "
            "on one line (content not shown)",
        )
    if not value.isprintable():
        raise reader.fail(
            dotted, f"{what} holds a control character (content not shown); keep only the key"
        )
    return value


def header_safe(reader: Reader, key: Secret, table: Mapping[str, Any], prefix: str) -> None:
    """A key travels in an HTTP header, which is latin-1: refuse others at load, unshown."""
    try:
        key.reveal().encode("latin-1")
    except UnicodeEncodeError:
        source = next((k for k in sorted(KEY_SOURCES) if k in table), "api_key")
        raise reader.fail(
            join(prefix, source),
            "the API key holds a character HTTP headers cannot carry (not latin-1); "
            "copy the key again from the vendor's console",
        ) from None


def _key_path(reader: Reader, name: str) -> tuple[Path, str]:
    """Where a key file is, and (for a relative name) which folder was searched and why."""
    path = Path(name)
    if path.is_absolute():
        return path, ""
    # systemd's LoadCredential= puts credentials in $CREDENTIALS_DIRECTORY.
    credentials = reader.environ.get("CREDENTIALS_DIRECTORY")
    if credentials:
        return Path(credentials) / path, "a relative name is read from $CREDENTIALS_DIRECTORY"
    return (reader.base_dir or Path.cwd()).absolute() / path, (
        "a relative name is read from the config file's folder"
    )
