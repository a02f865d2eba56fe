"""Read an incident action's "what the public sees" keys into a ``PublishPolicy``.

Everything is checked at load, so a mistake stops the daemon with one line
naming the file and the dotted key instead of reaching the public page:
regexes compile, statuses are realtime statuses or "unchanged", templates
compile and name only known variables (with the template's line).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ilert_statuspage_sync.config.reader import glimpse
from ilert_statuspage_sync.core.policy import (
    COMMENT_MODES,
    NOTIFY_KINDS,
    OVERRIDE_STATUSES,
    PRIORITIES,
    STATUS_EVENTS,
    PublishPolicy,
)
from ilert_statuspage_sync.core.public_text import normalised
from ilert_statuspage_sync.core.templates import (
    TEMPLATE_KEYS,
    CompiledTemplate,
    Templates,
    compile_template,
)
from ilert_statuspage_sync.errors import ConfigError

__all__ = ["MAX_DELAY_SECONDS", "PUBLISH_KEYS", "parse_publish_policy", "parse_redact"]

T = TypeVar("T")

# A week: longer than any flap worth guarding against, and far inside datetime's range.
MAX_DELAY_SECONDS = 7 * 24 * 3600

PUBLISH_KEYS = frozenset(
    {
        "min_priority",
        "include",
        "exclude",
        "publish_after",
        "notify",
        "comments",
        "comment_marker",
        "redact",
        "statuses",
        "templates",
    }
)


def parse_publish_policy(
    table: Mapping[str, Any], prefix: str, origin: str, compile_templates: bool = True
) -> PublishPolicy:
    """The policy of one ``[[incident_actions]]`` table; absent keys keep today's behaviour.

    Every key is checked; one ``ConfigError`` carries a line per mistaken key.
    ``compile_templates=False``: templates are checked for shape only (no Jinja2).
    """
    reader = _PolicyReader(table, prefix, origin, compile_templates)
    default = PublishPolicy()
    errors: list[str] = []

    def take(fallback: T, check: Callable[..., T], *args: Any) -> T:
        try:
            return check(*args)
        except ConfigError as error:
            errors.extend(error.lines)
            return fallback

    policy = PublishPolicy(
        min_priority=take(default.min_priority, reader.choice, "min_priority", PRIORITIES, "LOW"),
        include=take(None, reader.regex, "include"),
        exclude=take(None, reader.regex, "exclude"),
        publish_after=take(0.0, reader.seconds, "publish_after"),
        notify=take(default.notify, reader.notify),
        comments=take(default.comments, reader.choice, "comments", COMMENT_MODES, "all"),
        comment_marker=take(default.comment_marker, reader.marker),
        redact=take((), reader.redact),
        status_overrides=take((), reader.statuses),
        templates=take(default.templates, reader.templates),
    )
    if errors:
        raise ConfigError(*errors)
    return policy


def parse_redact(table: Mapping[str, Any], prefix: str, origin: str) -> tuple[re.Pattern[str], ...]:
    """A table's ``redact`` list, compiled: as incident actions read it, for status bridges."""
    return _PolicyReader(table, prefix, origin, compile_templates=False).redact()


class _PolicyReader:
    def __init__(
        self, table: Mapping[str, Any], prefix: str, origin: str, compile_templates: bool
    ) -> None:
        self.table = table
        self.prefix = prefix
        self.origin = origin
        self.compile_templates = compile_templates

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {self.prefix}.{key}: {message}")

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.table.get(key, default)
        if value not in allowed:
            options = ", ".join(f'"{option}"' for option in allowed)
            raise self.fail(key, f"{glimpse(value)} is not one of {options}")
        return str(value)

    def regex(self, key: str) -> re.Pattern[str] | None:
        value = self.table.get(key, "")
        if not isinstance(value, str):
            raise self.fail(key, "must be a regular expression in a string")
        return self._compile(key, value) if value else None

    def _compile(self, key: str, value: str) -> re.Pattern[str]:
        try:
            return re.compile(value)
        except re.error as error:
            raise self.fail(key, f"invalid regular expression {value!r}: {error}") from None

    def seconds(self, key: str) -> float:
        value = self.table.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number of seconds from 0 to {MAX_DELAY_SECONDS}")
        # NaN compares false with everything, so the range test alone would let it through.
        if not math.isfinite(value) or not 0 <= value <= MAX_DELAY_SECONDS:
            raise self.fail(key, f"must be a number of seconds from 0 to {MAX_DELAY_SECONDS}")
        return float(value)

    def notify(self) -> frozenset[str]:
        value = self.table.get("notify", list(NOTIFY_KINDS))
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail("notify", f"must be a list of write kinds ({', '.join(NOTIFY_KINDS)})")
        unknown = [item for item in value if item not in NOTIFY_KINDS]
        if unknown:
            raise self.fail(
                "notify", f"unknown write kind {unknown[0]!r}; known: {', '.join(NOTIFY_KINDS)}"
            )
        return frozenset(value)

    def marker(self) -> str:
        value = self.table.get("comment_marker", "#public")
        # Compared as a reader sees it: a marker of zero-width characters would be no marker.
        if not isinstance(value, str) or not normalised(value).strip():
            raise self.fail("comment_marker", "must be a non-empty string of visible characters")
        return value.strip()

    def redact(self) -> tuple[re.Pattern[str], ...]:
        value = self.table.get("redact", [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail("redact", "must be a list of regular expressions in strings")
        patterns = []
        for index, item in enumerate(value):
            if not item:
                raise self.fail(f"redact[{index}]", "an empty pattern would match everywhere")
            patterns.append(self._compile(f"redact[{index}]", item))
        return tuple(patterns)

    def statuses(self) -> tuple[tuple[str, str], ...]:
        value = self.table.get("statuses", {})
        if not isinstance(value, Mapping):
            raise self.fail("statuses", 'must be a table, e.g. { accepted = "monitoring" }')
        pairs = []
        for event, status in value.items():
            if event not in STATUS_EVENTS:
                raise self.fail(
                    f"statuses.{event}", f"unknown event; known: {', '.join(STATUS_EVENTS)}"
                )
            if status not in OVERRIDE_STATUSES:
                options = ", ".join(f'"{option}"' for option in OVERRIDE_STATUSES)
                raise self.fail(
                    f"statuses.{event}",
                    f'{status!r} is not a realtime incident status or "unchanged" ({options})',
                )
            pairs.append((str(event), str(status)))
        return tuple(sorted(pairs))

    def templates(self) -> Templates:
        value = self.table.get("templates", {})
        if not isinstance(value, Mapping):
            raise self.fail("templates", "must be a table ([incident_actions.templates])")
        compiled = []
        for key, source in value.items():
            if key not in TEMPLATE_KEYS:
                raise self.fail(
                    f"templates.{key}", f"unknown template; known: {', '.join(TEMPLATE_KEYS)}"
                )
            if not isinstance(source, str):
                raise self.fail(f"templates.{key}", "must be a string (Jinja2 template)")
            where = f"{self.origin}: {self.prefix}.templates.{key}"
            # Commands that publish nothing leave it to its first render: no Jinja2 loaded.
            make = compile_template if self.compile_templates else CompiledTemplate
            compiled.append(make(key, source, where))
        return Templates(tuple(compiled))
