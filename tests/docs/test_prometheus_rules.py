"""contrib/prometheus-rules.yml: valid for promtool, fires when it should, names real metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ilert_statuspage_sync.service.metrics import PREFIX
from tests.support.exposition import exposed_names

RULES = Path(__file__).resolve().parents[2] / "contrib" / "prometheus-rules.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)


def test_every_metric_in_the_rules_exists():
    """Each ilert_statuspage_sync_* name in the rules is one the daemon exposes."""
    named = set(re.findall(rf"\b{PREFIX}\w+", RULES.read_text()))

    assert named, "the rules name the daemon's metrics"
    assert named <= exposed_names(), named - exposed_names()


@needs_promtool
def test_promtool_accepts_the_rules():
    """`promtool check rules` accepts the file."""
    result = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_stale_failing_and_missing_alerts_fire_on_their_series(tmp_path):
    """With promtool's rule tests: a pass timestamp that stops moving fires Stale, a failing
    item fires FailingItems after 15 min, and no series at all fires MetricsMissing."""
    tests = tmp_path / "rules_test.yml"
    tests.write_text(
        f"""
rule_files: [{RULES}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: {PREFIX}last_successful_pass_timestamp_seconds
        values: 0+60x5 300x20
      - series: {PREFIX}failing_items
        values: 0 0 1x30
      - series: {PREFIX}build_info{{version="0.1.0",python="3.11",database="sqlite"}}
        values: 1x30
    alert_rule_test:
      - eval_time: 5m
        alertname: IlertStatuspageSyncStale
        exp_alerts: []
      - eval_time: 13m
        alertname: IlertStatuspageSyncStale
        exp_alerts:
          - exp_labels: {{severity: critical}}
            exp_annotations:
              summary: "No successful sync pass for 8m 0s"
              description: "Run `ilert-statuspage-sync status`; the journal shows why passes fail."
      - eval_time: 10m
        alertname: IlertStatuspageSyncFailingItems
        exp_alerts: []
      - eval_time: 20m
        alertname: IlertStatuspageSyncFailingItems
        exp_alerts:
          - exp_labels: {{severity: warning}}
            exp_annotations:
              summary: "1 alert(s) fail to sync to Statuspage"
              description: "`ilert-statuspage-sync status` shows each item's reason and retry time."
      - eval_time: 20m
        alertname: IlertStatuspageSyncMetricsMissing
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: unrelated_up
        values: 1x10
    alert_rule_test:
      - eval_time: 6m
        alertname: IlertStatuspageSyncMetricsMissing
        exp_alerts:
          - exp_labels: {{severity: critical}}
            exp_annotations:
              summary: "ilert-statuspage-sync reports no metrics (stopped or crash-looping?)"
              description: "Check `systemctl status ilert-statuspage-sync` and its journal."
"""
    )
    result = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(tests)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
