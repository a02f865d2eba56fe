"""group = "action": an action's shares, read once per pass and kept current in memory.

Where an alert goes depends on every share of the action that may take part in
an open shared incident. Reading them per alert made a storm pass quadratic
(n alerts x n rows). Instead the first storm alert of the pass reads them once
(``repo.open_shares``) into a ``core.storm.Ledger`` (each decision reads its
incident's running totals, not every share), and each decision applied in this
process updates the view: the alert's own share from its link as stored, and
its incident's status and override flag on the incident's other shares (what
``repo.share_incident`` wrote to their rows in the same commit).

No decision is taken on a stale view: this process is the only writer of these
rows while it leads (epoch fencing refuses a former leader's commits), and
another replica's in-flight create is in the rows read as ``creating``. A
failure that leaves the link unreadable drops the view; the next alert reads
it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ilert_statuspage_sync.core.storm import Ledger, Target, target_for
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link

__all__ = ["PassShares"]


class PassShares:
    """One action's shares for one pass: read at first use, updated as decisions land."""

    def __init__(self, session: Session, action: str) -> None:
        self._session = session
        self._action = action
        # alert id -> (link id, share), oldest link first, with each incident's running
        # totals; None: not read (or dropped).
        self._shares: Ledger | None = None
        # Incidents whose every link is in the view: open ones read (all links of an
        # incident hold its status), and those opened in this pass.
        self._complete: set[str] = set()
        # Incident -> (status, override) every one of its shares in the view holds, as
        # ``shared`` left them; dropped when a share of it is taken with another.
        self._held: dict[str, tuple[str | None, bool]] = {}

    def _view(self) -> Ledger:
        if self._shares is None:
            found = repo.open_shares(self._session, self._action)
            self._shares = Ledger(found)
            self._complete = {s.incident_id for _id, s in found if s.incident_id is not None}
            self._held = {}
        return self._shares

    def drop(self) -> None:
        """Forget the view: rows changed outside its decisions (a person's edit, read mid-pass)."""
        self._shares, self._complete, self._held = None, set(), {}

    def holds(self, link: Link) -> bool:
        """Whether every link of ``link``'s incident already holds its status and flag.

        Then ``repo.share_incident`` would change no row: it is skipped, so a storm
        pass does not rewrite all n links of its incident for each of its n alerts.
        """
        incident = link.statuspage_incident_id
        if self._shares is None or incident is None or incident not in self._complete:
            return False
        status, override = link.statuspage_status, link.human_override
        if self._held.get(incident) == (status, override):
            return True  # what ``shared`` left, unchanged since: no look at each share
        return all(
            share.incident_status == status and share.human_override == override
            for _link_id, share in self._shares
            if share.incident_id == incident
        )

    def target(self, link: Link, alert_id: int, unstored: Iterable[Link] = ()) -> Target:
        """Where ``alert_id`` goes (``core.storm.target_for``) as ``link``'s decision sees it.

        It sees the shares that may share and its own, read from ``link`` (the
        current state, flushed or not), last. ``unstored``: a dry run's new
        links, never in the database, seen after it.
        """
        view = self._view()
        own = None if sa.inspect(link).transient else repo.share_of(link)
        extra = [repo.share_of(other) for other in unstored]
        if not extra and link.alert_id == alert_id:
            return view.target(alert_id, own)  # from the incident's running totals
        return target_for(alert_id, [*view.listed(link.alert_id, own), *extra])

    def openers(self, alert_id: int) -> list[int]:
        """The alerts (ids) other than ``alert_id`` whose create may still be landing."""
        view = self._view()
        return [s.alert_id for _id, s in view if s.creating and s.alert_id != alert_id]

    def shared(self, link: Link) -> None:
        """``repo.share_incident(link)`` ran: the incident's shares take its status and flag."""
        if self._shares is None or link.statuspage_incident_id is None:
            return
        incident = link.statuspage_incident_id
        own = self._shares.get(link.alert_id)
        if own is not None and own[1].incident_id is None:
            # Its create (or the create adopted after a crash): no other link has it yet.
            self._complete.add(incident)
        status, override = link.statuspage_status, link.human_override
        if self._held.get(incident) == (status, override):
            return  # every share of the incident holds them already
        for link_id, share in list(self._shares):
            if share.incident_id != incident:
                continue
            if share.incident_status != status or share.human_override != override:
                self._shares.put(
                    link_id,
                    dataclasses.replace(share, incident_status=status, human_override=override),
                )
        self._held[incident] = (status, override)

    def settled(self, link: Link) -> None:
        """``link``'s decision was applied (committed, or rolled back): take its stored state."""
        if self._shares is None:
            return
        try:
            share = repo.share_of(link)  # expired after the commit: one read of its row
            link_id = link.id
        except SQLAlchemyError:
            self.drop()  # read again by the next alert
            return
        if sa.inspect(link).transient:  # a dry run's new link: seen through ``unstored``
            self.shared(link)
            return
        known = self._shares.get(share.alert_id) is not None
        if share.incident_id is not None and self._held.get(share.incident_id) != (
            share.incident_status,
            share.human_override,
        ):
            self._held.pop(share.incident_id, None)  # taken with other values than held
        if known or repo.may_share(share):
            self._shares.put(link_id, share)  # kept oldest link first, as the read orders them
        self.shared(link)
