"""End to end, what the public sees: real daemon code, real HTTP to the simulators, a real DB.

One test (or a few) per key of an incident action's publish policy: templates,
filters, the flap guard, the comment guard, redaction, notifications and
status overrides; and the operator's views of them (check, sync --dry-run,
history, status) through the console script.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ilert_statuspage_sync.config.publish import parse_publish_policy
from ilert_statuspage_sync.core.parse import parse_time
from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.harness import Harness
from tests.support.proc import run_cli, said, write_config
from tests.support.world import AUTO_PAGE, AUTO_SOURCE, MANUAL_PAGE, MANUAL_SOURCE


def publishing(
    make_harness: Callable[..., Harness],
    keys: dict[str, Any],
    *,
    lifecycle: str = "classic",
    action: str = "public-api",
    activate_at: timedelta = timedelta(0),
) -> Harness:
    """A harness whose ``action`` has the publish keys ``keys``, activated ``activate_at`` ago."""
    harness = make_harness(lifecycle)
    policy = parse_publish_policy(keys, "incident_actions[0]", "test.toml")
    actions = tuple(
        dataclasses.replace(a, publish=policy) if a.name == action else a
        for a in harness.config.incident_actions
    )
    harness.config = dataclasses.replace(harness.config, incident_actions=actions)
    harness.syncer = harness.new_syncer()
    # Activation is taken from iLert's clock (its Date header), so move that one back.
    clock = harness.ilert._clock
    harness.ilert.set_clock(lambda: clock() - activate_at)
    harness.clock_offset = -activate_at
    harness.sync()
    harness.clock_offset = timedelta(0)
    harness.ilert.set_clock(clock)
    return harness


def incident_writes(harness: Harness) -> list[dict[str, Any]]:
    """The ``incident`` object of every write Statuspage received, in order."""
    return [w.json_body["incident"] for w in harness.statuspage.writes()]  # type: ignore[index]


def bodies(harness: Harness, page: str = AUTO_PAGE) -> list[str]:
    """The one incident's update bodies, oldest first."""
    (incident,) = harness.incidents(page)
    return [u["body"] for u in reversed(incident["incident_updates"])]


def _iso(timestamp: str) -> str:
    """A simulator timestamp as templates show it (ISO 8601, UTC, "Z")."""
    return parse_time(timestamp, "test").isoformat().replace("+00:00", "Z")


def ticking(start: datetime) -> Callable[[], datetime]:
    moments = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=next(moments))


# -- templates ----------------------------------------------------------------------------

EVERY_VARIABLE = (
    "id={{ alert.id }} summary={{ alert.summary }} details={{ alert.details }} "
    "priority={{ alert.priority }} status={{ alert.status }} reported={{ alert.report_time }} "
    "source={{ alert.source.id }}/{{ alert.source.name }} url={{ alert.url }} "
    "event={{ event }} now={{ status }} action={{ action.name }}@{{ action.page_id }}"
)


def test_template_with_every_variable(make_harness):
    """Every template variable reaches the page, in the create, a comment and a status change."""
    harness = publishing(
        make_harness,
        {
            "templates": {
                "name": "{{ alert.source.name }} degraded",
                "created": EVERY_VARIABLE,
                "comment": "{{ comment.text }} ({{ comment.created_at }}, {{ event }})",
                "accepted": "{{ event }} -> {{ status }}",
            }
        },
    )
    harness.ilert.add_alert_source("Checkout API", source_id=AUTO_SOURCE)
    harness.ilert.set_clock(ticking(datetime.now(UTC)))
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db-7 pool", "max_connections")
    harness.sync()
    entry = harness.ilert.comment(alert_id, "rolling back")
    harness.ilert.accept(alert_id)
    harness.sync()
    create, comment, accept = incident_writes(harness)
    reported = _iso(harness.ilert.alert(alert_id)["reportTime"])
    (commented,) = [e for e in harness.ilert.log_entries(alert_id) if e["id"] == entry]
    assert create["name"] == "Checkout API degraded"
    assert create["body"] == (
        f"id={alert_id} summary=db-7 pool details=max_connections priority=HIGH status=PENDING "
        f"reported={reported} source={AUTO_SOURCE}/Checkout API "
        f"url={harness.ilert.url}/alert/view?id={alert_id} "
        f"event=created now=identified action=public-api@{AUTO_PAGE}"
    )
    assert comment["body"] == f"rolling back ({_iso(commented['timestamp'])}, comment_added)"
    assert accept["metadata"]["ilert"]["wrote_status"] == "in_progress"  # what it left
    del accept["metadata"]
    assert accept == {
        "status": "in_progress",
        "body": "accepted -> in_progress",
        "deliver_notifications": True,
    }


