"""The pure component model (core.components) and its configuration keys."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ilert_statuspage_sync.config import parse_config
from ilert_statuspage_sync.core.components import (
    COMPONENT_STATUSES,
    OPERATIONAL,
    SETTABLE_STATUSES,
    UNDER_MAINTENANCE,
    ComponentState,
    Holder,
    create_map,
    plan_components,
    seeded_state,
    worst_held,
)
from ilert_statuspage_sync.errors import ConfigError

RANK = {s: i for i, s in enumerate((OPERATIONAL, *SETTABLE_STATUSES))}


def _holder(alert_id: int, priority: str, *components: str, action: str = "a") -> Holder:
    return Holder(alert_id, action, priority, components or ("c1",))


def test_no_holder_means_operational():
    """With nothing open a component should be operational."""
    assert worst_held([], "c1") == (OPERATIONAL, None)


def test_worst_of_open_alerts_wins():
    """HIGH beats LOW on a shared component; an unrelated component is untouched."""
    low, high = _holder(1, "LOW"), _holder(2, "HIGH")
    assert worst_held([low, high], "c1") == ("major_outage", high)
    assert worst_held([low, high], "c2")[0] == OPERATIONAL


def test_action_component_status_and_unknown_priority():
    """The action's map decides; an unknown priority holds the HIGH status."""
    mapping = {"HIGH": "partial_outage", "LOW": "degraded_performance"}
    assert Holder(1, "a", "HIGH", ("c1",), mapping).status == "partial_outage"
    assert Holder(1, "a", "WEIRD", ("c1",), mapping).status == "partial_outage"


def test_free_component_is_written_to_desired():
    """A component at the daemon's last status moves to the worst held one."""
    (step,) = plan_components(
        {"c1": "degraded_performance"},
        {"c1": ComponentState("degraded_performance")},
        [_holder(1, "HIGH")],
        ["c1"],
    )
    assert step.write == "major_outage"
    assert step.state_after.last_set == "major_outage"
    assert step.state_after.holder_alert_id == 1


def test_drop_is_attributed_to_the_previous_holder():
    """When the holder resolved, the drop to operational names it in the audit."""
    state = ComponentState("major_outage", holder_alert_id=7, holder_action="a")
    (step,) = plan_components({"c1": "major_outage"}, {"c1": state}, [], ["c1"])
    assert step.write == OPERATIONAL
    assert step.cause is not None and step.cause.alert_id == 7


def test_person_edit_holds_and_logs_once():
    """A status a person set is held; the next pass holds without a new log."""
    (step,) = plan_components(
        {"c1": "partial_outage"},
        {"c1": ComponentState("major_outage")},
        [_holder(1, "HIGH")],
        ["c1"],
    )
    assert step.held and step.newly_held and step.write is None
    (again,) = plan_components(
        {"c1": "partial_outage"}, {"c1": step.state_after}, [_holder(1, "HIGH")], ["c1"]
    )
    assert again.held and not again.newly_held


def test_maintenance_is_held_even_without_daemon_history():
    """under_maintenance is never overwritten."""
    (step,) = plan_components({"c1": UNDER_MAINTENANCE}, {}, [_holder(1, "HIGH")], ["c1"])
    assert step.held and step.write is None


def test_hold_released_back_at_last_set_or_operational():
    """Back at the daemon's status or at operational (after a hold elsewhere): free again."""
    held = ComponentState("major_outage", held_since="partial_outage")
    for listed in ("major_outage", OPERATIONAL):
        (step,) = plan_components({"c1": listed}, {"c1": held}, [_holder(1, "HIGH")], ["c1"])
        assert not step.held
        assert step.write == (None if listed == "major_outage" else "major_outage")


def test_person_clearing_is_held_until_nothing_is_open():
    """A person's operational over the daemon's outage holds while the alert is open."""
    state = ComponentState("major_outage")
    (step,) = plan_components({"c1": OPERATIONAL}, {"c1": state}, [_holder(1, "HIGH")], ["c1"])
    assert step.held and step.write is None
    (later,) = plan_components({"c1": OPERATIONAL}, {"c1": step.state_after}, [], ["c1"])
    assert not later.held and later.state_after.last_set == OPERATIONAL


def test_missing_component_is_skipped():
    """A component the page no longer lists gets no step."""
    assert plan_components({}, {}, [_holder(1, "HIGH")], ["c1"]) == []


def test_create_map_keeps_worst_and_leaves_holds_out():
    """A LOW create does not lower what a HIGH alert holds; a held component is left out."""
    new = _holder(2, "LOW", "c1", "c2")
    listed = {"c1": "major_outage", "c2": UNDER_MAINTENANCE}
    states = {"c1": ComponentState("major_outage")}
    assert create_map(new, listed, states, [_holder(1, "HIGH")]) == {"c1": "major_outage"}


