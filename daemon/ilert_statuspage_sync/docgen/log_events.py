"""Every event the daemon logs: its level, what it means, what to do. The table in docs/commands.md.

``tests/docs/test_log_events.py`` finds every event name the package logs (an
``ast`` scan of the logger calls) and fails when one is missing here or when
this list names one the code no longer logs, so the table cannot drift.
``python -m ilert_statuspage_sync.docgen.log_events`` prints the Markdown table.

``SAID`` holds the events of the command line's own lines for a person
(``logs.say``: ``error: ...`` on a terminal, JSON otherwise) with a failure's exit
code, which the test holds to ``commands.output.FAILURE_EVENTS`` (the mapping ``fail``
itself uses); ``said_table`` is the table of docs/commands.md's exit codes section.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

__all__ = ["EVENTS", "SAID", "Event", "Said", "markdown_table", "said_table"]


@dataclass(frozen=True)
class Event:
    """One log event: the level it is logged at, what it means, and what to do about it."""

    level: str
    meaning: str
    action: str = "nothing"


EVENTS: dict[str, Event] = {
    # -- the audit trail and the pass ------------------------------------------------
    "transition": Event(
        "info (warning when `failed`)",
        "one lifecycle decision for one alert; the same row `history` shows",
        "`failed`: read `reason`; see [Troubleshooting](troubleshooting.md)",
    ),
    "pass_finished": Event(
        "info",
        "one line per pass: `ok`, `alerts_seen`, `writes`, `failed_items`, `deferred_items`, "
        "`waiting_checks`, `paced_items` (left for the next pass by the rate pacing), "
        "`outcomes`, `duration_s`",
        "`ok: false`: the other lines of that pass say why",
    ),
    "pass_crashed": Event(
        "error (with traceback)",
        "a pass ended on an unexpected exception (a bug); the next pass starts on time",
        "report it with the traceback",
    ),
    # -- process life ------------------------------------------------------------------
    "daemon_started": Event(
        "info", "`run` started: version, poll interval, lifecycle, actions, database"
    ),
    "stopping": Event("info", "SIGTERM/SIGINT: no new request starts; exits within `within_s`"),
    "stopped": Event("info", "clean exit (code 0)"),
    "stopping_now": Event(
        "warning",
        "a second stop signal: exits 1 at once; a write in flight is reconciled at the next start",
    ),
    "stop_overdue": Event(
        "error",
        "the pass did not end within the stop deadline: exits 1; a write in flight is "
        "reconciled at the next start",
        "a vendor hung; nothing to repair",
    ),
    "reload_requested": Event("info", "SIGHUP (`systemctl reload`) received"),
    "config_reloaded": Event("info", "the re-read config is used from the next pass"),
    "config_reload_failed": Event(
        "error",
        "the re-read config is invalid; the running config is kept",
        "fix the file (`check --offline` names the key), reload again",
    ),
    "config_reload_database_unchanged": Event(
        "warning", "`database_url` changed in a reload; it is kept", "restart to change it"
    ),
    "config_warning": Event(
        "warning",
        "a config that works but looks wrong (an inline key readable by others, nothing to mirror)",
        "as the message says",
    ),
    "poll_interval_changed": Event("info", "after a reload, passes follow the new interval"),
    "sd_notify_failed": Event(
        "warning",
        "systemd's notify socket refused READY/WATCHDOG",
        "check `Type=notify` and `NotifyAccess=main` in the unit",
    ),
    # -- metrics -----------------------------------------------------------------------
    "metrics_listening": Event("info", "the loopback `/metrics` and `/healthz` listener is up"),
    "metrics_write_failed": Event(
        "warning",
        "the metrics textfile could not be written; syncing goes on",
        "check `[metrics] textfile` and that its folder exists and is writable",
    ),
    # -- leadership (PostgreSQL replicas; SQLite's file lock) ----------------------------
    "became_leader": Event("info", "this process holds the leader lock and syncs"),
    "waiting_as_follower": Event(
        "info", "another process leads; this one retries the lock every interval"
    ),
    "leadership_lost": Event(
        "error", "the leader lock was lost (connection dropped); this process follows again"
    ),
    "leadership_lost_mid_pass": Event(
        "error",
        "the lock was lost during a pass: nothing more is written or committed",
        "none: the new leader reconciles",
    ),
    "leader_connection_lost": Event(
        "warning", "the connection holding the PostgreSQL advisory lock failed"
    ),
    "leader_lock_file_restored": Event(
        "warning",
        "SQLite: `<database>.lock` was deleted or replaced under the leader; it locked a new "
        "one at once (a previous version, which locks only that file, stays out)",
        "none; do not delete the lock file of a running process",
    ),
    "leader_lock_file_taken": Event(
        "error",
        "SQLite: `<database>.lock` was deleted and another process (`holder`) locked a new "
        "one first: this process stops writing and follows",
        "stop the older version that took it (`holder`); only one version may run",
    ),
    "leader_lock_file_uncreatable": Event(
        "warning",
        "SQLite: `<database>.lock` was deleted under the leader and its folder refuses a new "
        "one (`error`); it keeps leading on the database file's lock (said once)",
        "make the folder writable by the service; restart it to re-create the file",
    ),
    "leader_unlock_failed": Event("debug", "releasing the lock failed; closing frees it"),
    "leader_connection_close_failed": Event("debug", "closing the lock connection failed"),
    "heartbeat_failed": Event(
        "debug", "the replica row could not be written (e.g. before the first migration)"
    ),
    "intent_in_flight": Event(
        "info",
        "another process's write for this alert may still land, or this process's own that got "
        "no answer (not found on the page yet); reconciled after `reconcile_after`",
    ),
    # -- the database --------------------------------------------------------------------
    "database_error": Event(
        "error",
        "the state database failed (locked, read-only, full, unreachable); no READY/WATCHDOG "
        "while it lasts",
        "`reason` says what to do",
    ),
    "database_replaced": Event(
        "error",
        "the SQLite file was deleted or replaced under `run`: exits 1 without another write",
        "systemd restarts it on the file now at the path",
    ),
    "rollback_failed": Event(
        "error", "even a rollback failed (connection gone); the next pass starts afresh"
    ),
    "links_store_failed": Event(
        "warning", "the pass's new links could not be stored together; stored one by one"
    ),
    "action_renamed": Event(
        "info",
        "an action's previous_names held links: they now belong to its name (links_left: "
        "alerts the new name already tracked, left under the old one)",
        "none; if links_left > 0, see "
        "[Renaming an incident action](configuration.md#renaming-an-incident-action)",
    ),
    "state_rebuilt": Event(
        "info",
        "an empty database was rebuilt from the pages' unresolved incidents",
        "none; see "
        "[When the state database is lost](operations.md#when-the-state-database-is-lost)",
    ),
    "state_rebuild_alerts_capped": Event(
        "warning",
        "an incident's metadata names more alerts (`alerts_named`) than a rebuild reads back: "
        "only the lowest `alerts_read` (10,000) ids are linked again",
        "a value that large is corrupt or forged: check the incident's metadata on the page",
    ),
    "state_rebuild_failed": Event(
        "error",
        "a vendor failed during the rebuild: nothing stored; the next pass retries, reading "
        "only the alerts not read yet",
    ),
    "state_behind_page": Event(
        "warning",
        "the database was behind the page (an older backup restored, a WAL lost): the incident "
        "records a newer write of the daemon's (`metadata.ilert`), so the link takes that state; "
        "nothing is sent again and the write is not taken for a person's",
        "none; check why the database lost its latest commits",
    ),
    "incident_adopted": Event(
        "warning",
        "before a create, the page already showed an unresolved incident whose metadata names the "
        "alert: the database had lost it, so the link takes that incident instead of a second one",
        "none; check why the database lost its latest commits",
    ),
    "state_rebuild_alert_unreadable": Event(
        "warning", "an incident names an alert iLert no longer serves; that incident is skipped"
    ),
    # -- the vendors ---------------------------------------------------------------------
    "service_unreachable": Event(
        "error",
        "first failure of iLert or a Statuspage connector (timeout, refused, DNS, 5xx, "
        "420/429): its remaining work waits for the next pass; one line per outage",
        "see [Troubleshooting](troubleshooting.md): `service_unreachable`",
    ),
    "service_recovered": Event("warning", "first success after an outage, with `down_for_s`"),
    "rate_limit_lowered": Event(
        "warning",
        "a vendor throttled (420/429) after enough traffic: the key's budget is lowered to "
        "what it accepted",
        "lower `requests_per_minute`, or look for another user of the key",
    ),
    "api_read_retry": Event("debug", "a read is retried after a transient failure"),
    "budget_wait": Event(
        "info",
        "a request waits `wait_s` (5 s or more) for the key's window: `requests_in_window` of "
        "`limit` were sent in it, by this process or another on the same key (the service "
        "beside a `sync`, a restart), or the vendor asked for a pause (`paused_by_vendor`)",
        "nothing; a `sync` beside `run` on one key waits for the window rather than be refused",
    ),
    "api_throttled": Event(
        "info",
        "a vendor answered 420/429: the key waits `wait_s` (its `Retry-After`) and the same "
        "request is sent again (a throttled request was not processed); never an outage",
        "nothing once in a while; often: another tool spends the same key, or lower "
        "`requests_per_minute`",
    ),
    "ilert_read_failed": Event(
        "error",
        "listing iLert's alerts failed (a 4xx such as 401/403, an unreadable answer, or a "
        "listing that does not end: more full pages than `GET /api/alerts/count`, counted "
        "twice, allows, or 1,000 pages); "
        "the pass is not ok and uses nothing of that listing",
        '401/403: the iLert key; see [Troubleshooting](troubleshooting.md); "does not end": '
        "iLert's API "
        "misbehaves, check its status",
    ),
    "http_request": Event(
        "debug",
        "one vendor request: `service`, `method`, `path` (no query), `status` (null: no "
        "answer), `duration_s`, `budget_wait_s`; never a header or a key",
    ),
    "ilert_listing_stalled": Event(
        "error",
        "iLert served a full page with nothing new (a loop): the pass syncs what it read, "
        "the next lists anew",
        "if it persists, iLert's API misbehaves",
    ),
    "ilert_count_unusable": Event(
        "warning",
        "`GET /api/alerts/count` failed or answered less than the listing already holds: the "
        "listing goes on, bounded by its repeat guard and 1,000 pages; `reason` says what",
        "if it recurs, check the key's access to the count endpoint",
    ),
    "ilert_timeline_incomplete": Event(
        "warning",
        "an alert's timeline read was still unfinished after 20 passes (it grows faster than "
        "the iLert budget reads it): the entries read are published in time order",
        "raise `ilert.requests_per_minute` if it recurs",
    ),
    "ilert_time_unknown": Event(
        "warning",
        "iLert sent no Date header and no timestamp is known: this pass uses the local clock",
    ),
    "ilert_date_implausible": Event(
        "warning",
        "iLert's Date header is a day or more from this machine's clock; not used",
        "check NTP on the VM, or a proxy rewriting Date",
    ),
    # -- one alert -------------------------------------------------------------------------
    "alert_unreadable": Event(
        "warning",
        "an alert or its timeline is malformed: names the alert and the field; the others sync",
    ),
    "alert_read_failed": Event(
        "warning",
        "iLert will not give a tracked alert to its action (404, or another source's alert): "
        "a trigger not yet published backs off (`failures`, `next_attempt_at`); a published "
        "one is logged once per reason and keeps its incident",
        "`status` shows the reason; `untrigger ACTION ID` ends a mistaken trigger",
    ),
    "alert_deletion_held": Event(
        "warning",
        "deletions confirmed by 404s are held, no incident resolved: `reason` says why (an "
        "alert source of the action answers 404/403 to the key, or more than 3 and more than "
        "half of its open incidents' alerts are missing at once); `alerts` held",
        "check the iLert key's scope and the alert sources; real deletions in bulk: resolve "
        "those incidents by hand",
    ),
    "alert_missing": Event(
        "warning",
        "iLert answers 404 for an alert whose incident is open: `reads` in a row, "
        "`confirm_at`; three 404s over ten minutes (on iLert's clock and this machine's) "
        "resolve the incident as `deleted`; until then the item is deferred (the pass is not ok)",
        "nothing if the alert was deleted; if only the key lost sight of it, restore access "
        "before `confirm_at`",
    ),
    "alert_sync_failed": Event(
        "warning",
        "one alert's sync failed: `failures`, `next_attempt_at`, `error`; retried after one "
        "poll interval, doubling up to an hour",
        "see [Troubleshooting](troubleshooting.md); `status` shows it under PROBLEM",
    ),
    "alert_write_failed": Event(
        "warning",
        "a Statuspage call of one alert failed (5xx, no answer) and the connector was not "
        "judged down in that pass (logged at the pass's end): `failures`, `next_attempt_at`, "
        "`error`; the alert backs off and goes "
        "behind the others, no audit row (a call that may have landed is reconciled first)",
        "`status` shows it under PROBLEM; a lasting one is that incident's: look at it on "
        "Statuspage",
    ),
    "component_write_failed": Event(
        "warning",
        "one component's PATCH failed (5xx, no answer) and the connector was not judged down "
        "in that pass: `failures`, `next_attempt_at`; the page's other components go on, this "
        "one backs off (next pass, then one interval, doubling) behind the others",
        "a lasting one is that component's: look at it on Statuspage",
    ),
    "alert_deferred": Event("debug", "an alert's work waits: its service is down"),
    "alert_held": Event("debug", "an alert is kept off the page for now (`publish_after`)"),
    "alert_store_failed": Event(
        "error", "the database refused this alert's rows: rolled back, retried next pass"
    ),
    "alert_unstorable": Event("error", "a new alert's link could not be stored; skipped this pass"),
    "alert_failure_unrecorded": Event(
        "error", "an alert failed and even its failure could not be stored; retried next pass"
    ),
    "alert_sync_crashed": Event(
        "error",
        "an unexpected exception on one alert (a bug): recorded as a failure and retried",
        'report it; `log_level = "debug"` adds `alert_sync_crashed_detail` with the traceback',
    ),
    "alert_sync_crashed_detail": Event("debug", "the traceback of `alert_sync_crashed`"),
    "write_refused": Event(
        "warning",
        "Statuspage refused an update's body (400/413/422): the events that only carried text "
        "are audited `failed` once and never resent; a status riding with it was sent again "
        "alone (`refused=body`) and is on the page",
        "read the reason in `history --alert ID`",
    ),
    "status_refused": Event(
        "warning",
        "a page refused a status sent alone (e.g. classic `in_progress`); once per page and "
        "process",
        'set `lifecycle = "realtime"`',
    ),
    "duplicate_resolved": Event(
        "warning", "a second incident for one alert was resolved, pointing to the kept one"
    ),
    "duplicate_check_failed": Event(
        "warning", "a page's unresolved incidents could not be listed; checked next pass"
    ),
    "duplicate_resolve_failed": Event(
        "warning", "resolving a duplicate failed; tried again next pass"
    ),
    # -- components ------------------------------------------------------------------------
    "component_human_override": Event(
        "warning",
        "a person set a component to another status than the daemon last set, or it is under "
        "maintenance: left alone until it is back at that status or `operational` (logged once)",
    ),
    "component_missing": Event(
        "warning",
        "a configured component id is not on the page: left out of writes (logged once)",
        "fix `components`; `check` lists the page's components",
    ),
    "component_unreadable": Event(
        "warning", "one entry of a page's component list is malformed: skipped, the others used"
    ),
    "components_unreadable": Event(
        "warning",
        "the component list could not be read for a create: the incident is created without "
        "components, the component step sets them once it can read",
    ),
    "components_refused": Event(
        "warning",
        "Statuspage refused a create for good (400/413/422) while it carried components: the "
        "incident is sent again at once without them, the component step sets them by PATCH",
        "`check` lists the page's components; a refused PATCH is one `failed` row",
    ),
    "component_sync_failed": Event(
        "error",
        "a page's component step failed (a refused write or a database error): retried next pass",
        "read `error`; `history` shows the `failed` row",
    ),
    # -- status bridges -----------------------------------------------------------------
    "bridge_deferred": Event(
        "warning",
        "a status bridge's step met a service down or throttled (`bridge`, `error`): its reads "
        "and writes wait for the next pass",
        "nothing if it passes; see the service's own `*_unreachable` line",
    ),
    "bridge_object_unreadable": Event(
        "warning",
        "iLert listed an incident, service or window a status bridge cannot read (`kind`, "
        "`ilert_id`, `error` naming the field): it is left out, the others are synced",
        "nothing if it passes; else report the field to iLert",
    ),
    "bridge_services_unread": Event(
        "warning",
        "a status bridge could not read iLert's services (`error`): the statuses last read "
        "stay, incidents and windows are synced, and the read is tried again within a minute",
        "read `error`: the iLert key may lack the right to read services",
    ),
    "bridge_sync_failed": Event(
        "error",
        "a status bridge's step failed (an unreadable answer, a refused read, a database error): "
        "retried next pass",
        "read `error`; `check` validates the bridge's ids against both accounts",
    ),
    "bridge_template_failed": Event(
        "error",
        "a status bridge's template failed to render for one iLert object (`subject`, "
        "`ilert_id`, `error` naming the template): that object waits, the others sync",
        "fix the template (`check` renders each against the objects open now), then reload",
    ),
    "bridge_write_refused": Event(
        "error",
        "Statuspage refused a status bridge's write for good (`subject`, `ilert_id`, `error`); "
        "decided and sent again after `retry_in_s` (one interval, doubling, at most an hour)",
        "read `error`: a component id no longer on the page is the usual cause (`check`)",
    ),
    # -- storms and human edits -------------------------------------------------------------
    "human_override": Event(
        "warning",
        "a person changed a mirrored incident's status on Statuspage (or resolved it); the daemon "
        "changes its status no more (`incident`, `from_status`, `to_status`, `alerts`)",
        "nothing: the person's status stands; comments still post while it is unresolved",
    ),
    "human_override_again": Event(
        "debug",
        "a person changed an already overridden incident again (e.g. resolved it); the status the "
        "daemon knows is updated",
    ),
    "storm_waits_for_incident": Event(
        "info",
        'group = "action": another alert\'s create of the shared incident may still land; this '
        "alert waits for the next pass instead of opening a second incident",
    ),
    # -- history -----------------------------------------------------------------------------
    "bookkeeping_batch_refused": Event(
        "warning",
        "the database refused the pass's batched bookkeeping: written alert by alert instead, "
        "only a refused alert is recorded as failed",
        'read `error`; see "The state database fails as one line" in [Reliability](reliability.md)',
    ),
    "history_pruned": Event(
        "info", "a batch of links and audit rows older than `retention_days` was deleted"
    ),
    "history_prune_failed": Event(
        "warning",
        "pruning expired history failed this pass; the pass is not affected, retried next pass",
    ),
}


@dataclass(frozen=True)
class Said:
    """One line of the command line for a person: its level, when it is said, and the exit
    code it ends the command with (None: a note, the command goes on)."""

    level: str
    meaning: str
    exit_code: int | None = None


SAID: dict[str, Said] = {
    "command_failed": Said(
        "error",
        "a failure at run time: a vendor, the state database or its filesystem, a pass with "
        "failing items, the metrics port",
        1,
    ),
    "config_error": Said("error", "one mistake of the config file (one line each)", 2),
    "usage_error": Said(
        "error",
        "a refused argument or request: a bad option, `db downgrade` to an unknown revision, "
        "`trigger` of an alert iLert does not have, `db` while a daemon holds the database, a "
        "`database_url` whose folder is missing",
        2,
    ),
    "internal_error": Said("error", "an unexpected exception (a bug): report it", 70),
    "interrupted": Said("error", "Ctrl-C", 130),
    "trigger_unchecked": Said(
        "warning", "`trigger` stored an alert iLert could not be asked about"
    ),
    "starter_config_written": Said("info", "`discover --write` wrote its starter config"),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_table() -> str:
    """The events as a Markdown table (docs/commands.md), in this module's order."""
    lines = ["| Event | Level | Meaning | What to do |", "|---|---|---|---|"]
    for name, event in EVENTS.items():
        cells = (f"`{name}`", event.level, event.meaning, event.action)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def said_table() -> str:
    """The command line's own events as a Markdown table, with each one's exit code."""
    lines = ["| Event | Level | Exit | When |", "|---|---|---|---|"]
    for name, said in SAID.items():
        exit_code = "its command's" if said.exit_code is None else str(said.exit_code)
        cells = (f"`{name}`", said.level, exit_code, said.meaning)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(said_table() if sys.argv[1:] == ["--said"] else markdown_table())
    sys.stdout.write("\n")
