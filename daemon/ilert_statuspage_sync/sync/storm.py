"""group = "action": an action's shares, read once per pass and kept current in memory.

``core.storm.target_for`` needs every share of the action that may take part in
an open shared incident. Reading them per alert made a storm pass quadratic
(n alerts x n rows). Instead the first storm alert of the pass reads them once
(``repo.open_shares``), and each decision applied in this process updates the
view: the alert's own share from its link as stored, and its incident's status
and override flag on the incident's other shares (what ``repo.share_incident``
wrote to their rows in the same commit).

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

from ilert_statuspage_sync.core.storm import FINAL, Share
from ilert_statuspage_sync.store import repo
from ilert_statuspage_sync.store.tables import Link

__all__ = ["PassShares"]


class PassShares:
    """One action's shares for one pass: read at first use, updated as decisions land."""

    def __init__(self, session: Session, action: str) -> None:
        self._session = session
        self._action = action
        # alert id -> (link id, share), oldest link first; None: not read (or dropped).
        self._shares: dict[int, tuple[int, Share]] | None = None
        # Incidents whose every link is in the view: open ones read (all links of an
        # incident hold its status), and those opened in this pass.
        self._complete: set[str] = set()
        # Incident -> (status, override) every one of its shares in the view holds, as
        # ``shared`` left them; dropped when a share of it is taken with another.
        self._held: dict[str, tuple[str | None, bool]] = {}

    def _view(self) -> dict[int, tuple[int, Share]]:
        if self._shares is None:
            found = repo.open_shares(self._session, self._action)
            self._shares = {share.alert_id: (link_id, share) for link_id, share in found}
            self._complete = {s.incident_id for _id, s in found if s.incident_id is not None}
            self._held = {}
        return self._shares

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
            for _link_id, share in self._shares.values()
            if share.incident_id == incident
        )

    def of(self, link: Link, unstored: Iterable[Link] = ()) -> list[Share]:
        """What ``link``'s decision sees: the shares that may share, and its own.

        ``unstored``: a dry run's new links, never in the database. Its own
        share is read from ``link`` (the current state, flushed or not), last.
        """
        view = self._view()
        own = link.alert_id
        # ``repo.may_share``, written out: this runs over every share for every alert.
        shares = [
            share
            for alert_id, (_link_id, share) in view.items()
            if alert_id != own
            and (
                share.is_open
                if share.incident_id is None
                else share.incident_status is None or share.incident_status not in FINAL
            )
        ]
        if not sa.inspect(link).transient:
            shares.append(repo.share_of(link))
        shares += [repo.share_of(other) for other in unstored]
        return shares

    def _last(self) -> list[tuple[int, Share]]:
        """The view's newest link (none for an empty view): a newer one is appended, not sorted."""
        if not self._shares:
            return []
        return [self._shares[next(reversed(self._shares))]]

    def openers(self, alert_id: int) -> list[int]:
        """The alerts (ids) other than ``alert_id`` whose create may still be landing."""
        view = self._view()
        return [a for a, (_id, share) in view.items() if share.creating and a != alert_id]

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
        for alert_id, (link_id, share) in list(self._shares.items()):
            if share.incident_id != incident:
                continue
            if share.incident_status != status or share.human_override != override:
                self._shares[alert_id] = (
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
            # Read again by the next alert.
            self._shares, self._complete, self._held = None, set(), {}
            return
        if sa.inspect(link).transient:  # a dry run's new link: seen through ``unstored``
            self.shared(link)
            return
        known = share.alert_id in self._shares
        if share.incident_id is not None and self._held.get(share.incident_id) != (
            share.incident_status,
            share.human_override,
        ):
            self._held.pop(share.incident_id, None)  # taken with other values than held
        if known or repo.may_share(share):
            newest = not known and all(link_id > other for other, _share in self._last())
            self._shares[share.alert_id] = (link_id, share)
            if not known and not newest:  # keep the oldest link first, as the read orders them
                self._shares = dict(sorted(self._shares.items(), key=lambda kv: kv[1][0]))
        self.shared(link)
