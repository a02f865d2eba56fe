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
from ilert_statuspage_sync.store.audit import write_audits
from ilert_statuspage_sync.sync.pass_state import Carryover, Filtered, PassState, Work
from ilert_statuspage_sync.sync.persistence import Books
from ilert_statuspage_sync.sync.report import describe_error, rollback

__all__ = ["Bookkeeping"]

log = structlog.get_logger(__name__)

# Records a quiet alert's refused bookkeeping as its failure (the alert step's record).
RecordError = Callable[[Session, Work, SQLAlchemyError], None]


class Bookkeeping:
    """What a pass learnt of each alert, stored in one batch at its end; and pruning.

    The batch also carries the "filtered" audit rows of alerts first kept off
    the page in the pass: the trail's record of a decision that changed nothing
    on Statuspage, so a kill before the batch loses only rows the next process
    writes again (it finds the alert's newest row is not that "filtered").
    """

    def __init__(self, config: Config, books: Books, carry: Carryover) -> None:
        self.config, self.books, self.carry = config, books, carry

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
        """Write the batched bookkeeping and "filtered" rows in one commit; if refused, by alert."""
        batched, p.batched = p.batched, {}
        audits = self._unaudited(session, p)
        try:
            self._write(session, p, audits)
            repo.save_columns(session, [{"id": key, **row} for key, (_, row) in batched.items()])
            self.books.commit(session)
            self._audited(audits)
            return
        except (LeadershipLostError, DatabaseReplacedError, OperationalError):
            raise
        except SQLAlchemyError as error:
            rollback(session)
            log.warning("bookkeeping_batch_refused", error=describe_error(error))
        alone = [(item, None) for item in {id(a.item): a.item for a in audits}.values()]
        alone = [a for a in alone if a[0].link.id not in batched]
        for item, values in [*batched.values(), *alone]:
            mine = [audit for audit in audits if audit.item is item]
            try:
                self._write(session, p, mine)
                if values is not None:
                    repo.save_columns(session, [{"id": item.link.id, **values}])
                self.books.commit(session)
                self._audited(mine)
            except (LeadershipLostError, DatabaseReplacedError, OperationalError):
                raise
            except SQLAlchemyError as error:
                record_error(session, item, error)

    def _unaudited(self, session: Session, p: PassState) -> list[Filtered]:
        """The pass's filtered alerts whose newest audit row is not already that "filtered".

        One lookup for all of them (a restart forgets what was audited; the
        trail remembers): the reason is written once, not once per process.
        """
        pending, p.filtered = p.filtered, []
        if not pending:
            return []
        keys = [(a.item.action.name, a.item.alert.id) for a in pending]
        newest = repo.newest_outcomes(session, keys)
        said = [(newest.get(key), a) for a, key in zip(pending, keys, strict=True)]
        known = [a for row, a in said if row and (row.outcome, row.reason) == _said(a)]
        self._audited(known)
        return [a for a in pending if a not in known]

    def _write(self, session: Session, p: PassState, audits: list[Filtered]) -> None:
        """The "filtered" rows, in one statement (none in a dry run: logged only)."""
        records = [audit.record for audit in audits]
        write_audits(session, records, at=p.now, dry_run=self.books.dry_run)

    def _audited(self, audits: list[Filtered]) -> None:
        """Remember each reason as audited, so later passes of this process skip the lookup."""
        for audit in audits:
            self.carry.filtered[audit.item.action.name, audit.item.alert.id] = str(
                audit.record.reason
            )

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


def _said(audit: Filtered) -> tuple[str, str | None]:
    """The newest audit row that already records this filtered alert's reason (as stored:
    cleaned, keyless and clipped to its column, else a long reason never matches)."""
    return ("filtered", repo.stored_reason(audit.record.reason))
