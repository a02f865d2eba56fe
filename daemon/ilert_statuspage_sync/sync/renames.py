"""``previous_names``: a renamed incident action keeps its links, carried once per process.

Links are keyed by action name. Without this, a rename made every open alert
look new to the renamed action (a second incident each) while the old links
stayed open forever. The carry runs at the start of a pass, in the leader's
fenced session, before anything reads the action states or links; a second
replica (or a restart) finds nothing left to move and logs nothing.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.store.renames import carry_links
from ilert_statuspage_sync.sync.persistence import Books

__all__ = ["Renames"]

log = structlog.get_logger(__name__)


class Renames:
    """Carries each previous name's links to its action, once per process."""

    def __init__(self, config: Config) -> None:
        actions = config.incident_actions
        self._due = [(old, action.name) for action in actions for old in action.previous_names]

    def carry(self, session: Session, books: Books) -> None:
        """Move what the previous names still hold; committed (a dry run: flushed only)."""
        if not self._due:
            return
        carried = {(old, new): carry_links(session, old, new) for old, new in self._due}
        books.commit(session)
        if not books.dry_run:  # a dry run's session is rolled back: carried again next pass
            self._due = []
        for (old, new), done in carried.items():
            if done.links or done.left:
                log.info(
                    "action_renamed",
                    previous_name=old,
                    incident_action=new,
                    links_moved=done.links,
                    links_left=done.left,
                    dry_run=books.dry_run,
                )
