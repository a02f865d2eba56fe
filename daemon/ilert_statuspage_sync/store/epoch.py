"""The leadership epoch fences a deposed leader's commits; the database's clock.

Each process that becomes leader raises the epoch (under the leader lock) and
remembers the value. Every commit of its sessions first runs
``UPDATE leader_epoch SET epoch = epoch WHERE epoch = <ours>`` in the same
transaction: once a newer leader has raised it, no row matches and the commit is
refused with ``LeadershipLostError``. On PostgreSQL the row lock orders the two:
a claim waits for a commit in progress, and a commit after the claim sees the
new epoch. So whatever a new leader reads after its claim can no longer be
overwritten by the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from ilert_statuspage_sync.errors import LeadershipLostError
from ilert_statuspage_sync.store.tables import LeaderEpoch

__all__ = ["EPOCH_ROW", "claim_epoch", "database_now", "fence_sessions"]

EPOCH_ROW = 1


def database_now(connection: Session | sa.Connection) -> datetime:
    """The database server's clock (aware UTC): one clock for every replica."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    if bind.dialect.name == "postgresql":
        value = connection.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    # SQLite is a local file: its clock is this machine's.
    text = connection.execute(sa.text("SELECT strftime('%Y-%m-%dT%H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


def claim_epoch(engine: sa.Engine, instance: str) -> int:
    """Raise the epoch for this new leader and return it; call only holding the leader lock."""
    with engine.begin() as connection:
        now = database_now(connection)
        raised = connection.execute(
            sa.update(LeaderEpoch)
            .where(LeaderEpoch.id == EPOCH_ROW)
            .values(epoch=LeaderEpoch.epoch + 1, instance_id=instance, claimed_at=now)
        )
        if raised.rowcount == 0:
            connection.execute(
                sa.insert(LeaderEpoch).values(
                    id=EPOCH_ROW, epoch=1, instance_id=instance, claimed_at=now
                )
            )
        epoch = connection.execute(
            sa.select(LeaderEpoch.epoch).where(LeaderEpoch.id == EPOCH_ROW)
        ).scalar_one()
    return int(epoch)


def fence_sessions(sessions: sessionmaker[Session], epoch: int) -> sessionmaker[Session]:
    """Make every commit of ``sessions`` check, in its own transaction, that ``epoch`` leads."""

    def check(session: Session) -> None:
        if session.get_bind().dialect.name == "postgresql":
            # A leader that vanishes between this check and its COMMIT must not hold
            # the epoch row (and so the next leader's claim) for hours.
            session.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '30s'"))
        still = session.execute(
            sa.update(LeaderEpoch)
            .where(LeaderEpoch.id == EPOCH_ROW, LeaderEpoch.epoch == epoch)
            .values(epoch=LeaderEpoch.epoch)
            .execution_options(synchronize_session=False)
        )
        if still.rowcount != 1:  # type: ignore[attr-defined]
            raise LeadershipLostError(
                f"leadership epoch {epoch} is over (a newer leader took over); commit refused"
            )

    sa.event.listen(sessions, "before_commit", check)
    return sessions