statuses = st.sampled_from(COMPONENT_STATUSES)
priorities = st.sampled_from(["HIGH", "LOW", "OTHER"])
holders = st.lists(
    st.builds(
        Holder,
        alert_id=st.integers(1, 50),
        action=st.sampled_from(["a", "b"]),
        priority=priorities,
        components=st.lists(st.sampled_from(["c1", "c2"]), min_size=1, unique=True).map(tuple),
    ),
    max_size=6,
)
states = st.builds(
    ComponentState,
    last_set=st.none() | st.sampled_from((OPERATIONAL, *SETTABLE_STATUSES)),
    held_since=st.none() | statuses,
)


@given(holders, st.dictionaries(st.sampled_from(["c1", "c2"]), statuses), states)
def test_properties_of_the_page_model(open_alerts, listed, state):
    """Never writes maintenance or over a hold; a write is the worst held; free means no hold."""
    steps = plan_components(listed, {"c1": state, "c2": state}, open_alerts, ["c1", "c2"])
    assert {s.component_id for s in steps} == set(listed)
    for step in steps:
        worst = max(
            (h.status for h in open_alerts if step.component_id in h.components),
            key=RANK.__getitem__,
            default=OPERATIONAL,
        )
        assert step.desired == worst
        if step.listed == UNDER_MAINTENANCE:
            assert step.held
        if step.held:
            assert step.write is None and step.state_after.held_since is not None
            kept = OPERATIONAL if worst == OPERATIONAL and state.last_set else state.last_set
            assert step.state_after.last_set == kept
        else:
            assert step.state_after.held_since is None
            assert step.state_after.last_set == worst
            assert step.write == (None if step.listed == worst else worst)


def _config(action_extra: str) -> object:
    text = f"""
[ilert]
api_key = "k"
[connectors.main]
api_key = "s"
[[incident_actions]]
name = "api"
alert_sources = [1]
connector = "main"
page_id = "kctbh9vrtdwd"
{action_extra}
"""
    return parse_config(tomllib.loads(text), {}, origin="t.toml")


def test_config_defaults_keep_todays_behaviour():
    """No components by default; the default statuses are major_outage / degraded."""
    (action,) = _config("").incident_actions  # type: ignore[attr-defined]
    assert action.components == ()
    assert action.component_status == {"HIGH": "major_outage", "LOW": "degraded_performance"}


def test_config_components_and_partial_status_map():
    """A priority left out keeps its default."""
    extra = 'components = ["8kbf7d35c070"]\ncomponent_status = { LOW = "partial_outage" }'
    (action,) = _config(extra).incident_actions  # type: ignore[attr-defined]
    assert action.components == ("8kbf7d35c070",)
    assert action.component_status == {"HIGH": "major_outage", "LOW": "partial_outage"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('components = "abc"', "components: must be a list"),
        ('components = ["a/b"]', "components: each must be a component id"),
        ('components = ["a", "a"]', "'a' is listed twice"),
        ('component_status = { HIGH = "major_outage" }', "has no effect without components"),
        ('components = ["a"]\ncomponent_status = { MEDIUM = "major_outage" }', "MEDIUM: unknown"),
        ('components = ["a"]\ncomponent_status = { HIGH = "operational" }', "HIGH: must be one"),
        ('components = ["a"]\ncomponent_status = { LOW = "under_maintenance" }', "LOW: must be"),
        ('components = ["a"]\ncomponent_status = "x"', "component_status: must be a table"),
    ],
)
def test_config_component_errors_are_one_clear_line(extra, message):
    """Each bad value names its dotted key in one line."""
    with pytest.raises(ConfigError) as caught:
        _config(extra)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert text.startswith("t.toml: incident_actions[0].")


def test_a_seed_after_state_loss_keeps_a_persons_status_held():
    """A status the actions can set is the daemon's; another is a person's, and stays held
    until the alert resolves and beyond (as if seen while running)."""
    holder = Holder(1, "a", "HIGH", ("c",))
    possible = {"major_outage", "degraded_performance"}
    assert seeded_state("major_outage", possible, "major_outage", holder) == ComponentState(
        "major_outage", None, 1, "a"
    )
    person = seeded_state("partial_outage", possible, "major_outage", holder)
    assert person == ComponentState("major_outage", "partial_outage", 1, "a")
    (step,) = plan_components({"c": "partial_outage"}, {"c": person}, [holder], ["c"])
    assert (step.write, step.held) == (None, True)
    (after,) = plan_components({"c": "partial_outage"}, {"c": person}, [], ["c"])
    assert after.write is None


def test_a_holder_with_a_fixed_status_holds_it_whatever_its_priority() -> None:
    """A status bridge's hold (a service's status) is its own, not a priority's."""
    from ilert_statuspage_sync.core.components import Holder, worst_held

    held = Holder(7, "platform", "", ("comp",), fixed="partial_outage")
    assert held.status == "partial_outage"
    assert worst_held([held], "comp") == ("partial_outage", held)
