"""``previous_names``: a renamed incident action keeps its links, carried at any pass.

Links are keyed by action name. Without this, a rename made every open alert
look new to the renamed action (a second incident each) while the old links
stayed open forever. Each pass starts with one indexed probe for rows still
under a previous name (none in the normal case); only when it finds some are
they carried, in the leader's fenced session, before anything reads the action
states or links. So links a replica still on the old config made while it led
(a rolling rename) are carried at the next pass of a process on the new one.
"""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session

from ilert_statuspage_sync.config import Config
from ilert_statuspage_sync.store.renames import Carried, carry_links, held_under
from ilert_statuspage_sync.sync.persistence import Books

__all__ = ["Renames"]

log = structlog.get_logger(__name__)


class Renames:
    """Carries each previous name's links to its action, whenever some are still stored."""

    def __init__(self, config: Config) -> None:
        actions = config.incident_actions
        self._due = [(old, action.name) for action in actions for old in action.previous_names]
        # What was last logged per rename: links left behind are not logged again each pass.
        self._said: dict[tuple[str, str], Carried] = {}

    def carry(self, session: Session, books: Books) -> None:
        """Move what the previous names still hold; committed (a dry run: flushed only)."""
        if not self._due or not held_under(session, [old for old, _ in self._due]):
            return
        carried = {(old, new): carry_links(session, old, new) for old, new in self._due}
        books.commit(session)
        for (old, new), done in carried.items():
            if (done.links or done.left) and self._said.get((old, new)) != done:
                log.info(
                    "action_renamed",
                    previous_name=old,
                    incident_action=new,
                    links_moved=done.links,
                    links_left=done.left,
                    dry_run=books.dry_run,
                )
            self._said[(old, new)] = Carried(0, done.left)  # moved ones are gone next pass
