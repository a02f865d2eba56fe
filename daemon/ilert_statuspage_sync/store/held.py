"""The open links as a pass holds them: light column rows, ORM objects only when needed.

A quiet pass decides on every open link (which alerts it mirrors, whose
timelines it reads, what is admitted), but works on only a few. Loading every
open row as an ORM object (JSON columns decoded, an instance and its state
built, each attribute read through a descriptor) made the pass's CPU grow
with the open set; a row of the columns those decisions read costs a
fraction. ``Held.link`` builds the object on first use, so a pass builds only
those of the items it works on.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ilert_statuspage_sync.store.overview import id_chunks
from ilert_statuspage_sync.store.tables import Link

__all__ = ["Held", "OpenLink", "build", "fingerprint", "load_open", "rows_of_alerts"]


class OpenLink(NamedTuple):
    """The columns of an open link the pass's decisions read (attribute names as ``Link``'s)."""

    id: int
    incident_action: str
    alert_id: int
    page_id: str
    statuspage_incident_id: str | None
    statuspage_status: str | None
    alert_status: str | None
    is_open: bool
    triggered_at: datetime | None
    mirror_status: str | None
    mirror_priority: str | None
    responders_text: str | None  # the mirror's responders as stored JSON text: decoded on use
    mirror_policy_id: int | None
    mirror_rule_index: int | None
    mirror_next_escalation: datetime | None
    last_log_entry_id: int | None
    pending_text: str | None  # the intent as stored JSON text: decoded only when one is set
    failures: int
    next_attempt_at: datetime | None
    last_checked_at: datetime | None
    human_override: bool
    missing_reads: int
    updated_at: datetime

    @property
    def mirror_responders(self) -> list[str] | None:
        """The mirror's responders, as ``Link.mirror_responders`` reads them."""
        if self.responders_text is None or self.responders_text == "null":
            return None
        decoded: list[str] = json.loads(self.responders_text)
        return decoded

    @property
    def pending_call(self) -> dict[str, Any] | None:
        """The intent, as ``Link.pending_call`` reads it (a cleared one is JSON null)."""
        if self.pending_text is None or self.pending_text == "null":
            return None
        decoded: dict[str, Any] | None = json.loads(self.pending_text)
        return decoded


def fingerprint(row: OpenLink) -> int:
    """A hash of every column of the row: equal while nothing in the link changed.

    Kept instead of the row (the pass would otherwise hold a row per open link
    between passes). Every column is a plain value (the JSON ones as text).
    """
    return hash(row)


# Table columns, not mapped attributes: a Core select, whose rows skip the ORM's loading.
_TABLE: Final = sa.inspect(Link).local_table
_AS_TEXT: Final = {"pending_text": "pending_call", "responders_text": "mirror_responders"}
_COLUMNS: Final = tuple(
    sa.cast(_TABLE.c[_AS_TEXT[name]], sa.Text) if name in _AS_TEXT else _TABLE.c[name]
    for name in OpenLink._fields
)


class Held:
    """One link a pass holds: its light row until its object is built (``link``)."""

    __slots__ = ("_link", "_row", "_session", "facts")

    def __init__(
        self,
        session: weakref.ref[Session] | None,
        row: OpenLink | None = None,
        link: Link | None = None,
    ) -> None:
        # A weak reference: the session's cache holds its rows, and a cycle would keep
        # each pass's session and rows alive until a full garbage collection.
        self._session, self._row, self._link = session, row, link
        # What the decisions read: the object once built (it holds the pass's changes).
        # A plain attribute, not a property: read many times per open link a pass.
        self.facts: Link | OpenLink
        if link is not None:
            self.facts = link
        else:
            assert row is not None
            self.facts = row

    @classmethod
    def of(cls, link: Link) -> Held:
        """A link whose object exists already (a new one, or one read as an object)."""
        return cls(None, link=link)

    @property
    def built(self) -> bool:
        """Whether the object exists (a new link's always does)."""
        return self._link is not None

    @property
    def link(self) -> Link:
        """The ORM object, built (one read by primary key) on first use."""
        if self._link is None:
            session = self._session() if self._session is not None else None
            assert self._row is not None
            assert session is not None
            found = session.get(Link, self._row.id)
            if found is None:  # deleted since the rows were read (an untrigger)
                raise LookupError(f"link {self._row.id} is gone")
            self.take(found)
        assert self._link is not None
        return self._link

    def refresh(self, values: dict[str, Any]) -> None:
        """Columns a bulk UPDATE just wrote, on a row not built yet (an object has its own)."""
        if self._link is None and self._row is not None:
            self._row = self.facts = self._row._replace(**values)

    def take(self, link: Link) -> None:
        """Hold ``link``, built by a batched read (``build``)."""
        self._link = self.facts = link


# Columns of few distinct values, one object per value shared by every row: names, ids of
# pages and policies, statuses, the stored JSON of a mirror's responders or a cleared intent,
# and the times a pass stamps on every link it touches (its ``now``: a batch shares one).
_SHARED: Final = tuple(
    OpenLink._fields.index(name)
    for name in (
        "incident_action",
        "page_id",
        "statuspage_status",
        "alert_status",
        "mirror_status",
        "mirror_priority",
        "mirror_policy_id",
        "responders_text",
        "pending_text",
        "last_checked_at",
        "updated_at",
    )
)
_PARTITION: Final = 1_000  # rows fetched at a time: the driver's rows never all held at once


def load_open(session: Session) -> list[Held]:
    """Every open link of every incident action, as light rows: one query.

    A pass holds one per open link while it runs: fetched a partition at a time
    (the driver's rows and the light ones are never both held for all of them),
    the repeated values of each row shared (``_SHARED``).
    """
    query = sa.select(*_COLUMNS).where(_TABLE.c.is_open == sa.true())
    ref = weakref.ref(session)
    shared: dict[Any, Any] = {}
    share, make = shared.setdefault, OpenLink._make
    held: list[Held] = []
    for partition in _result(session, query).partitions(_PARTITION):
        for row in partition:
            values = list(row)
            for at in _SHARED:
                values[at] = share(values[at], values[at])
            held.append(Held(ref, make(values)))
    return held


def rows_of_alerts(session: Session, alert_ids: Iterable[int]) -> list[OpenLink]:
    """The links (open or closed, any action) of these alerts, as light rows, by id chunks."""
    ids = sorted(set(alert_ids))
    found: list[OpenLink] = []
    for chunk in id_chunks(ids):
        query = sa.select(*_COLUMNS).where(_TABLE.c.alert_id.in_(chunk))
        found.extend(OpenLink._make(row) for row in _rows(session, query))
    return found


def _rows(session: Session, query: sa.Select[Any]) -> Sequence[sa.Row[Any]]:
    """A Core query's rows, in one fetch (not one a row)."""
    return _result(session, query).all()


def _result(session: Session, query: sa.Select[Any]) -> sa.CursorResult[Any]:
    """A Core query on the session's connection, after the flush the ORM's own would make."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(query)


def build(session: Session, held: Iterable[Held]) -> list[Link]:
    """The objects of ``held``, in order: those not built yet read together, by id chunks."""
    held = list(held)
    todo = [h for h in held if not h.built]
    found: dict[int, Link] = {}
    ids: Sequence[int] = sorted({h.facts.id for h in todo})
    for chunk in id_chunks(ids):
        found.update(
            (link.id, link) for link in session.scalars(sa.select(Link).where(Link.id.in_(chunk)))
        )
    for h in todo:
        if h.facts.id in found:
            h.take(found[h.facts.id])
    return [h.link for h in held if h.built]