def test_render_error_fails_that_alert_and_the_others_sync(make_harness):
    """A template failing at run time fails that alert (audited, retried), not the pass."""
    harness = publishing(
        make_harness, {"templates": {"created": "{{ 100 // (alert.details | length) }}%"}}
    )
    bad = harness.ilert.create_alert(AUTO_SOURCE, "no details", "")
    harness.ilert.create_alert(AUTO_SOURCE, "with details", "four")
    report = harness.sync()
    assert report.failed_items == 1
    assert [(i["name"], i["incident_updates"][0]["body"]) for i in harness.incidents()] == [
        ("with details", "25%")
    ]
    link = harness.link("public-api", bad)
    assert link is not None and link.last_error is not None
    assert "templates.created" in link.last_error
    assert "ZeroDivisionError" in link.last_error
    assert ("created", "failed", None) in harness.transitions(bad)


# -- filters ------------------------------------------------------------------------------


def test_min_priority_keeps_low_alerts_off_until_raised(make_harness):
    """With min_priority HIGH a LOW alert is filtered (audited once) until raised to HIGH."""
    harness = publishing(make_harness, {"min_priority": "HIGH"})
    harness.ilert.set_clock(ticking(datetime.now(UTC)))
    low = harness.ilert.create_alert(AUTO_SOURCE, "low one", "quiet", priority="LOW")
    harness.ilert.comment(low, "first look")
    high = harness.ilert.create_alert(AUTO_SOURCE, "high one", "loud", priority="HIGH")
    harness.sync()
    harness.sync()
    assert [i["name"] for i in harness.incidents()] == ["high one"]
    assert harness.transitions(low) == [("created", "filtered", None)]
    (row,) = [r for r in harness.audit_rows() if r.alert_id == low]
    assert row.reason == "min_priority: priority LOW below min_priority HIGH"
    harness.ilert.raise_priority(low)
    harness.sync()
    raised = next(i for i in harness.incidents() if i["name"] == "low one")
    assert [u["body"] for u in reversed(raised["incident_updates"])] == ["quiet", "first look"]
    assert [e for e, _, _ in harness.transitions(low)] == [
        "created",
        "created",
        "comment_added",
        "priority_raised",
    ]
    assert harness.transitions(high)[0] == ("created", "created", "identified")


def test_filtered_alerts_take_no_timeline_budget(make_harness):
    """Alerts kept off the page cost no timeline read: a published alert's comment still lands."""
    harness = publishing(make_harness, {"min_priority": "HIGH"})
    shown = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    for n in range(3):
        harness.ilert.create_alert(AUTO_SOURCE, f"noise {n}", "", priority="LOW")
    # 48 requests a minute at a 5 s interval leave one timeline read per pass.
    ilert = dataclasses.replace(harness.config.ilert, requests_per_minute=48)
    harness.syncer = harness.new_syncer(rate_window=1.0, ilert=ilert)
    harness.sync()
    harness.ilert.comment(shown, "rolled back")
    harness.sync()
    assert bodies(harness) == ["5xx", "rolled back"]
    assert [i["name"] for i in harness.incidents()] == ["API down"]


