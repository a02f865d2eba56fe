"""The operator's wording: Jinja2 templates, compiled at load, rendered per write.

Templates run in Jinja2's ``SandboxedEnvironment`` (no access to Python
internals from a config file) with ``StrictUndefined`` (a misspelt variable is
an error, never an empty string on a public page). Autoescaping is off: the
output is plain text for Statuspage, not HTML. Every variable a template names
is checked against ``VARIABLES`` when the config loads, so a typo is a config
error with its line instead of a failed write at 3 a.m.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ilert_statuspage_sync.core.model import Alert, EventKind
from ilert_statuspage_sync.errors import ConfigError, SyncError

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
_SOURCE_ATTRIBUTES = frozenset({"id", "name"})

# Body templates: the create, each comment, and the text sent with a status change.
BODY_KEYS: tuple[str, ...] = (
    "created",
    "comment",
    *(str(kind) for kind in EventKind if kind not in (EventKind.CREATED, EventKind.COMMENT_ADDED)),
)
TEMPLATE_KEYS: tuple[str, ...] = ("name", *BODY_KEYS)
# Today's wording: the alert's summary as the name, its details at creation,
# each comment as written; a status change carries no text.
DEFAULT_SOURCES: dict[str, str] = {
    "name": "{{ alert.summary }}",
    "created": "{{ alert.details }}",
    "comment": "{{ comment.text }}",
} | {key: "" for key in BODY_KEYS if key not in ("created", "comment")}

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class RenderError(SyncError):
    """A template failed at run time: that item fails, the pass goes on."""


@dataclass(frozen=True)
class CompiledTemplate:
    """One template, compiled once, with where it came from for messages."""

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
        try:
            return str(self._template.render(**context))
        except TemplateError as error:
            raise RenderError(f"template {self.where or self.key}: {error}") from None
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as error:
            raise RenderError(
                f"template {self.where or self.key}: {type(error).__name__}: {error}"
            ) from None


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


def compile_template(key: str, source: str, where: str) -> CompiledTemplate:
    """Compile ``source``; a syntax error or unknown variable is a ``ConfigError``.

    ``where`` is ``FILE: DOTTED.KEY`` so the message points at the setting.
    """
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as error:
        raise ConfigError(f"{where}: template line {error.lineno}: {error.message}") from None
    for node in tree.find_all(nodes.Name):
        if node.ctx != "load" or _bound(tree, node.name):
            continue
        if node.name not in VARIABLES:
            known = ", ".join(VARIABLES)
            raise ConfigError(
                f"{where}: template line {node.lineno}: "
                f"unknown variable {node.name!r} (known: {known})"
            )
        if node.name == "comment" and key != "comment":
            raise ConfigError(
                f"{where}: template line {node.lineno}: "
                "'comment' is only known in templates.comment"
            )
    for getattr_node in tree.find_all(nodes.Getattr):
        problem = _unknown_attribute(getattr_node)
        if problem:
            raise ConfigError(f"{where}: template line {getattr_node.lineno}: {problem}")
    return CompiledTemplate(key, source, where, _ENV.from_string(source))


def _bound(tree: nodes.Template, name: str) -> bool:
    """A name the template binds itself ({% set %}, {% for %}) is not a context variable."""
    return any(target.name == name for target in tree.find_all(nodes.Name) if target.ctx == "store")


def _unknown_attribute(node: nodes.Getattr) -> str | None:
    base = node.node
    if isinstance(base, nodes.Name) and VARIABLES.get(base.name):
        # event and status are plain strings: their string methods stay usable.
        allowed = VARIABLES[base.name]
        if node.attr not in allowed:
            offered = ", ".join(sorted(allowed))
            return f"unknown variable '{base.name}.{node.attr}' ({base.name} offers: {offered})"
    if (
        isinstance(base, nodes.Getattr)
        and isinstance(base.node, nodes.Name)
        and base.node.name == "alert"
        and base.attr == "source"
        and node.attr not in _SOURCE_ATTRIBUTES
    ):
        return f"unknown variable 'alert.source.{node.attr}' (alert.source offers: id, name)"
    return None


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
        "summary": alert.summary,
        "details": alert.details,
        "priority": alert.priority,
        "status": alert.status,
        "report_time": alert.report_time.isoformat().replace("+00:00", "Z"),
        "source": {"id": alert.source_id, "name": alert.source_name or ""},
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


_DEFAULTS: dict[str, CompiledTemplate] = {
    key: compile_template(key, source, f"default templates.{key}")
    for key, source in DEFAULT_SOURCES.items()
}
