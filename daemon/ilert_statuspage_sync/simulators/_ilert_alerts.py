"""The iLert simulator's alert controls: what people and monitors do to an alert.

Each control changes the alert and appends the log entry the real timeline
would show; the raw controls plant (maybe malformed) alerts and timelines.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ilert_statuspage_sync.simulators._ilert_records import (
    ESCALATION_TIMEOUT,
    JsonObject,
    check_new_alert,
    first_responder_id,
    full_name,
    new_alert,
    policy_ref,
    render_entry,
    responder,
    responder_ids,
)
from ilert_statuspage_sync.simulators._ilert_sources import AlertSources
from ilert_statuspage_sync.simulators._server import format_timestamp

__all__ = ["AlertControls"]


class AlertControls(AlertSources):
    """Thread-safe Python controls of the simulated alerts and their timelines."""

    def create_alert(
        self,
        source_id: int,
        summary: str,
        details: str = "",
        priority: str = "HIGH",
        report_time: datetime | None = None,
        responder_id: int = 1,
        escalation_policy_id: int | None = None,
        *,
        alert_key: str | None = None,
        created_by: int | None = None,
    ) -> int:
        """Open a PENDING alert with one pending responder; returns its id.

        A source added with `add_alert_source` lends the alert its name and (unless
        `escalation_policy_id` is given) its escalation policy. `alert_key` replaces
        the generated `sim-alert-{id}`; `created_by` (a user id) makes it a manual
        alert, logged as created by that user instead of received from the source.
        """
        check_new_alert(priority, report_time)
        with self._lock:
            now = self.now()
            reported = report_time or now
            alert_id = self._take_alert_id()
            source = self._alert_sources.get(source_id)
            fields = {
                "summary": summary,
                "details": details,
                "priority": priority,
                "escalationPolicy": policy_ref(source, escalation_policy_id),
                "responder_id": responder_id,
            }
            alert = new_alert(alert_id, source_id, source, fields, now=now, reported=reported)
            if alert_key is not None:
                alert["alertKey"] = alert_key
            self._alerts[alert_id] = alert
            if created_by is None:
                self._log_received(alert_id, alert["alertSource"]["name"], reported)
            else:
                name = full_name(created_by)
                text = f"Alert created by {name}"
                self._log(alert_id, "AlertCreatedByUserLogEntry", text, {"user": name}, at=reported)
            return alert_id

    def _log_received(self, alert_id: int, source_name: str, reported: datetime) -> None:
        text = f"New alert received from alert source '{source_name}'"
        variables = {"alertSourceName": source_name}
        self._log(alert_id, "AlertReceivedLogEntry", text, variables, at=reported)

    def accept(self, alert_id: int, user_id: int | None = None) -> None:
        """A responder (default: the first) accepts; escalation stops."""
        with self._lock:
            alert = self._open_alert(alert_id)
            user_id = first_responder_id(alert) if user_id is None else user_id
            now = format_timestamp(self.now())
            self._responder_of(alert, user_id).update(status="ACCEPTED", acceptedAt=now)
            alert.update(status="ACCEPTED", nextEscalation=None)
            name = full_name(user_id)
            self._log(
                alert_id, "UserResponseLogEntry", f"{name} accepted the alert", {"user": name}
            )

    def resolve(self, alert_id: int, user_id: int | None = None) -> None:
        """A user (default: the first responder) resolves the alert manually."""
        with self._lock:
            alert = self._open_alert(alert_id)
            user_id = first_responder_id(alert) if user_id is None else user_id
            now = format_timestamp(self.now())
            alert.update(status="RESOLVED", resolvedOn=now, nextEscalation=None)
            name = full_name(user_id)
            self._log(
                alert_id, "UserResponseLogEntry", f"{name} resolved the alert", {"user": name}
            )

    def comment(
        self,
        alert_id: int,
        content: str,
        *,
        system: bool = False,
        user_id: int | None = None,
        author: str | None = None,
    ) -> int:
        """Add a comment (by a user, or by the system); returns the log entry id.

        `author` names a creator outside the user list (an Events API comment's `creator`).
        """
        with self._lock:
            alert = self._managed(alert_id)
            if system:
                entry_type, author = "AlertCommentAddedBySystemLogEntry", "ilert"
            else:
                entry_type = "AlertCommentAddedLogEntry"
                if author is None:
                    author = full_name(first_responder_id(alert) if user_id is None else user_id)
            return self._log(alert_id, entry_type, content, {"comment": content, "author": author})

    def escalate(self, alert_id: int) -> int:
        """Fire the next escalation rule; adds and returns a new responder's user id."""
        with self._lock:
            alert = self._managed(alert_id)
            if alert["status"] != "PENDING":
                raise ValueError(f"alert {alert_id} is {alert['status']}; only PENDING escalates")
            level = int(alert["nextEscalationRuleIndex"]) + 1
            new_user = max(responder_ids(alert), default=0) + 1
            alert["responders"].append(responder(new_user))
            alert["nextEscalationRuleIndex"] = level
            alert["nextEscalation"] = format_timestamp(self.now() + ESCALATION_TIMEOUT)
            text = f"Alert escalated to level {level}: notifying {full_name(new_user)}"
            self._log(alert_id, "AlertEscalatedToLevelLogEntry", text, {"level": str(level)})
            return new_user

    def reassign(self, alert_id: int, user_id: int) -> None:
        """Assign the alert to one user; it becomes PENDING again, as in iLert."""
        with self._lock:
            alert = self._open_alert(alert_id)
            alert["responders"] = [responder(user_id)]
            alert["status"] = "PENDING"
            alert["nextEscalation"] = format_timestamp(self.now() + ESCALATION_TIMEOUT)
            name = full_name(user_id)
            text = f"Alert assigned to {name}"
            self._log(alert_id, "AlertAssignedByUserLogEntry", text, {"assignee": name})

    def raise_priority(self, alert_id: int) -> None:
        """Raise a LOW alert to HIGH."""
        with self._lock:
            alert = self._open_alert(alert_id)
            if alert["priority"] != "LOW":
                raise ValueError(f"alert {alert_id} is already {alert['priority']}")
            alert["priority"] = "HIGH"
            text = "Alert priority raised from LOW to HIGH"
            self._log(alert_id, "AlertRaisedByUserLogEntry", text, {"priority": "HIGH"})

    # -- raw data ------------------------------------------------------------

    @property
    def alerts_served(self) -> int:
        """How many alert objects the API has served so far (list items plus reads by id)."""
        with self._lock:
            return self._alerts_served

    def set_raw_alert(self, alert_id: int, payload: dict[str, Any]) -> None:
        """Serve `payload` verbatim as alert `alert_id` (may be malformed on purpose)."""
        with self._lock:
            self._alerts[alert_id] = copy.deepcopy(payload)
            self._generation += 1
            self._log_entries.setdefault(alert_id, [])
            self._next_alert_id = max(self._next_alert_id, alert_id + 1)

    def add_raw_alert(self, payload: dict[str, Any]) -> int:
        """Plant `payload` verbatim; keyed by its int `id`, else a fresh id. Returns the key."""
        with self._lock:
            given = payload.get("id")
            alert_id = (
                given
                if isinstance(given, int) and not isinstance(given, bool)
                else self._take_alert_id()
            )
            self.set_raw_alert(alert_id, payload)
            return alert_id

    def set_raw_log_entries(self, alert_id: int, entries: list[dict[str, Any]]) -> None:
        """Serve `entries` (oldest first) verbatim as the alert's timeline (may be malformed)."""
        with self._lock:
            self._stored(alert_id)
            self._log_entries[alert_id] = [
                {"filterTypes": ["ALERT_UPDATES"], **copy.deepcopy(entry)} for entry in entries
            ]
            # Entry ids grow with time in iLert: a later control's entry is newer than these
            # (fuzzed ids at the edge of int64 are left out: the next id must stay readable).
            planted = [
                e["id"] for e in entries if isinstance(e.get("id"), int) and 0 <= e["id"] < 2**53
            ]
            self._next_log_entry_id = max([self._next_log_entry_id, *(i + 1 for i in planted)])

    def set_log_order(self, *, newest_first: bool) -> None:
        """Serve every timeline newest first (the default) or oldest first: iLert documents
        neither, so the daemon must be right under both."""
        with self._lock:
            self._log_newest_first = newest_first

    def delete_alert(self, alert_id: int) -> JsonObject:
        """A person deletes the alert: every read of it (and its timeline) answers 404 from now
        on, as iLert answers for an alert that does not exist. Returns what it was."""
        with self._lock:
            alert = self._alerts.pop(alert_id)
            self._log_entries.pop(alert_id, None)
            self._generation += 1
            return alert

    def set_endless_listing(self, pages: int | None = None, *, endless: bool = True) -> None:
        """Break `GET /api/alerts`: pages come back full, padded with fresh alerts that exist
        nowhere else, forever (or, with `pages`, until that many pages were served); so the
        listing does not end. `GET /api/alerts/count` stays honest. `endless=False` mends it."""
        with self._lock:
            self._endless_listing = (pages if pages is not None else True) if endless else None

    def alert(self, alert_id: int) -> JsonObject:
        """A deep copy of the alert as the API would serve it."""
        with self._lock:
            return copy.deepcopy(self._alerts[alert_id])

    def log_entries(self, alert_id: int) -> list[JsonObject]:
        """Deep copies of an alert's log entries, newest first, with `vars`."""
        with self._lock:
            entries = self._log_entries[alert_id]
            return [render_entry(entry, with_vars=True) for entry in reversed(entries)]
