"""How a pass keeps its books: stored and committed, or (a dry run) flushed and forgotten.

Chosen once per ``Syncer``: every difference of a dry run in the pass's own
bookkeeping lives here, so the pass itself never asks whether it is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.attribution import item_delay
from ilert_statuspage_sync.core.backoff import deleted_incident, retry_delay
from ilert_statuspage_sync.core.human_edits import DELETED_STATUS
from ilert_statuspage_sync.core.storable import ERROR_LENGTH
from ilert_statuspage_sync.store.tables import ActionState, Link
from ilert_statuspage_sync.sync.apply import Applier
from ilert_statuspage_sync.sync.pass_state import Work
from ilert_statuspage_sync.sync.report import describe_error, rollback
from ilert_statuspage_sync.sync.storm import PassShares

__all__ = ["Books", "DryBooks", "books_for"]

log = structlog.get_logger(__name__)


class Books:
    """The daemon's books: every change is committed."""

    dry_run = False
    # Settle another process's interrupted write, rebuild links, pace, prune.
    reconciles = True
    rebuilds = True
    paces = True
    prunes = True

    def __init__(self, poll_interval: float) -> None:
        self.poll_interval = poll_interval

    def commit(self, session: Session) -> None:
        """Make this step's changes last."""
        session.commit()

    def track(self, session: Session, work: list[Work]) -> list[Work]:
        """Commit the new links; if the database refuses, keep each one it accepts."""
        # A link never built was read from the database: only built ones can be new.
        session.add_all(item.link for item in work if _new(item))
        try:
            session.commit()
            return work
        except SQLAlchemyError as error:
            session.rollback()
            log.warning("links_store_failed", error=describe_error(error))
        kept = []
        for item in work:
            if _new(item) and not _stored(session, item):
                continue
            kept.append(item)
        return kept

    def activate(self, states: Mapping[str, ActionState], remembered: dict[str, datetime]) -> None:
        """A dry run keeps the activation times it made up; stored ones need nothing."""

    def must_commit_states(self, session: Session) -> bool:
        """Whether the action states are committed now (a known one waits for the pass's end)."""
        return bool(session.new)

    def unstored(self, links: Iterable[Link]) -> list[Link]:
        """This pass's links never added to the session (a dry run's new ones)."""
        return []

    def holds_share(self, view: PassShares, link: Link) -> bool:
        """Whether every link of the incident holds it already (no statement needed)."""
        return view.holds(link)

    def defer(self, session: Session, link: Link, error: Exception) -> None:
        """A service is down: the alert's work is rolled back, the reason kept."""
        session.rollback()
        link = session.merge(link)
        link.last_error = describe_error(error)[:ERROR_LENGTH]
        session.commit()

    def back_off(self, session: Session, link: Link, error: Exception, now: datetime) -> None:
        """A call only this alert saw fail: its work rolled back, retried after its delay.

        No audit row: the server may have applied it (the intent is reconciled
        first), and a failure that heals by itself is no transition.
        """
        session.rollback()
        link = session.merge(link)
        link.failures += 1
        link.last_error = describe_error(error)[:ERROR_LENGTH]
        link.next_attempt_at = now + item_delay(link.failures, self.poll_interval)
        session.commit()
        log.warning(
            "alert_write_failed",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            failures=link.failures,
            next_attempt_at=link.next_attempt_at.isoformat(),
            error=link.last_error,
        )

    def put_behind(self, session: Session, link: Link) -> None:
        """Failed in an outage: no delay, but tried after the items that are not failing."""
        session.rollback()
        link = session.merge(link)
        link.failures = max(link.failures, 1)
        link.next_attempt_at = None
        session.commit()

    def fail(
        self, session: Session, applier: Applier, link: Link, events: list[str], error: Exception
    ) -> None:
        """Record the refused alert: back-off, audit row; a deleted incident ends the mirror."""
        message = describe_error(error)
        session.rollback()
        link = session.merge(link)
        link.failures += 1
        link.last_error = message[:ERROR_LENGTH]
        link.next_attempt_at = applier.now + retry_delay(link.failures, self.poll_interval)
        if deleted_incident(error, published=bool(link.statuspage_incident_id)):
            # Someone deleted the incident on Statuspage: a human decision wins. Closing
            # the link is not enough (an alert iLert lists again reopens it): as when the
            # page read finds the incident gone, it is a person's resolve, never written to.
            link.is_open = False
            link.human_override = True
            link.statuspage_status = DELETED_STATUS
            message = (
                f"the incident was deleted on Statuspage; alert no longer mirrored ({message})"
            )
        applier.record_failure(link, events or ["sync"], message)
        session.commit()
        log.warning(
            "alert_sync_failed",
            alert_id=link.alert_id,
            incident_action=link.incident_action,
            failures=link.failures,
            next_attempt_at=link.next_attempt_at.isoformat() if link.next_attempt_at else None,
            error=message,
        )


class DryBooks(Books):
    """A dry run's books: flushed so the pass reads its own changes, never committed."""

    dry_run = True
    reconciles = False
    rebuilds = False
    paces = False
    prunes = False

    def commit(self, session: Session) -> None:
        """Flush only: the session is rolled back at its end."""
        session.flush()

    def track(self, session: Session, work: list[Work]) -> list[Work]:
        """New links stay out of the session (``unstored``)."""
        self.commit(session)
        return work

    def activate(self, states: Mapping[str, ActionState], remembered: dict[str, datetime]) -> None:
        """An action never polled keeps the activation time of this process's first pass."""
        for name, state in states.items():
            if state.last_poll_at is None:
                state.activated_at = remembered.setdefault(name, state.activated_at)

    def must_commit_states(self, session: Session) -> bool:
        """Always flushed: nothing is stored at the pass's end either."""
        return True

    def unstored(self, links: Iterable[Link]) -> list[Link]:
        """A dry run's new links of this pass: never added to the session, seen all the same."""
        return [link for link in links if sa.inspect(link).transient]

    def holds_share(self, view: PassShares, link: Link) -> bool:
        """Never assumed: a dry run's shares are not stored."""
        return False

    def defer(self, session: Session, link: Link, error: Exception) -> None:
        """Nothing is stored: only a failed flush is rolled back."""
        rollback(session, only_failed=True)

    def back_off(self, session: Session, link: Link, error: Exception, now: datetime) -> None:
        """Nothing is stored: only a failed flush is rolled back."""
        rollback(session, only_failed=True)

    def put_behind(self, session: Session, link: Link) -> None:
        """Nothing is stored: only a failed flush is rolled back."""
        rollback(session, only_failed=True)

    def fail(
        self, session: Session, applier: Applier, link: Link, events: list[str], error: Exception
    ) -> None:
        """Nothing is stored: the failure is logged only."""
        rollback(session, only_failed=True)
        message = describe_error(error)
        log.warning("alert_sync_failed", alert_id=link.alert_id, error=message, dry_run=True)


def books_for(dry_run: bool, poll_interval: float) -> Books:
    """The books of a daemon, or of a dry run."""
    return DryBooks(poll_interval) if dry_run else Books(poll_interval)


def _stored(session: Session, item: Work) -> bool:
    session.add(item.link)
    try:
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        where = {"alert_id": item.alert.id, "incident_action": item.action.name}
        log.error("alert_unstorable", **where, error=describe_error(error))
        return False
    return True


def _new(item: Work) -> bool:
    """Whether the item's link was made this pass and never stored."""
    return item.held.built and sa.inspect(item.link).transient