def test_a_long_filter_reason_is_audited_once_across_restarts(make_harness):
    """A reason longer than its column (a long exclude pattern) is stored clipped; a restart
    compares with what was stored, so the alert is not audited "filtered" again."""
    pattern = "^Batch (" + "|".join(f"job{n}" for n in range(250)) + ")"
    harness = publishing(make_harness, {"exclude": pattern})
    batch = harness.ilert.create_alert(AUTO_SOURCE, "Batch job7 slow", "")
    harness.sync()
    for _restart in range(2):
        harness.syncer = harness.new_syncer()  # a new process: nothing remembered in memory
        harness.sync()
    assert harness.transitions(batch) == [("created", "filtered", None)]


def test_include_publishes_only_matching_summaries(make_harness):
    """include: an alert whose summary does not match is never published."""
    harness = publishing(make_harness, {"include": "^Checkout"})
    other = harness.ilert.create_alert(AUTO_SOURCE, "Batch job slow", "")
    harness.ilert.create_alert(AUTO_SOURCE, "Checkout errors", "")
    harness.sync()
    harness.ilert.resolve(other)
    harness.sync()
    assert [i["name"] for i in harness.incidents()] == ["Checkout errors"]
    assert harness.transitions(other) == [("created", "filtered", None)]
    link = harness.link("public-api", other)
    assert link is not None and link.is_open is False


def test_exclude_never_publishes_matching_summaries(make_harness):
    """exclude: an alert whose summary matches is never published."""
    harness = publishing(make_harness, {"exclude": "(?i)maintenance"})
    hidden = harness.ilert.create_alert(AUTO_SOURCE, "Planned MAINTENANCE db", "")
    harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    assert [i["name"] for i in harness.incidents()] == ["API down"]
    (row,) = [r for r in harness.audit_rows() if r.alert_id == hidden]
    assert (row.outcome, row.reason) == (
        "filtered",
        "exclude: summary matches exclude '(?i)maintenance'",
    )


def test_an_exclude_added_later_does_not_orphan_a_published_incident(make_harness):
    """A config reload that excludes an already published alert still mirrors it to resolved."""
    harness = publishing(make_harness, {})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    policy = parse_publish_policy({"exclude": "API"}, "incident_actions[0]", "test.toml")
    actions = tuple(dataclasses.replace(a, publish=policy) for a in harness.config.incident_actions)
    harness.syncer = harness.new_syncer(incident_actions=actions)
    harness.ilert.resolve(alert_id)
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["status"] == "resolved"


# -- publish_after ---------------------------------------------------------------------------


def test_publish_after_never_publishes_a_blip(make_harness):
    """An alert resolved before publish_after is never published; audited with the reason."""
    harness = publishing(make_harness, {"publish_after": 120})
    blip = harness.ilert.create_alert(AUTO_SOURCE, "blip", "")
    harness.sync()
    harness.ilert.resolve(blip)
    harness.clock_offset = timedelta(minutes=10)
    harness.sync()
    harness.sync()
    assert harness.incidents() == []
    assert harness.statuspage.writes() == []
    (row,) = harness.audit_rows()
    assert (row.event, row.outcome, row.reason) == (
        "resolved",
        "filtered",
        "publish_after: resolved within publish_after",
    )


def test_publish_after_publishes_with_comments_in_order(make_harness):
    """An alert open past publish_after is created with its events' status and its comments."""
    harness = publishing(make_harness, {"publish_after": 60})
    harness.ilert.set_clock(ticking(datetime.now(UTC)))
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.ilert.comment(alert_id, "looking")
    harness.sync()
    assert harness.statuspage.writes() == []
    assert harness.transitions(alert_id) == []
    harness.ilert.comment(alert_id, "found it")
    harness.ilert.accept(alert_id)
    harness.clock_offset = timedelta(seconds=61)
    harness.sync()
    assert [(w.get("status"), w.get("body")) for w in incident_writes(harness)] == [
        ("identified", "5xx"),
        (None, "looking"),
        (None, "found it"),
        ("in_progress", None),
    ]
    assert harness.incidents()[0]["status"] == "in_progress"


