"""Steps 5 and 8 of a pass: what it learnt of quiet alerts, in one batch; expired history."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.core.model import AlertStatus
from ilert_statuspage_sync.core.retention import PRUNE_BATCH, prune_cutoff
from ilert_statuspage_sync.errors import DatabaseReplacedError, LeadershipLostError
from ilert_statuspage_sync.runtime import shutdown
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.sync.pass_state import PassState, Work
from ilert_statuspage_sync.sync.persistence import Books
from ilert_statuspage_sync.sync.report import describe_error, rollback

__all__ = ["Bookkeeping"]

log = structlog.get_logger(__name__)

# Records a quiet alert's refused bookkeeping as its failure (the alert step's record).
RecordError = Callable[[Session, Work, SQLAlchemyError], None]


class Bookkeeping:
    """What a pass learnt of each alert, stored in one batch at its end; and pruning."""

    def __init__(self, config: Config, books: Books) -> None:
        self.config, self.books = config, books

    def settle(
        self,
        session: Session,
        p: PassState,
        item: Work,
        values: dict[str, object],
        *,
        changed: bool,
    ) -> None:
        """Store what this pass learnt of an alert: in the pass's batch, unless rows are pending.

        Every write, its outcome and its audit rows are committed already (the
        applier commits an intent before each request and the outcome after
        it). What is left is bookkeeping (when the timeline was read, its
        cursor, the summary, open or not, the failure count reset): losing it
        to a crash costs one more read, never a duplicate, so it waits for one
        statement and commit at the end of the pass. It is kept off the
        session's changes, so no other alert's commit or rollback carries it.
        """
        link, alert = item.link, item.alert
        values = {
            **values,
            "alert_summary": alert.summary[:255],
            "is_open": alert.status != AlertStatus.RESOLVED,
            "failures": 0,
            "last_error": None,
            "next_attempt_at": None,
            "missing_since": None,
            "missing_reads": 0,
        }
        if changed or link.id is None:
            for name, value in values.items():
                setattr(link, name, value)
            self.books.commit(session)
            return
        for name, value in values.items():
            set_committed_value(link, name, value)
        p.batched[link.id] = (item, values)

    def save_batched(self, session: Session, p: PassState, record_error: RecordError) -> None:
        """Write the batched bookkeeping in one statement; if refused, alert by alert."""
        batched, p.batched = p.batched, {}
        try:
            repo.save_columns(session, [{"id": key, **row} for key, (_, row) in batched.items()])
            self.books.commit(session)
            return
        except (LeadershipLostError, DatabaseReplacedError, OperationalError):
            raise
        except SQLAlchemyError as error:
            rollback(session)
            log.warning("bookkeeping_batch_refused", error=describe_error(error))
        for key, (item, values) in batched.items():
            try:
                repo.save_columns(session, [{"id": key, **values}])
                self.books.commit(session)
            except (LeadershipLostError, DatabaseReplacedError, OperationalError):
                raise
            except SQLAlchemyError as error:
                record_error(session, item, error)

    def prune(self, session: Session, p: PassState) -> None:
        """Delete one batch of expired history (``core.retention``); never stops the pass."""
        if not self.books.prunes or p.since is None or shutdown.stop_requested():
            return
        cutoff = prune_cutoff((p.now, p.ilert_date), self.config.retention_days, p.since)
        if cutoff is None:
            return
        try:
            links = repo.expired_links(session, cutoff, PRUNE_BATCH)
            audit = repo.expired_transitions(session, cutoff, PRUNE_BATCH)
            if not links and not audit:
                return
            repo.delete_links(session, links)
            repo.delete_transitions(session, audit)
            session.commit()
        except (LeadershipLostError, DatabaseReplacedError):
            raise
        except SQLAlchemyError as error:
            rollback(session)
            log.warning("history_prune_failed", error=describe_error(error))
            return
        log.info(
            "history_pruned", links=len(links), audit_rows=len(audit), before=cutoff.isoformat()
        )
