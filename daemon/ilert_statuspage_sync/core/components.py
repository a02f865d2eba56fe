"""The page model for components: worst of what is open, and a person's edit wins.

Each open mirrored alert holds a status on every component its incident action
lists: the action's ``component_status`` for the alert's current priority. A
component should show the worst status any open alert holds on it, across the
incident actions that share the page, and ``operational`` when none does
(operational < degraded_performance < partial_outage < major_outage). Computed
per alert, not per incident, so an incident shared by several alerts follows the
worst priority among them.

The daemon remembers the status it last set on each component. A component a
person moved away from that status, or one ``under_maintenance``, is held: left
alone until it is back at that status, or at ``operational`` after a hold that
began elsewhere. A person who cleared the daemon's outage (set ``operational``)
is held until the alerts that caused it are gone: the daemon does not put back
what a person just took down. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "COMPONENT_STATUSES",
    "DEFAULT_COMPONENT_STATUS",
    "OPERATIONAL",
    "SETTABLE_STATUSES",
    "UNDER_MAINTENANCE",
    "ComponentState",
    "ComponentStep",
    "Holder",
    "create_map",
    "plan_components",
    "seeded_state",
    "worse",
    "worst_held",
]

OPERATIONAL = "operational"
UNDER_MAINTENANCE = "under_maintenance"
# What an open alert may put on a component, mildest first (the worst-of order).
SETTABLE_STATUSES = ("degraded_performance", "partial_outage", "major_outage")
_RANK = {status: rank for rank, status in enumerate((OPERATIONAL, *SETTABLE_STATUSES))}
# Every status Statuspage documents for a component.
COMPONENT_STATUSES = (OPERATIONAL, UNDER_MAINTENANCE, *SETTABLE_STATUSES)
DEFAULT_COMPONENT_STATUS: Mapping[str, str] = {
    "HIGH": "major_outage",
    "LOW": "degraded_performance",
}


@dataclass(frozen=True)
class Holder:
    """One open mirrored alert and the components its incident action lists.

    A status bridge's service or open incident is a holder too: its ``fixed``
    status is what it holds, whatever a priority would say.
    """

    alert_id: int
    action: str
    priority: str
    components: tuple[str, ...]
    component_status: Mapping[str, str] = field(default_factory=lambda: DEFAULT_COMPONENT_STATUS)
    incident_id: str | None = None
    fixed: str | None = None

    @property
    def status(self) -> str:
        """The status this alert holds; an unknown priority holds the HIGH one (err worse)."""
        if self.fixed is not None:
            return self.fixed
        statuses = {**DEFAULT_COMPONENT_STATUS, **self.component_status}
        return statuses.get(self.priority, statuses["HIGH"])


@dataclass(frozen=True)
class ComponentState:
    """What the daemon remembers of one component (stored per page and component)."""

    # The status the daemon last set; None when it never set one (counts as operational).
    last_set: str | None = None
    # The listed status when a person's edit (or a maintenance) began to hold it; None: free.
    held_since: str | None = None
    # The alert whose share the daemon last set (for the audit row when it drops).
    holder_alert_id: int | None = None
    holder_action: str | None = None

    @property
    def baseline(self) -> str:
        """The status the daemon stands by: what it last set, else operational."""
        return self.last_set or OPERATIONAL


@dataclass(frozen=True)
class ComponentStep:
    """The decision for one component in one pass."""

    component_id: str
    listed: str
    desired: str
    # The status to PATCH, or None (already right, or held).
    write: str | None
    # The state to store once the write (if any) succeeded.
    state_after: ComponentState
    # The alert the change is attributed to: the new status's holder, or the one that held it.
    cause: Holder | None
    # A hold began in this pass: log it (once).
    newly_held: bool = False
    held: bool = False


def worse(one: str | None, other: str) -> str:
    """The worse of two component statuses (``one`` None: ``other``); maintenance ranks lowest."""
    if one is None:
        return other
    return one if _RANK.get(one, 0) >= _RANK.get(other, 0) else other


def worst_held(holders: Iterable[Holder], component_id: str) -> tuple[str, Holder | None]:
    """The worst status open alerts hold on a component, and one alert holding it."""
    worst, who = OPERATIONAL, None
    for holder in holders:
        if component_id not in holder.components:
            continue
        status = holder.status
        if who is None or _RANK.get(status, 0) > _RANK.get(worst, 0):
            worst, who = status, holder
    return worst, who


def _hold(listed: str, state: ComponentState, desired: str) -> tuple[bool, str | None]:
    """Whether the component is held now, and since which status (None when free)."""
    if listed == UNDER_MAINTENANCE:
        return True, state.held_since or listed
    baseline = state.baseline
    if state.held_since is not None:
        if listed == baseline:
            return False, None
        if listed == OPERATIONAL and (state.held_since != OPERATIONAL or desired == OPERATIONAL):
            return False, None
        return True, state.held_since
    if listed in (baseline, desired):
        # At what the daemon set, or already where it wants it: nothing to respect or undo.
        return False, None
    return True, listed


def plan_components(
    listed: Mapping[str, str],
    states: Mapping[str, ComponentState],
    holders: Sequence[Holder],
    managed: Collection[str],
) -> list[ComponentStep]:
    """One step per managed component the page lists (a component it lacks is skipped)."""
    steps = []
    for component_id in sorted(managed):
        shown = listed.get(component_id)
        if shown is None:
            continue
        state = states.get(component_id, ComponentState())
        desired, holder = worst_held(holders, component_id)
        held, since = _hold(shown, state, desired)
        if held:
            after = replace(state, held_since=since)
            if desired == OPERATIONAL and state.last_set is not None:
                # Nothing of ours is open: nothing to undo, so an idle page costs no read.
                after = replace(after, last_set=OPERATIONAL)
            steps.append(
                ComponentStep(
                    component_id,
                    shown,
                    desired,
                    None,
                    after,
                    holder,
                    newly_held=state.held_since is None,
                    held=True,
                )
            )
            continue
        # A drop is the doing of the alert that held the old status (it resolved or fell).
        previous = _previous_holder(state, holders)
        dropping = _RANK.get(desired, 0) < _RANK.get(state.baseline, 0)
        cause = previous if (dropping and previous is not None) or holder is None else holder
        after = ComponentState(
            last_set=desired,
            held_since=None,
            holder_alert_id=holder.alert_id if holder else None,
            holder_action=holder.action if holder else None,
        )
        write = desired if shown != desired else None
        steps.append(ComponentStep(component_id, shown, desired, write, after, cause))
    return steps


def _previous_holder(state: ComponentState, holders: Sequence[Holder]) -> Holder | None:
    """The alert the last set status was attributed to (it may have resolved since)."""
    if state.holder_alert_id is None or state.holder_action is None:
        return None
    for holder in holders:
        if holder.alert_id == state.holder_alert_id and holder.action == state.holder_action:
            return holder
    return Holder(state.holder_alert_id, state.holder_action, "", ())


def create_map(
    new: Holder,
    listed: Mapping[str, str],
    states: Mapping[str, ComponentState],
    others: Sequence[Holder],
) -> dict[str, str]:
    """The ``components`` map of a new incident: the worst of what is open with it.

    A component the page lacks is left out (the caller warns), and so is one a
    person holds: creating an incident must not overwrite a person's edit.
    """
    holders = [*others, new]
    steps = plan_components(listed, states, holders, new.components)
    return {step.component_id: step.desired for step in steps if not step.held}


def seeded_state(
    shown: str, possible: Collection[str], held: str, holder: Holder | None
) -> ComponentState:
    """After the state was lost: what the daemon remembers of a component an open incident shows.

    ``shown`` is the component's status, ``possible`` every status the actions
    listing it can set, ``held`` the worst its open alerts hold now. A status
    they can set is taken as the daemon's own (so a resolve still turns it
    green); one they never set is a person's, held as if seen while running.
    """
    who = (holder.alert_id, holder.action) if holder is not None else (None, None)
    if shown in possible:
        return ComponentState(shown, None, *who)
    return ComponentState(held, shown, *who)
