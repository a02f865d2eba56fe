"""group = "action": where an alert goes, and how its link shares the incident."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from ilert_statuspage_sync.config import IncidentAction
from ilert_statuspage_sync.core.storm import Target
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.held import Held
from ilert_statuspage_sync.store.tables import Link
from ilert_statuspage_sync.sync.pass_state import PassState, Work
from ilert_statuspage_sync.sync.persistence import Books

__all__ = ["Grouping", "grouped"]


def grouped(action: IncidentAction, link: Link) -> bool:
    """Whether the alert takes part in a shared incident: its action groups, or it joined one.

    An alert linked while ``group = "action"`` keeps its share after the config
    switched back to ``"alert"``: its incident resolves with its last alert, not its first.
    """
    return action.group == "action" or link.alert_status is not None


class Grouping:
    """The storm side of one pass, over the pass's shares (``PassState.shares``)."""

    def __init__(self, books: Books) -> None:
        self.books = books

    def target(self, p: PassState, item: Work) -> Target | None:
        """Where the alert goes (``core.storm``); None for one incident per alert."""
        if not grouped(item.action, item.link):
            return None
        view = p.shares[item.action.name]
        return view.target(item.link, item.alert.id, self._unstored(p, item.action))

    def edited(self, p: PassState, item: Work) -> Target | None:
        """``target`` after a person's edit was recorded mid-pass: the views read again.

        The edit changed rows no decision of this pass wrote (the incident's status
        and override flag on every link of it): a view read before would join an
        incident the person resolved, or miss their status.
        """
        for view in p.shares.values():
            view.drop()
        return self.target(p, item)

    def openers(self, p: PassState, item: Work) -> list[Link]:
        """This pass's links of the alerts whose create the storm of ``item`` waits for."""
        waited = set(p.shares[item.action.name].openers(item.alert.id))
        held = p.links.get(item.action.name, ())
        return [h.link for h in held if h.facts.alert_id in waited and _exists(h)]

    def siblings(
        self, p: PassState, session: Session, action: IncidentAction
    ) -> Callable[[Link], None]:
        """What an applier calls once a link took its incident: every sibling shares it."""

        def share(link: Link) -> None:
            if not grouped(action, link):
                return
            view = p.shares[action.name]
            if self.books.holds_share(view, link):
                return  # every link of the incident holds it already: no statement
            repo.share_incident(session, link, self._unstored(p, action))
            view.shared(link)

        return share

    def _unstored(self, p: PassState, action: IncidentAction) -> list[Link]:
        """A dry run's new links of this pass: never added to the session, seen all the same."""
        # A link never built was read from the database: stored, so never unstored.
        return self.books.unstored(h.link for h in p.links.get(action.name, ()) if h.built)


def _exists(held: Held) -> bool:
    """Whether the link is still stored (built now if not yet): an untrigger may delete it."""
    try:
        held.link  # noqa: B018 - built for the caller
    except LookupError:
        return False
    return True
