"""Logging, configured once at the edge: structlog, JSON when not on a terminal.

Third-party stdlib loggers (SQLAlchemy, urllib3, Alembic) go
through the same processors, so journald gets one format. ``redact`` is the
last line of defence for secrets: any value under a key that looks like a
credential is masked, and every value, nested ones too, goes through
``secrets.scrub`` (any 8-character piece of a registered key is masked); the
rendered line goes through it once more, so no value escapes as a repr.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

from ilert_statuspage_sync.runtime.console import ConsoleLine, label
from ilert_statuspage_sync.runtime.secrets import MASK, scrub

__all__ = ["configure_logging", "redact", "say", "wants_colour"]

_SECRET_KEYS = ("authorization", "api_key", "apikey", "token", "password", "secret")


def redact(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask credential-like keys and known secret values."""
    for key, value in list(event_dict.items()):
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event_dict[key] = MASK
        elif key != "exc_info" and not key.startswith("_"):  # structlog's own, rendered later
            event_dict[key] = _scrubbed(value)
    return event_dict


def _scrubbed(value: Any) -> Any:
    """``value`` with its text scrubbed, inside lists, tuples and mappings too."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, BaseException):
        return scrub(repr(value))
    if isinstance(value, Mapping):
        return {scrub(str(k)): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrubbed(item) for item in value)
    return value


def _scrubbing(renderer: Any) -> Any:
    """``renderer`` whose finished line is scrubbed again (a value rendered by repr)."""

    def render(logger: object, method: str, event_dict: MutableMapping[str, Any]) -> Any:
        return scrub(renderer(logger, method, event_dict))

    return render


def say(
    level: str,
    event: str,
    message: str,
    stream: TextIO | None = None,
    **fields: Any,
) -> None:
    """One line for a person on stderr: ``error: ...`` on a terminal, else a JSON log line.

    ``info`` lines have no prefix on a terminal; the level reads as a log line's does
    (``console.label``, coloured only where ``wants_colour`` allows).

    Errors, usage errors and warnings of the CLI go through here, so a
    journal read with ``journalctl -o cat | jq .`` holds only JSON: the line
    has the log's own keys (``timestamp``, ``level``, ``event``) and
    ``message``. The message is scrubbed of keys like every log line.
    """
    stream = stream or sys.stderr
    if stream is None:  # started with stderr closed (2>&-): nowhere to say it
        return
    text = scrub(message)
    if _is_terminal(stream):
        stream.write(f"{label(level, colour=wants_colour(stream))}{text}\n")
    else:
        stream.write(jsonlib.dumps(_json_line(level, event, text, fields)) + "\n")
    stream.flush()


def _json_line(level: str, event: str, text: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``say``'s line as the log writes its own: fields, then event, level, timestamp."""
    return {
        "message": text,
        **{k: _scrubbed(v) for k, v in fields.items()},
        "event": event,
        "level": level,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: the safe choice is JSON
        return False


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with NO_COLOR (non-empty) or TERM=dumb."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def configure_logging(
    level: str = "info", stream: TextIO | None = None, *, json: bool | None = None
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) in one format."""
    import structlog  # here, not at import: `say` serves commands that never log

    stream = stream or sys.stderr
    use_json = (not stream.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(level, stream, _formatter(shared, stream, use_json=use_json))


def _formatter(shared: list[Any], stream: TextIO, *, use_json: bool) -> logging.Formatter:
    """One formatter for structlog's and the stdlib's lines: JSON, or a console line."""
    import structlog

    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if use_json
        else ConsoleLine(colour=wants_colour(stream))
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            _scrubbing(renderer),
        ],
    )


def _route_stdlib(level: str, stream: TextIO, formatter: logging.Formatter) -> None:
    """The root logger writes to ``stream`` alone; chatty libraries only from WARNING."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # a library's warning becomes a log line, JSON like the rest
    for noisy in ("urllib3", "alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
