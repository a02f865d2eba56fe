"""Which iLert service goes on which Statuspage component, proposed by name (pure).

``discover`` lists a page's components beside iLert's services; a bridge maps
one to the other. ``propose_service_map`` pairs them by name: exact names
first, then names compared without case, whitespace or punctuation. A name
two services (or two components) share is ambiguous and pairs nothing, and a
component goes to one service at most: a wrong guess on a public page is worse
than a gap a person fills in. ``bridge_block`` writes the proposal as a
commented ``[[status_bridges]]`` block for ``discover --write``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from ilert_statuspage_sync.core.toml_text import toml_string

__all__ = ["bridge_block", "name_key", "propose_service_map"]

Named = Sequence[tuple[int, str]]
T = TypeVar("T", bound=Hashable)


def name_key(name: str) -> str:
    """A name as the second round compares it: NFKC, case-folded, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name).casefold() if ch.isalnum())


def propose_service_map(
    services: Sequence[tuple[int, str]], components: Sequence[tuple[str, str]]
) -> dict[int, str]:
    """Service id -> component id for every service whose name picks out one component.

    Round one compares names as written, round two by ``name_key`` among what
    round one left; in each round a name held by two services or by two
    components pairs nothing. The result keeps the order of ``services``.
    """
    services = _first(services)
    components = _first(components)
    paired: dict[int, str] = {}
    for key in (str.strip, name_key):  # as written (surrounding spaces aside), then loosely
        left = [(sid, name) for sid, name in services if sid not in paired]
        taken = set(paired.values())
        free = [(cid, name) for cid, name in components if cid not in taken]
        paired.update(_unique_pairs(left, free, key))
    return {sid: paired[sid] for sid, _ in services if sid in paired}


def _unique_pairs(
    services: Named, components: Sequence[tuple[str, str]], key: Callable[[str], str]
) -> dict[int, str]:
    """Pairs whose key is held by exactly one service and exactly one component."""
    by_service = _group(services, key)
    by_component = _group(components, key)
    return {
        owners[0]: by_component[name][0]
        for name, owners in by_service.items()
        if len(owners) == 1 and len(by_component.get(name, ())) == 1
    }


def _first(items: Sequence[tuple[T, str]]) -> list[tuple[T, str]]:
    """One entry per id, in order, the first name kept (two keys may list one page)."""
    kept: dict[T, str] = {}
    for ident, name in items:
        kept.setdefault(ident, name)
    return list(kept.items())


def _group(items: Sequence[tuple[T, str]], key: Callable[[str], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = {}
    for ident, name in items:
        word = key(name)
        if word:  # a name of only spaces or punctuation matches nothing
            groups.setdefault(word, []).append(ident)
    return groups


def bridge_block(
    *,
    name: str,
    connector: str,
    page: tuple[str, str],
    services: Sequence[tuple[int, str]],
    components: Sequence[tuple[str, str]],
    mapping: Mapping[int, str],
) -> str:
    """A commented ``[[status_bridges]]`` block for ``page`` (id, name), mapping as given.

    From ``[[status_bridges]]`` on, removing each line's leading "# " leaves a
    bridge the loader accepts (when ``mapping`` is not empty): each pair carries
    the names it was matched on, and the services and components left over stay
    listed in comments so a person can add them by hand.
    """
    page_id, page_name = page
    service_names = dict(_first(services))
    component_names = dict(_first(components))
    lines = [
        f"# ---- status bridge for page {_comment(page_id)}: {_comment(page_name)} "
        f"(connector {_comment(connector)}) ----",
        "# Services paired with components by name: check every pair, then uncomment.",
        "# [[status_bridges]]",
        f"# name = {toml_string(name)}  # unique among bridges and incident actions",
        f"# connector = {toml_string(connector)}",
        f"# page_id = {toml_string(page_id)}",
        "# incidents = true            # iLert incidents on mapped services -> incidents",
        "# service_status = true       # a mapped service's status -> its component",
        "# maintenance_windows = true  # open windows on mapped services -> scheduled maintenances",
        '# notify = "ilert"            # or "always", "never"; "ilert": the incident decides',
        '# redact = []                 # regexes; matches become "[redacted]"',
        "# [status_bridges.services]   # iLert service id = component id",
    ]
    lines += [
        f'# "{sid}" = {toml_string(cid)}  # {_comment(service_names.get(sid, ""))} -> '
        f"{_comment(component_names.get(cid, ''))}"
        for sid, cid in mapping.items()
    ]
    if not mapping:
        lines.append("# # no service's name matched a component's: add the pairs by hand")
    lines += _leftovers(services, components, mapping)
    return "\n".join(lines) + "\n"


def _leftovers(
    services: Sequence[tuple[int, str]],
    components: Sequence[tuple[str, str]],
    mapping: Mapping[int, str],
) -> list[str]:
    """Comment lines naming the services and components no pair took."""
    lines: list[str] = []
    unmapped = [(sid, name) for sid, name in _first(services) if sid not in mapping]
    if unmapped:
        lines.append("# # iLert services not mapped (id: name):")
        lines += [f"# #   {sid}: {_comment(name)}" for sid, name in unmapped]
    used = set(mapping.values())
    spare = [(cid, name) for cid, name in _first(components) if cid not in used]
    if spare:
        lines.append("# # Components no service is mapped to (id: name):")
        lines += [f"# #   {_comment(cid)}: {_comment(name)}" for cid, name in spare]
    return lines


def _comment(text: str) -> str:
    """Text safe inside a one-line comment: no line breaks or control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()
