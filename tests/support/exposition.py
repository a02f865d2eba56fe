"""The metric names the daemon can expose, read from its own registry (never a hand list)."""

from __future__ import annotations

from ilert_statuspage_sync.service.metrics import Metrics

# The sample names prometheus-client derives from each family's type (``_created`` is filtered).
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exposed_names() -> set[str]:
    """Every sample name the daemon's registry can expose."""
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }
