"""One bad alert never stops the mirror: the real `sync` process, both databases.

Each case plants one alert whose values a state column cannot hold (an id
beyond a signed 64-bit integer, 1e20, a status longer than its column...) or
whose text is only odd (a lone surrogate, NUL, control characters), sorted
before a good alert. The pass must sync the good alert, report the bad one as
``alert_unreadable`` naming the field (or clean its text and sync it), end with
``pass_finished``, and print no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.simulators._wire import format_timestamp
from tests.support.harness import Harness
from tests.support.proc import run_cli, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

INT64_MAX = 2**63 - 1
CRASHES = ("alert_sync_crashed", "alert_failure_unrecorded", "alert_unstorable")

# Plants a bad alert under a simulator key (whatever its "id" says), reported at a time.
Plant = Callable[[IlertSimulator, int, str], None]


def _alert(key: int, reported: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": key,
        "summary": "bad alert",
        "details": "",
        "reportTime": reported,
        "status": "PENDING",
        "alertSource": {"id": AUTO_SOURCE},
        "priority": "HIGH",
        "responders": [],
        **fields,
    }


def _with_comment_entry(entry_id: int, text: str, **fields: Any) -> Plant:
    def plant(ilert: IlertSimulator, key: int, reported: str) -> None:
        ilert.set_raw_alert(key, _alert(key, reported, **fields))
        entry = {
            "id": entry_id,
            "timestamp": reported,
            "logEntryType": "AlertCommentAddedLogEntry",
            "text": text,
            "vars": {"comment": text},
        }
        ilert.set_raw_log_entries(key, [entry])

    return plant


def _raw(**fields: Any) -> Plant:
    def plant(ilert: IlertSimulator, key: int, reported: str) -> None:
        ilert.set_raw_alert(key, _alert(key, reported, **fields))

    return plant


@dataclass(frozen=True)
class Case:
    """A bad alert: refused naming ``field``, or synced under the cleaned ``name``."""

    plant: Plant
    field: str | None = None
    name: str | None = None
    body: str | None = None


CASES = {
    "alert-id-2^63": Case(_raw(id=INT64_MAX + 1), field="field 'id'"),
    "alert-id-1e20": Case(_raw(id=1e20), field="field 'id'"),
    "alert-id-negative": Case(_raw(id=-7), field="field 'id'"),
    "alert-id-string-beyond-int64": Case(_raw(id="9999999999999999999"), field="field 'id'"),
    "policy-id-beyond-int64": Case(
        _raw(escalationPolicy={"id": INT64_MAX + 1}), field="escalationPolicy: field 'id'"
    ),
    "rule-index-beyond-int32": Case(
        _raw(nextEscalationRuleIndex=2**31), field="field 'nextEscalationRuleIndex'"
    ),
    "responder-id-beyond-int64": Case(
        _raw(responders=[{"user": {"id": 2**64}}]), field="field 'responders[].user.id'"
    ),
    "status-longer-than-its-column": Case(_raw(status="PENDING" * 6), field="field 'status'"),
    "log-entry-id-beyond-int64": Case(
        _with_comment_entry(INT64_MAX + 1, "looking"), field="log entry: field 'id'"
    ),
    "surrogate-in-summary": Case(_raw(summary="disk \udcff full"), name="disk \ufffd full"),
    "nul-in-summary": Case(_raw(summary="disk\x00 full"), name="disk full"),
    "controls-in-details-and-comment": Case(
        _with_comment_entry(
            INT64_MAX, "rolled\x00 back \udcff\x1b[0m", details="red\x07 \x1b[31malert\r\n"
        ),
        name="bad alert",
        body="red [31malert",  # plain text, like every published field: whitespace tidied
    ),
}


@dataclass(frozen=True)
class Run:
    """One finished `sync` process."""

    code: int
    stderr: str

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.stderr.splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                found.append(parsed)
        return found

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == name]


def _sync(config: Path) -> Run:
    done = run_cli(config, "sync")
    return Run(done.returncode, done.stderr)


def _assert_pass_finished(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code in (0, 1), run.stderr
    assert len(run.events("pass_finished")) == 1, run.stderr


def _plant_all(ilert: IlertSimulator) -> tuple[dict[int, Case], int]:
    """Every bad alert, then the good one (reported last, so sorted after them all)."""
    planted = {}
    for number, case in enumerate(CASES.values(), start=1):
        key = 900_000 + number
        case.plant(ilert, key, format_timestamp(ilert.now()))
        planted[key] = case
    return planted, ilert.create_alert(AUTO_SOURCE, "good alert", "")


def _check_incidents(incidents: list[dict[str, Any]], planted: dict[int, Case], good: int) -> None:
    by_alert = {i["metadata"]["ilert"]["alert_id"]: i for i in incidents}
    cleaned = {key: case for key, case in planted.items() if case.field is None}
    assert set(by_alert) == {str(good), *map(str, cleaned)}
    assert by_alert[str(good)]["name"] == "good alert"
    for key, case in cleaned.items():
        incident = by_alert[str(key)]
        assert incident["name"] == case.name
        bodies = [update["body"] for update in incident["incident_updates"]]
        assert all("\x00" not in body and "\udcff" not in body for body in bodies)
        if case.body is not None:
            assert case.body in bodies
            assert "rolled back \ufffd[0m" in bodies


def _check_unreadable(errors: list[str], planted: dict[int, Case]) -> None:
    for case in planted.values():
        if case.field is not None:
            assert any(case.field in error for error in errors), (case.field, errors)


@pytest.mark.slow
def test_sync_process_passes_every_bad_alert_and_syncs_the_good_one(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator], database_url: str
) -> None:
    """`sync` beside every bad alert: good one synced, bad ones named, pass ends, no traceback."""
    ilert, statuspage = sims
    config = write_config(tmp_path, ilert.url, statuspage.url, database_url)
    activation = _sync(config)
    assert activation.code == 0, activation.stderr
    planted, good = _plant_all(ilert)

    run = _sync(config)

    _assert_pass_finished(run)
    assert run.code == 1, run.stderr  # the unreadable log entry is a failed item
    _check_incidents(statuspage.incidents(AUTO_PAGE), planted, good)
    _check_unreadable([line["error"] for line in run.events("alert_unreadable")], planted)
    writes = len(statuspage.writes())

    again = _sync(config)  # what was stored reads back: nothing resent, nothing duplicated

    _assert_pass_finished(again)
    assert len(statuspage.writes()) == writes
    _check_incidents(statuspage.incidents(AUTO_PAGE), planted, good)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_bad_alert_is_named_or_cleaned_and_blocks_nothing(
    harness: Harness, case: Case
) -> None:
    """Beside a good alert, each bad one is refused naming its field, or cleaned and synced."""
    key = 900_000
    case.plant(harness.ilert, key, format_timestamp(harness.ilert.now()))
    good = harness.ilert.create_alert(AUTO_SOURCE, "good alert", "")

    with capture_logs() as logs:
        report = harness.sync()
        again = harness.sync()

    assert report.ilert_ok and again.ilert_ok
    assert not [line for line in logs if line["event"] in CRASHES], logs
    _check_incidents(harness.incidents(), {key: case}, good)
    _check_unreadable([str(line.get("error")) for line in logs], {key: case})
    if case.field is None:
        assert report.ok and again.ok
        assert again.writes == 0


def test_an_answer_nested_past_the_parsers_depth_is_one_clear_line(harness: Harness) -> None:
    """An iLert list nested 100,000 deep: one ilert_read_failed line; the next pass syncs."""
    deep = b"[" * 100_000 + b"]" * 100_000
    body = b'[{"id": 1, "status": "PENDING", "unknownField": ' + deep + b"}]"
    json_type = {"Content-Type": "application/json"}
    harness.ilert.inject_fault(200, body, headers=json_type, path_contains="/api/alerts")
    good = harness.ilert.create_alert(AUTO_SOURCE, "good alert", "")

    with capture_logs() as logs:
        report = harness.sync()

    assert not report.ilert_ok
    failures = [line for line in logs if line["event"] == "ilert_read_failed"]
    assert len(failures) == 1 and "not JSON" in failures[0]["error"]
    assert [line["event"] for line in logs if line["event"] == "pass_finished"] == ["pass_finished"]
    assert harness.sync().ok
    assert [i["name"] for i in harness.incidents()] == ["good alert"]
    assert harness.link("public-api", good) is not None