def test_publish_after_counts_from_report_time_not_first_sight(make_harness):
    """The delay runs from reportTime: an alert seen late but open long enough goes out at once."""
    harness = publishing(make_harness, {"publish_after": 60}, activate_at=timedelta(minutes=10))
    harness.ilert.create_alert(
        AUTO_SOURCE, "old enough", "", report_time=datetime.now(UTC) - timedelta(minutes=2)
    )
    harness.sync()
    assert [i["name"] for i in harness.incidents()] == ["old enough"]


# -- comments -------------------------------------------------------------------------------


def test_marked_comments_only_with_the_marker_removed(make_harness):
    """comments = "marked": only comments with the marker go out, without it."""
    harness = publishing(make_harness, {"comments": "marked", "comment_marker": "#public"})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    harness.ilert.comment(alert_id, "restarted pod orders-7f9 on node 12")
    harness.ilert.comment(alert_id, "#public We have rolled back the deploy.")
    harness.sync()
    assert bodies(harness) == ["5xx", "We have rolled back the deploy."]
    assert [(e, o) for e, o, _ in harness.transitions(alert_id)] == [
        ("created", "created"),
        ("comment_added", "no_change"),
        ("comment_added", "body_updated"),
    ]


def test_comments_none_publishes_no_comment_and_never_creates(make_harness):
    """comments = "none": no comment is posted, and a comment alone creates no incident."""
    harness = publishing(make_harness, {"comments": "none"}, action="manual-review")
    alert_id = harness.ilert.create_alert(MANUAL_SOURCE, "internal", "")
    harness.ilert.comment(alert_id, "secret detail")
    harness.trigger("manual-review", alert_id)
    harness.sync()
    assert harness.incidents(MANUAL_PAGE) == []
    assert harness.transitions(alert_id) == [("comment_added", "no_change", None)]
    harness.ilert.comment(alert_id, "more detail")
    harness.ilert.accept(alert_id)
    harness.sync()
    (incident,) = harness.incidents(MANUAL_PAGE)
    assert incident["status"] == "in_progress"
    assert all("detail" not in u["body"] for u in incident["incident_updates"])


def test_markup_in_a_comment_is_published_as_plain_text(make_harness):
    """A comment with markup reaches the page as plain text (tags gone, entities decoded)."""
    harness = publishing(make_harness, {})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    harness.ilert.comment(alert_id, "<p>Fix <b>deployed</b> &amp; verified.</p><p>Watching.</p>")
    harness.sync()
    assert bodies(harness) == ["5xx", "Fix deployed & verified.\n\nWatching."]


def test_texts_over_the_template_bound_are_clipped_and_block_nothing(make_harness):
    """150,000-character summary, details and comment publish clipped; later events still land."""
    harness = publishing(make_harness, {})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "s" * 150_000, "d" * 150_000)
    harness.sync()
    harness.ilert.comment(alert_id, "c " * 75_000)
    harness.sync()
    harness.ilert.comment(alert_id, "rolled back")
    harness.ilert.resolve(alert_id)
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["name"] == "s" * 243 + " [truncated]"
    created, comment, later = bodies(harness)[:3]
    assert (len(created), len(comment)) == (25_000, 25_000)
    assert created.endswith("d [truncated]") and comment.endswith(" [truncated]")
    assert later == "rolled back"
    assert incident["status"] == "resolved"
    assert all(outcome != "failed" for _, outcome, _ in harness.transitions(alert_id))


def test_a_character_reference_too_long_for_int_blocks_nothing(make_harness):
    """A comment with a 5,000-digit &#...; posts as U+FFFD; the resolve after it lands."""
    harness = publishing(make_harness, {})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    harness.ilert.comment(alert_id, "odd &#" + "9" * 5000 + "; text")
    harness.ilert.resolve(alert_id)
    harness.sync()
    (incident,) = harness.incidents()
    assert bodies(harness)[:2] == ["5xx", "odd \ufffd text"]
    assert incident["status"] == "resolved"


def test_markup_in_names_and_details_is_published_as_plain_text(make_harness):
    """Summary and details get the comments' treatment: tags gone, entities decoded."""
    harness = publishing(make_harness, {})
    harness.ilert.create_alert(
        AUTO_SOURCE, "<b>API</b> &amp; <i>web</i> down", "<p>5xx</p><p>on /v2</p>"
    )
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["name"] == "API & web down"
    assert bodies(harness) == ["5xx\n\non /v2"]


