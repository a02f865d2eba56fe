"""Network addresses in the config: vendor API URLs and the metrics listen address.

A key must not travel in clear text and the unauthenticated metrics endpoint
must not face a network, so both come down to "is this host loopback?".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ilert_statuspage_sync.config.reader import Reader, glimpse, join

__all__ = ["api_url", "is_loopback_host", "listen_address"]

_EXAMPLE = 'e.g. "127.0.0.1:9464" or "[::1]:9464"'


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, an IPv4 address in 127.0.0.0/8 and ``::1`` (no brackets)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_url(reader: Reader, table: Mapping[str, Any], prefix: str, default: str) -> str:
    """``api_url`` as scheme and host: https, or http to loopback or when explicitly allowed."""
    value = reader.string(table, "api_url", prefix, default)
    parts = urlsplit(value)
    key = join(prefix, "api_url")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise reader.fail(key, f"{glimpse(value)} is not an http(s) URL")
    if parts.path.strip("/") or parts.query:
        raise reader.fail(key, "give only scheme and host; the client adds /api or /v1")
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # never a user part
    try:
        port = parts.port  # raises ValueError for a port outside 0..65535 or not a number
    except ValueError:
        port = 0
    if port == 0:
        raise reader.fail(key, f"{shown!r}: port must be 1 to 65535")
    insecure = table.get("allow_insecure_http", False)
    if not isinstance(insecure, bool):
        raise reader.fail(join(prefix, "allow_insecure_http"), "must be true or false")
    # Plain HTTP would send the key in clear text; loopback stays allowed (simulators).
    if parts.scheme == "http" and not insecure and not is_loopback_host(parts.hostname or ""):
        raise reader.fail(
            key,
            f"{shown!r} would send the API key unencrypted; use https://, or set "
            f"allow_insecure_http = true in [{prefix}] for a trusted network",
        )
    return f"{parts.scheme}://{parts.netloc}"


def listen_address(reader: Reader, value: str) -> tuple[str, int]:
    """``metrics.listen`` as a (host, port) to bind: loopback only, IPv6 in brackets."""
    host, sep, port_text = _split_host_port(reader, value)
    if not sep or not host:
        raise reader.fail("metrics.listen", f"{glimpse(value)} is not HOST:PORT ({_EXAMPLE})")
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise reader.fail(
            "metrics.listen",
            f"{glimpse(value)}: port must be a number from 1 to 65535 ({_EXAMPLE})",
        )
    if value.startswith("[") and ":" not in host:
        raise reader.fail(
            "metrics.listen", f"{value!r}: brackets are only for IPv6 addresses ({_EXAMPLE})"
        )
    if not is_loopback_host(host):
        raise reader.fail(
            "metrics.listen",
            f"{value!r}: the metrics endpoint has no authentication, so it listens only "
            "on a loopback address (127.0.0.0/8, [::1] or localhost); "
            "scrape it locally or use textfile",
        )
    return host, int(port_text)


def _split_host_port(reader: Reader, value: str) -> tuple[str, str, str]:
    if value.startswith("["):
        return value[1:].partition("]:")
    host, sep, port_text = value.rpartition(":")
    if ":" in host:
        raise reader.fail(
            "metrics.listen", f"{value!r}: put an IPv6 address in brackets ({_EXAMPLE})"
        )
    return host, sep, port_text
