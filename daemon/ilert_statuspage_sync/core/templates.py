"""The operator's wording: Jinja2 templates, checked at load, compiled once, rendered per write.

Every variable a template names is checked against ``VARIABLES`` when the
config loads (``compile_template``), so a typo is a config error with its line
instead of a failed write at 3 a.m. The sandbox that compiles and renders them
(``template_sandbox``, Jinja2) is imported only when a template is compiled: at
load for the commands that publish or check, else at its first render (today's
wording, and a config read by ``status``, ``history`` or ``db``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ilert_statuspage_sync.core.model import Alert, EventKind
from ilert_statuspage_sync.core.public_text import vendor_plain
from ilert_statuspage_sync.errors import SyncError

__all__ = [
    "BODY_KEYS",
    "DEFAULT_SOURCES",
    "TEMPLATE_KEYS",
    "VARIABLES",
    "CompiledTemplate",
    "RenderError",
    "Templates",
    "alert_url",
    "alert_vars",
    "compile_template",
    "sample_alert",
]

# Top-level variables and the attributes each one offers.
VARIABLES: dict[str, frozenset[str]] = {
    "alert": frozenset(
        {"id", "summary", "details", "priority", "status", "report_time", "source", "url"}
    ),
    "comment": frozenset({"text", "created_at"}),
    "event": frozenset(),
    "status": frozenset(),
    "action": frozenset({"name", "page_id"}),
}

# Body templates: the create, each comment, and the text sent with a status change.
BODY_KEYS: tuple[str, ...] = (
    "created",
    "comment",
    *(str(kind) for kind in EventKind if kind not in (EventKind.CREATED, EventKind.COMMENT_ADDED)),
    # group = "action": the update that adds a further alert to the shared incident.
    "also_affected",
)
TEMPLATE_KEYS: tuple[str, ...] = ("name", *BODY_KEYS)
# Today's wording: the alert's summary as the name, its details at creation,
# each comment as written; a status change carries no text.
DEFAULT_SOURCES: dict[str, str] = {
    "name": "{{ alert.summary }}",
    "created": "{{ alert.details }}",
    "comment": "{{ comment.text }}",
    "also_affected": "Also affected: {{ alert.summary }}",
    # The alert was deleted in iLert: its incident is resolved, saying why.
    "deleted": "This alert was removed from our on-call system.",
} | {key: "" for key in BODY_KEYS if key not in ("created", "comment", "also_affected", "deleted")}

# What one render may build: a template is config, but a public page has no use
# for a megabyte of text or a number Python cannot print.
MAX_RENDERED = 100_000  # characters of output, and items of a repeated str or list
MAX_INT_BITS = 10_000  # about 3,000 digits; str() refuses past 4,300


class RenderError(SyncError):
    """A template failed at run time: that item fails, the pass goes on."""


@dataclass(frozen=True)
class CompiledTemplate:
    """One template, compiled once (at load, or at its first render), with where it came from."""

    key: str
    source: str
    where: str = ""
    _template: Any = field(default=None, repr=False, compare=False)

    @property
    def is_default(self) -> bool:
        """True when this is today's wording for its key."""
        return self.source == DEFAULT_SOURCES[self.key]

    def render(self, context: Mapping[str, Any]) -> str:
        """The text, or ``RenderError`` naming the template and what went wrong."""
        if not self.source:
            return ""
        from ilert_statuspage_sync.core import template_sandbox as sandbox

        if self._template is None:  # read unchecked, or today's wording: compiled on first use
            compiled = sandbox.compile_source(self.key, self.source, self.where or self.key)
            object.__setattr__(self, "_template", compiled)
        return sandbox.render(self._template, context, self.where or self.key)


def compile_template(key: str, source: str, where: str) -> CompiledTemplate:
    """Compile ``source``; a syntax error or unknown variable is a ``ConfigError``.

    ``where`` is ``FILE: DOTTED.KEY`` so the message points at the setting.
    """
    from ilert_statuspage_sync.core.template_sandbox import compile_source

    return CompiledTemplate(key, source, where, compile_source(key, source, where))


@dataclass(frozen=True)
class Templates:
    """Every template of one incident action."""

    configured: tuple[CompiledTemplate, ...] = ()

    def get(self, key: str) -> CompiledTemplate:
        """The template for ``key`` (today's wording when not configured)."""
        for template in self.configured:
            if template.key == key:
                return template
        return _DEFAULTS[key]

    @property
    def customised(self) -> tuple[str, ...]:
        """Keys whose wording differs from today's."""
        return tuple(key for key in TEMPLATE_KEYS if not self.get(key).is_default)


def alert_url(ilert_api_url: str, alert_id: int) -> str:
    """The alert's page in iLert's web app: ``api.`` hosts serve the app on ``app.``."""
    base = ilert_api_url.rstrip("/")
    scheme, _, host = base.partition("://")
    if host.startswith("api."):
        host = "app." + host[len("api.") :]
    return f"{scheme}://{host}/alert/view?id={alert_id}"


def alert_vars(alert: Alert, ilert_api_url: str) -> dict[str, Any]:
    """The ``alert`` variable of a template."""
    return {
        "id": alert.id,
        # Vendor text as plain text: markup, zero-width tricks and size stop here.
        "summary": vendor_plain(alert.summary),
        "details": vendor_plain(alert.details),
        "priority": alert.priority,
        "status": alert.status,
        "report_time": alert.report_time.isoformat().replace("+00:00", "Z"),
        "source": {"id": alert.source_id, "name": vendor_plain(alert.source_name or "")},
        "url": alert_url(ilert_api_url, alert.id),
    }


def sample_alert(source_id: int | None) -> Alert:
    """The alert ``check`` renders every template against: internal wording on purpose."""
    return Alert(
        id=4242,
        source_id=source_id,
        source_name="Sample alert source",
        summary="db-7 (10.0.3.17): connection pool exhausted, 502 on /api/v2/orders",
        details="Postgres max_connections=200 reached on db-7; orders-api pods crash-looping.",
        status="PENDING",
        priority="HIGH",
        report_time=datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
    )


# Compiled at their first render: a test holds that each one compiles.
_DEFAULTS: dict[str, CompiledTemplate] = {
    key: CompiledTemplate(key, source, f"default templates.{key}")
    for key, source in DEFAULT_SOURCES.items()
}