def test_zero_width_characters_do_not_defeat_redact(make_harness):
    """Redaction matches what a reader sees: zero-width and compatibility characters normalised."""
    harness = publishing(make_harness, {"redact": [r"db-\d+", r"password=\S+"]})
    details = "\uff44\uff42-7 \u2060and db-\u00ad8"  # fullwidth "db", a word joiner, a soft hyphen
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db\u200b-99 down", details)
    harness.sync()
    harness.ilert.comment(alert_id, "pass\u200bword=hunter2 rotated")
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["name"] == "[redacted] down"
    assert bodies(harness) == ["[redacted] and [redacted]", "[redacted] rotated"]


def test_a_glued_marker_keeps_the_comment_off_the_page(make_harness):
    """comments = "marked": a marker inside a URL or glued to a word publishes nothing."""
    harness = publishing(make_harness, {"comments": "marked"})
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    for text in ("see https://wiki.corp/runbook#public", "C#public keys", "internal##public"):
        harness.ilert.comment(alert_id, text)
    harness.ilert.comment(alert_id, "#public Fixed.")
    harness.sync()
    assert bodies(harness) == ["5xx", "Fixed."]


# -- redact, notify, statuses ------------------------------------------------------------------


def test_redact_on_name_and_body(make_harness):
    """Every redact match in the rendered name and bodies becomes [redacted]."""
    harness = publishing(
        make_harness,
        {
            "redact": [r"\b\d{1,3}(\.\d{1,3}){3}\b", r"db-\d+"],
            "templates": {"created": "Host {{ alert.details }} is affected."},
        },
    )
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "db-7 down", "10.0.3.17")
    harness.sync()
    harness.ilert.comment(alert_id, "failing over db-7 to db-8")
    harness.sync()
    (incident,) = harness.incidents()
    assert incident["name"] == "[redacted] down"
    assert bodies(harness) == [
        "Host [redacted] is affected.",
        "failing over [redacted] to [redacted]",
    ]
    rows = harness.audit_rows()
    assert rows[0].published_name == "[redacted] down"
    assert rows[0].published_body == "Host [redacted] is affected."


def test_notify_per_write_kind(make_harness):
    """notify = ["resolved"]: only the resolve notifies subscribers."""
    harness = publishing(make_harness, {"notify": ["resolved"]})
    harness.ilert.set_clock(ticking(datetime.now(UTC)))
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "5xx")
    harness.sync()
    harness.ilert.comment(alert_id, "looking")
    harness.sync()
    harness.ilert.accept(alert_id)
    harness.sync()
    harness.ilert.resolve(alert_id)
    harness.sync()
    assert [(w.get("status"), w["deliver_notifications"]) for w in incident_writes(harness)] == [
        ("identified", False),
        (None, False),
        ("in_progress", False),
        ("resolved", True),
    ]


def test_statuses_override_and_unchanged(make_harness):
    """statuses: accepted shows "monitoring"; a re-assignment with "unchanged" leaves it."""
    harness = publishing(
        make_harness,
        {"statuses": {"accepted": "monitoring", "reassigned": "unchanged"}},
        lifecycle="realtime",
    )
    alert_id = harness.ilert.create_alert(AUTO_SOURCE, "API down", "")
    harness.sync()
    harness.ilert.accept(alert_id)
    harness.sync()
    harness.ilert.reassign(alert_id, 5)
    harness.sync()
    assert harness.incidents()[0]["status"] == "monitoring"
    assert harness.transitions(alert_id) == [
        ("created", "created", "investigating"),
        ("accepted", "status_changed", "monitoring"),
        ("reassigned", "no_change", "monitoring"),
    ]
    assert harness.audit_rows()[-1].reason == 'statuses.reassigned = "unchanged"'


