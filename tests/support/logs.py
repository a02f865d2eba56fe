"""The process's own log, captured as the daemon writes it: JSON lines into a buffer."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from ilert_statuspage_sync.runtime.logs import configure_logging

__all__ = ["_json_log"]


@pytest.fixture(name="json_log")
def _json_log() -> Iterator[io.StringIO]:
    """The log at debug, through the real processors, as JSON into a buffer; the old
    handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("debug", stream, json=True)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
