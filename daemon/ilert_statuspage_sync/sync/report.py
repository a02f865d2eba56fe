"""What one pass did, and how a failure is told in one clean line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.storable import ERROR_LENGTH, clean_text
from ilert_statuspage_sync.errors import SyncError
from ilert_statuspage_sync.runtime.secrets import scrub

__all__ = ["PassReport", "describe_error", "rollback"]

log = structlog.get_logger(__name__)


def describe_error(error: BaseException) -> str:
    """One clean line for a log and a column: no secrets, no SQL, no control characters."""
    if isinstance(error, SyncError):
        text = str(error)
    else:
        # Database errors append the statement and its parameters on later lines.
        lines = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return clean_text(scrub(text))[:ERROR_LENGTH] or type(error).__name__


def rollback(session: Session, *, only_failed: bool = False) -> None:
    """Roll back (when ``only_failed``, only a transaction a failed flush broke); never raise."""
    if only_failed and session.is_active:
        return
    try:
        session.rollback()
    except SQLAlchemyError as error:
        log.error("rollback_failed", error=describe_error(error))


@dataclass
class PassReport:
    """What one pass did, for the exit code, the canonical log line and metrics."""

    started_at: datetime
    ilert_ok: bool = True
    alerts_seen: int = 0
    writes: int = 0
    failed_items: int = 0
    deferred_items: int = 0
    waiting_checks: int = 0
    # Alerts left for the next pass because this one spent its Statuspage allowance (pacing).
    paced_items: int = 0
    lost_leadership: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when iLert was read and every item synced (none failing or waiting to retry)."""
        return (
            self.ilert_ok
            and self.failed_items == 0
            and self.deferred_items == 0
            and not self.lost_leadership
        )
