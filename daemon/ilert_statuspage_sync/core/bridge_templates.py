"""A status bridge's wording: Jinja2 templates of names and bodies, as incident actions have.

Four keys: ``incident_name``, ``incident_body``, ``maintenance_name`` and
``maintenance_body``; absent ones keep the default wording (the iLert object's
summary, its message or description). An incident's templates know ``incident``
and ``bridge``, a maintenance's ``window`` and ``bridge``; any other name is a
config error at load, with its line (the same sandbox as the alert templates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ilert_statuspage_sync.core.public_text import vendor_plain

if TYPE_CHECKING:  # bridge_model holds a bridge's templates: no import at run time
    from ilert_statuspage_sync.core.bridge_model import IlertIncident, MaintenanceWindow

__all__ = [
    "BRIDGE_TEMPLATE_KEYS",
    "BRIDGE_VARIABLES",
    "BridgeTemplate",
    "BridgeTemplates",
    "compile_bridge_template",
    "incident_context",
    "window_context",
]

_BRIDGE = frozenset({"name", "page_id"})
_INCIDENT = frozenset({"id", "summary", "message", "status"})
_WINDOW = frozenset({"id", "summary", "description", "start", "end"})
# The names each key's template may use.
BRIDGE_VARIABLES: dict[str, dict[str, frozenset[str]]] = {
    "incident_name": {"incident": _INCIDENT, "bridge": _BRIDGE},
    "incident_body": {"incident": _INCIDENT, "bridge": _BRIDGE},
    "maintenance_name": {"window": _WINDOW, "bridge": _BRIDGE},
    "maintenance_body": {"window": _WINDOW, "bridge": _BRIDGE},
}
BRIDGE_TEMPLATE_KEYS = tuple(BRIDGE_VARIABLES)
DEFAULT_BRIDGE_SOURCES = {
    "incident_name": "{{ incident.summary }}",
    "incident_body": "{{ incident.message }}",
    "maintenance_name": "{{ window.summary }}",
    "maintenance_body": "{{ window.description }}",
}


@dataclass(frozen=True)
class BridgeTemplate:
    """One bridge template, compiled at load (or at its first render), with its setting."""

    key: str
    source: str
    where: str = ""
    _template: Any = field(default=None, repr=False, compare=False)

    def render(self, context: Mapping[str, Any]) -> str:
        """The text, or ``RenderError`` naming the template and what went wrong."""
        if not self.source:
            return ""
        from ilert_statuspage_sync.core import template_sandbox as sandbox

        if self._template is None:  # read unchecked, or the default: compiled on first use
            compiled = sandbox.compile_source(
                self.key, self.source, self.where or self.key, BRIDGE_VARIABLES[self.key]
            )
            object.__setattr__(self, "_template", compiled)
        return sandbox.render(self._template, context, self.where or self.key)


def compile_bridge_template(key: str, source: str, where: str) -> BridgeTemplate:
    """Compile ``source`` for ``key``; a syntax error or unknown name is a ``ConfigError``."""
    from ilert_statuspage_sync.core.template_sandbox import compile_source

    return BridgeTemplate(
        key, source, where, compile_source(key, source, where, BRIDGE_VARIABLES[key])
    )


_DEFAULTS = {
    key: BridgeTemplate(key, source, f"default templates.{key}")
    for key, source in DEFAULT_BRIDGE_SOURCES.items()
}


@dataclass(frozen=True)
class BridgeTemplates:
    """Every template of one bridge; the keys not configured keep the default wording."""

    configured: tuple[BridgeTemplate, ...] = ()

    def get(self, key: str) -> BridgeTemplate:
        """The template for ``key``."""
        for template in self.configured:
            if template.key == key:
                return template
        return _DEFAULTS[key]


def incident_context(bridge: str, page_id: str, incident: IlertIncident) -> dict[str, Any]:
    """What an incident's templates see: vendor text as plain text."""
    return {
        "incident": {
            "id": incident.id,
            "summary": vendor_plain(incident.summary),
            "message": vendor_plain(incident.message),
            "status": incident.status,
        },
        "bridge": {"name": bridge, "page_id": page_id},
    }


def window_context(bridge: str, page_id: str, window: MaintenanceWindow) -> dict[str, Any]:
    """What a maintenance's templates see: vendor text as plain text, times in ISO-8601 UTC."""
    return {
        "window": {
            "id": window.id,
            "summary": vendor_plain(window.summary),
            "description": vendor_plain(window.description),
            "start": window.start.isoformat().replace("+00:00", "Z"),
            "end": window.end.isoformat().replace("+00:00", "Z"),
        },
        "bridge": {"name": bridge, "page_id": page_id},
    }
