"""The config file: its values, and how it is read and validated.

- ``values``: the validated configuration (``Config`` and its parts), limits, defaults
- ``loading``: ``load_config`` / ``parse_config``, the top-level keys and file checks
- ``reader``: the shared reader that names the file and dotted key of each mistake
- ``services``: ``[ilert]`` and ``[connectors.NAME]``; ``keys``: API key sources
- ``actions``: ``[[incident_actions]]``; ``publish``: their publish policy keys
- ``bridges``: ``[[status_bridges]]``; ``page_refs``: connector, page and component ids
- ``settings``: poll interval, retention, database URL, ``[metrics]``
- ``addresses``: API URLs and the metrics listen address; ``database_url``: the URL check

Other packages import from here; the modules are the config package's own business.
"""

from __future__ import annotations

from ilert_statuspage_sync.config.addresses import is_loopback_host
from ilert_statuspage_sync.config.loading import load_config, parse_config
from ilert_statuspage_sync.config.values import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_ILERT_RATE,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_STATUSPAGE_RATE,
    MAX_COMPONENTS,
    MAX_POLL_INTERVAL,
    MAX_REQUESTS_PER_MINUTE,
    MAX_RETENTION_DAYS,
    MIN_POLL_INTERVAL,
    NOTHING_TO_MIRROR,
    Config,
    ConnectorConfig,
    IlertConfig,
    IncidentAction,
    MetricsConfig,
    StatusBridge,
)
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
    "Secret",
    "StatusBridge",
    "is_loopback_host",
    "load_config",
    "parse_config",
]
