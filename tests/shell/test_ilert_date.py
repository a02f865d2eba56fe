"""iLert's ``Date`` header is read, or taken as unknown: never an exception in the pass."""

from __future__ import annotations

from typing import cast

import pytest

from ilert_statuspage_sync.clients.http import HttpService
from ilert_statuspage_sync.clients.ilert import IlertClient


class _Answered:
    """The client's view of the HTTP service: only the last answer's Date header."""

    def __init__(self, header: str) -> None:
        self.last_date_header = header


@pytest.mark.parametrize(
    "header",
    [
        "Mon, 07 Dec 2026 99999999999999999999:00:00 GMT",
        "Mon, 07 Dec " + "9" * 5000 + " 06:00:00 GMT",
        "yesterday",
    ],
)
def test_an_unreadable_date_header_is_no_time_and_no_crash(header: str) -> None:
    """A Date whose numbers overflow or do not parse: iLert's time is unknown, nothing raises."""
    client = IlertClient(cast(HttpService, _Answered(header)))
    assert client.server_time() is None
