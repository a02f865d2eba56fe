"""The daemon's error tree, so callers can catch at the level they care about.

::

    SyncError
      ConfigError            the config file or a key is wrong: exit 2 at start
      ApiError               .service, .status, .message
        TransientApiError    timeout, connection, DNS, 429/420, 5xx: try again later
          StopRequestedError not sent: the process is stopping (SIGTERM)
          ThrottledError     still 420/429 after waiting as told: the rest waits a pass
        PermanentApiError    other 4xx: record against the item, back off
      UsageError             a command cannot do what was asked (trigger a missing alert): exit 2
      PayloadError           a vendor answered with a body we cannot read
      LeadershipLostError    this process no longer holds the leader lock: stop writing
      StoreError             the state database refused (wrong schema): exit 2
        DatabaseFailureError  it failed at run time (locked, held by another process,
                              read-only, full, corrupt,
                              not migrated): exit 1
          DatabaseUnreachableError  PostgreSQL could not be reached at all
        DatabaseReplacedError  the SQLite file was deleted or replaced under a running
                              process: exit 1

Messages never carry API keys: clients build them from status codes and
vendor error bodies only, and a vendor that echoes a key anyway is masked
here: ``str()`` of every error, and an ``ApiError``'s ``message``, pass
``secrets.scrub``.
"""

from __future__ import annotations

from ilert_statuspage_sync.runtime.secrets import scrub


class SyncError(Exception):
    """Base of every error the daemon raises on purpose."""

    def __str__(self) -> str:
        return scrub(super().__str__())


class ConfigError(SyncError):
    """The config is unusable; the message names the file and the key.

    A file with several mistakes raises one ``ConfigError`` holding each as a
    line (``lines``): the CLI prints every one, so a user fixes them in one go.
    """

    def __init__(self, message: str, *more: str) -> None:
        self.lines: tuple[str, ...] = (message, *more)
        super().__init__("; ".join(self.lines))


class ApiError(SyncError):
    """A vendor API call failed."""

    def __init__(self, service: str, message: str, status: int | None = None) -> None:
        self.service = service
        self.status = status
        self.message = scrub(message)
        where = f"{service} HTTP {status}" if status is not None else service
        super().__init__(f"{where}: {message}")


class TransientApiError(ApiError):
    """Worth trying again later: network trouble, throttling, server errors."""

    def __init__(
        self,
        service: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        *,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(service, message, status)
        self.retry_after = retry_after
        # True when a write may have taken effect although no answer came back
        # (a read timeout, a dropped connection, a 5xx): reconcile before resending.
        self.maybe_applied = maybe_applied


class StopRequestedError(TransientApiError):
    """Not sent because the process is stopping; the work waits for the next start."""

    def __init__(self, service: str = "daemon") -> None:
        super().__init__(service, "not sent: the daemon is stopping")


class ThrottledError(TransientApiError):
    """Refused for its rate (420/429) again after the waits the vendor asked for.

    Never an outage: the work waits for the next pass like paced work.
    """


class PermanentApiError(ApiError):
    """The vendor refused this request; repeating it unchanged will not help."""


class UsageError(SyncError):
    """A command cannot do what was asked as asked (e.g. trigger a missing alert): exit 2."""


class PayloadError(SyncError):
    """A response body could not be read as the API documents it."""


class LeadershipLostError(SyncError):
    """This process no longer holds the leader lock; it must stop writing."""


class StoreError(SyncError):
    """The state database cannot be used as it is."""


class DatabaseFailureError(StoreError):
    """The state database failed at run time; the message names it and what to do."""


class DatabaseUnreachableError(DatabaseFailureError):
    """The database server could not be reached (distinct from a held leader lock)."""


class DatabaseReplacedError(DatabaseFailureError):
    """The SQLite file at the configured path is no longer the one this process opened."""
