"""A value that holds an API key and never shows it.

It lives at the bottom of the layers, not in ``config``: the config reader makes
them, the HTTP layer reveals them into a header, and neither should need the
other's package to carry one.
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """An API key that cannot leak through repr, str, f-strings or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself: only the HTTP layer calls this, to build a header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