def test_unchanged_on_a_new_incident_creates_with_the_lifecycle_status(make_harness):
    """ "unchanged" on the event that creates the incident uses the lifecycle's create status."""
    harness = publishing(
        make_harness, {"statuses": {"accepted": "unchanged"}}, action="manual-review"
    )
    alert_id = harness.ilert.create_alert(MANUAL_SOURCE, "API down", "")
    harness.ilert.accept(alert_id)
    harness.trigger("manual-review", alert_id)
    harness.sync()
    assert harness.incidents(MANUAL_PAGE)[0]["status"] == "in_progress"


# -- the operator's views, through the console script --------------------------------------

PUBLIC_KEYS = """
min_priority = "HIGH"
redact = ['10\\.0\\.\\d+\\.\\d+']
[incident_actions.templates]
name = "Checkout degraded"
created = "We are investigating errors on {{ alert.source.name }} ({{ alert.details }})."
"""


def test_template_error_at_load_names_file_key_and_line(tmp_path, sims):
    """A template naming an unknown variable stops the command: exit 2, file, key and line."""
    ilert, statuspage = sims
    config = write_config(tmp_path, ilert.url, statuspage.url, f"sqlite:///{tmp_path}/s.db")
    config.write_text(
        config.read_text()
        + '[incident_actions.templates]\ncreated = """We are on it.\n{{ alert.detials }}"""\n'
    )
    result = run_cli(config, "sync")
    assert result.returncode == 2, result.stderr
    assert said(result.stderr).strip() == (
        f"error: {config}: incident_actions[0].templates.created: template line 2: "
        "unknown variable 'alert.detials' (alert offers: details, id, priority, report_time, "
        "source, status, summary, url)"
    )
    assert statuspage.writes() == []


def test_check_dry_run_history_and_status_show_the_public_wording(
    tmp_path: Path, sims: tuple[IlertSimulator, StatuspageSimulator]
):
    """check previews, sync --dry-run logs, history shows and status explains filtering."""
    ilert, statuspage = sims
    config = write_config(tmp_path, ilert.url, statuspage.url, f"sqlite:///{tmp_path}/s.db")
    config.write_text(config.read_text() + PUBLIC_KEYS)
    ilert.add_alert_source("Checkout API", source_id=AUTO_SOURCE)

    check = run_cli(config, "check", "--offline")
    assert check.returncode == 0, check.stdout + check.stderr
    assert (
        'ok   preview public-api: created: create, name "Checkout degraded", status identified, '
        'body "We are investigating errors on Sample alert source (Postgres max_connections=200 '
        'reached on db-7; orders-api pods crash-looping.).", notify yes'
    ) in check.stdout.splitlines()

    assert run_cli(config, "sync").returncode == 0  # activates the action
    shown = ilert.create_alert(AUTO_SOURCE, "pool exhausted on 10.0.3.17", "db at 10.0.3.17")
    hidden = ilert.create_alert(AUTO_SOURCE, "disk 80%", "", priority="LOW")

    dry = run_cli(config, "sync", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    logged = [json.loads(line) for line in dry.stderr.splitlines() if line.startswith("{")]
    (write,) = [line for line in logged if line.get("outcome") == "created"]
    assert write["published_name"] == "Checkout degraded"
    assert (
        write["published_body"] == "We are investigating errors on Checkout API (db at [redacted])."
    )
    assert write["dry_run"] is True
    assert statuspage.writes() == []

    assert run_cli(config, "sync").returncode == 0
    history = run_cli(config, "history", "--alert", str(shown))
    assert history.returncode == 0, history.stderr
    published = history.stdout.split("PUBLISHED\n", 1)[1].splitlines()
    assert published[1:] == [
        "  name: Checkout degraded",
        "  body: We are investigating errors on Checkout API (db at [redacted]).",
    ]
    assert "templates name+created (custom: name, created)" in history.stdout

    status = run_cli(config, "status")
    (row,) = [line for line in status.stdout.splitlines() if f" {hidden} " in line]
    assert row.split()[2] == "filtered"
    assert row.endswith("filtered: min_priority: priority LOW below min_priority HIGH")
