"""Logging, configured once at the edge: structlog, JSON when not on a terminal.

Third-party stdlib loggers (APScheduler, SQLAlchemy, urllib3, Alembic) go
through the same processors, so journald gets one format. ``redact`` is the
last line of defence for secrets: any value under a key that looks like a
credential is masked, and registered secret values are masked anywhere.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["configure_logging", "redact", "register_secrets"]

_SECRET_KEYS = ("authorization", "api_key", "apikey", "token", "password", "secret")
_secrets: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    """Remember key values so ``redact`` masks them wherever they turn up."""
    _secrets.update(value for value in values if len(value) >= 4)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ``********``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "********")
    return text


def redact(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask credential-like keys and known secret values."""
    for key, value in list(event_dict.items()):
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event_dict[key] = "********"
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, BaseException):
            event_dict[key] = scrub(repr(value))
    return event_dict


def configure_logging(
    level: str = "info", stream: TextIO | None = None, *, json: bool | None = None
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) in one format."""
    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "urllib3", "alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
