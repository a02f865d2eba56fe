"""The validated configuration as values, and the limits and defaults it is checked against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ilert_statuspage_sync.core.bridge_model import StatusBridge
from ilert_statuspage_sync.core.components import DEFAULT_COMPONENT_STATUS
from ilert_statuspage_sync.core.lifecycle import DEFAULT_LIFECYCLE
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.paths import DEFAULT_CONFIG_PATH
from ilert_statuspage_sync.runtime.secrets import Secret

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_ILERT_RATE",
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_STATUSPAGE_RATE",
    "MAX_COMPONENTS",
    "MAX_POLL_INTERVAL",
    "MAX_REQUESTS_PER_MINUTE",
    "MAX_RETENTION_DAYS",
    "MIN_POLL_INTERVAL",
    "NOTHING_TO_MIRROR",
    "Config",
    "ConnectorConfig",
    "IlertConfig",
    "IncidentAction",
    "MetricsConfig",
    "StatusBridge",
]

MIN_POLL_INTERVAL = 5.0
NOTHING_TO_MIRROR = (
    "no [[incident_actions]]: nothing to mirror; add one (`discover --write` shows examples)"
)
MAX_POLL_INTERVAL = 86_400.0
# Closed links and audit rows older than this many days are pruned; 0 keeps everything.
DEFAULT_RETENTION_DAYS = 400
MAX_RETENTION_DAYS = 36_500  # a century: far past any need, far from a date overflow
# Far above any vendor limit (60 to 120 a minute), far below what overflows a pacer's float.
MAX_REQUESTS_PER_MINUTE = 100_000
# The vendors' own limits per API key: the budgets run at them (``clients.http.RateBudget``).
DEFAULT_ILERT_RATE = 120  # iLert: 120 a minute
DEFAULT_STATUSPAGE_RATE = 60  # Statuspage: 60 per rolling 60 s
MAX_COMPONENTS = 100  # per incident action; a page lists at most a few hundred


@dataclass(frozen=True)
class IlertConfig:
    """Where iLert is and how to authenticate."""

    api_url: str
    api_key: Secret
    key_origin: str
    # iLert allows 120 requests per minute per key; the budget runs at that limit
    # (``clients.http.RateBudget``: exact window accounting, a 1 s margin).
    requests_per_minute: int = DEFAULT_ILERT_RATE


@dataclass(frozen=True)
class ConnectorConfig:
    """One Statuspage account (API key)."""

    name: str
    api_url: str
    api_key: Secret
    key_origin: str
    # Statuspage allows 1 request/s on a 60 s rolling window per key: 60 a minute.
    requests_per_minute: int = DEFAULT_STATUSPAGE_RATE


@dataclass(frozen=True)
class IncidentAction:
    """Links alert sources to one Statuspage page through a connector."""

    name: str
    alert_sources: tuple[int, ...]
    connector: str
    page_id: str
    trigger_mode: str = "automatic"
    notify_subscribers: bool = True
    # "alert": one incident per alert; "action": one open incident shared by the action's alerts.
    group: str = "alert"
    # What the public sees: filters, flap guard, templates, ... (publish_config.py).
    publish: PublishPolicy = field(default_factory=PublishPolicy)
    # Statuspage component ids its incidents affect, and the status by alert priority.
    components: tuple[str, ...] = ()
    component_status: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_COMPONENT_STATUS)
    )
    # Names the action had before: their links (its open incidents) are carried to ``name``.
    previous_names: tuple[str, ...] = ()

    @property
    def manual(self) -> bool:
        """Only alerts triggered with ``trigger`` are mirrored."""
        return self.trigger_mode == "manual"


@dataclass(frozen=True)
class MetricsConfig:
    """Where Prometheus metrics go: a node_exporter textfile, a loopback port, both or none."""

    textfile: Path | None = None
    # IPv6 hosts are kept without brackets ("::1"), ready for a socket bind.
    listen_host: str | None = None
    listen_port: int | None = None


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration."""

    ilert: IlertConfig
    connectors: Mapping[str, ConnectorConfig]
    incident_actions: tuple[IncidentAction, ...]
    poll_interval: float = 30.0
    # Kept out of repr: a PostgreSQL URL may carry a password.
    database_url: str = field(default="sqlite:///state.db", repr=False)
    lifecycle: str = DEFAULT_LIFECYCLE
    log_level: str = "info"
    path: Path | None = None
    warnings: tuple[str, ...] = field(default=())
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    # False when loaded with keys=False: no key was read, so no client may be built.
    keys_loaded: bool = True
    retention_days: int = DEFAULT_RETENTION_DAYS
    status_bridges: tuple[StatusBridge, ...] = ()

    def action(self, name: str) -> IncidentAction:
        """The incident action called ``name``, or a ConfigError listing the known ones."""
        for action in self.incident_actions:
            if action.name == name:
                return action
        known = ", ".join(a.name for a in self.incident_actions)
        raise ConfigError(f"no incident action named {name!r} (configured: {known})")
