"""The one fake clock of the tests: monotonic time that moves only when told."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (or ``advance``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
