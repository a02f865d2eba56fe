"""contrib/grafana-dashboard.json: importable, its six panels there, every query on real metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.exposition import exposed_names

DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana-dashboard.json"
PANELS = {
    "Passes per minute",
    "Transitions by outcome",
    "Budget use per key",
    "Failing items",
    "Leadership",
    "Last pass age",
}
DATASOURCE = "${DS_PROMETHEUS}"
# PromQL words that are neither functions (always followed by "(") nor metric names.
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MODIFIER = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([A-Za-z_:][\w:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Every metric name a PromQL expression selects (functions, labels and keywords left out)."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges, subqueries
    text = _MODIFIER.sub(" ", text)  # by (...), on (...), group_left (...)
    text = re.sub(r"\$\{[^}]*\}|\$\w+", " ", text)  # Grafana variables
    text = re.sub(r"\b\d[\w.]*", " ", text)  # numbers and durations
    return {
        match.group(1)
        for match in _IDENTIFIER.finditer(text)
        if match.group(2) is None and match.group(1).lower() not in _KEYWORDS
    }


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in _dashboard()["panels"]:
        panels += [panel, *panel.get("panels", [])]  # a collapsed row holds its panels
    return panels


def _exprs() -> list[str]:
    return [target["expr"] for panel in _panels() for target in panel.get("targets", [])]


def test_the_extractor_finds_metrics_and_nothing_else():
    """The PromQL reader keeps metric names and drops functions, labels, modifiers and numbers."""
    expr = (
        'sum by (service) (rate(a_total{status=~"4..|up"}[5m])) * 60 '
        "/ on (instance) group_left (job) max without (x) (b_seconds offset 5m) "
        "> bool 0.1 or absent(up) unless time() - c:rule[1h:5m] > $threshold"
    )
    assert metric_names(expr) == {"a_total", "b_seconds", "up", "c:rule"}


def test_every_query_names_a_metric_the_daemon_exports():
    """Each metric in each panel's PromQL is one the daemon's registry exposes."""
    exprs = _exprs()
    named = {name for expr in exprs for name in metric_names(expr)}

    assert exprs and all(metric_names(expr) for expr in exprs), exprs
    assert named <= exposed_names(), named - exposed_names()


def test_the_six_panels_exist_and_each_queries_something():
    """Passes, transitions, budget use, failing items, leadership and last pass age are there."""
    titles = {panel["title"]: panel for panel in _panels()}

    assert titles.keys() >= PANELS, PANELS - titles.keys()
    assert all(titles[title].get("targets") for title in PANELS)


def test_the_datasource_is_an_import_input():
    """Grafana asks for the Prometheus data source on import: every query uses the input."""
    dashboard = _dashboard()
    inputs = {item["name"]: item for item in dashboard["__inputs"]}

    assert inputs["DS_PROMETHEUS"]["pluginId"] == "prometheus"
    sources = {
        json.dumps(holder["datasource"], sort_keys=True)
        for panel in _panels()
        for holder in [panel, *panel.get("targets", [])]
        if "datasource" in holder
    }
    assert sources == {json.dumps({"type": "prometheus", "uid": DATASOURCE}, sort_keys=True)}
    assert dashboard["id"] is None and dashboard["uid"]
