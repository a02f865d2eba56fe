"""Tests of core.bridge_discover: services paired with components by name, and the TOML block."""

from __future__ import annotations

import tomllib

from hypothesis import given
from hypothesis import strategies as st

from ilert_statuspage_sync.core.bridge_discover import bridge_block, name_key, propose_service_map

PAGE = ("kctbh9vrtdwd", "Acme status")


def _uncommented(block: str) -> str:
    """The block from ``[[status_bridges]]`` on, each line's leading "# " removed."""
    lines = block.splitlines()
    start = lines.index("# [[status_bridges]]")
    return "\n".join(line.removeprefix("# ") for line in lines[start:]) + "\n"


def _block(services, components, mapping=None) -> str:
    if mapping is None:
        mapping = propose_service_map(services, components)
    return bridge_block(
        name="acme",
        connector="main",
        page=PAGE,
        services=services,
        components=components,
        mapping=mapping,
    )


class TestProposeServiceMap:
    def test_exact_names_pair(self):
        """A service and a component of the same name are paired."""
        services = [(101, "Checkout"), (102, "Search")]
        components = [("c-search", "Search"), ("c-checkout", "Checkout")]

        assert propose_service_map(services, components) == {
            101: "c-checkout",
            102: "c-search",
        }

    def test_case_whitespace_and_punctuation_are_ignored_in_the_second_round(self):
        """'Checkout API' finds 'checkout-api', 'Web  Shop' finds 'web shop!'."""
        services = [(1, "Checkout API"), (2, "Web  Shop"), (3, "Straße")]
        components = [("a", "checkout-api"), ("b", "web shop!"), ("c", "STRASSE")]

        assert propose_service_map(services, components) == {1: "a", 2: "b", 3: "c"}

    def test_compatibility_forms_compare_equal(self):
        """Full-width letters are the letters they look like (NFKC)."""
        assert propose_service_map([(1, "\uff21\uff30\uff29")], [("a", "api")]) == {1: "a"}

    def test_an_exact_name_wins_over_a_loose_one(self):
        """'API' pairs with 'API', not with 'api', though both match loosely."""
        components = [("loose", "api"), ("exact", "API")]

        assert propose_service_map([(1, "API")], components) == {1: "exact"}

    def test_two_components_of_one_name_pair_nothing(self):
        """Two components named alike: which one is meant is a person's call."""
        components = [("a", "Search"), ("b", "Search")]

        assert propose_service_map([(1, "Search")], components) == {}

    def test_two_components_alike_loosely_pair_nothing(self):
        """'web' and 'WEB ' are one name loosely: a service 'Web' gets neither."""
        assert propose_service_map([(1, "Web")], [("a", "web"), ("b", "WEB!")]) == {}

    def test_two_services_of_one_name_pair_nothing(self):
        """Two services named alike get no component, not the same one."""
        services = [(1, "Search"), (2, "Search")]

        assert propose_service_map(services, [("a", "Search")]) == {}

    def test_a_component_goes_to_one_service_at_most(self):
        """'API' takes component 'API' exactly; 'api' would match it loosely and gets nothing."""
        services = [(1, "api"), (2, "API")]

        assert propose_service_map(services, [("a", "API")]) == {2: "a"}

    def test_the_second_round_takes_what_the_first_left(self):
        """After 'API' pairs exactly, 'api' pairs with the one component left alike."""
        services = [(1, "API"), (2, "api")]
        components = [("a", "API"), ("b", "a.p.i")]

        assert propose_service_map(services, components) == {1: "a", 2: "b"}

    def test_names_of_only_spaces_or_punctuation_match_nothing(self):
        """An empty or punctuation-only name is no name to match on."""
        services = [(1, ""), (2, " "), (3, "--")]
        components = [("a", ""), ("b", " "), ("c", "!!")]

        assert propose_service_map(services, components) == {}

    def test_the_result_follows_the_services_order_and_an_id_listed_twice_counts_once(self):
        """Services keep their order; a repeated id keeps its first name."""
        services = [(2, "B"), (1, "A"), (2, "A")]
        components = [("a", "A"), ("b", "B")]

        result = propose_service_map(services, components)

        assert list(result.items()) == [(2, "b"), (1, "a")]

    def test_a_component_listed_twice_is_one_component(self):
        """Two keys may list one page: its components are not ambiguous with themselves."""
        assert propose_service_map([(1, "A")], [("a", "A"), ("a", "A")]) == {1: "a"}

    @given(
        st.lists(st.tuples(st.integers(1, 20), st.sampled_from(["A", "a", "B ", "b!", "C", ""]))),
        st.lists(st.tuples(st.sampled_from("wxyz"), st.sampled_from(["A", "a", "b", "B", "D"]))),
    )
    def test_every_pair_is_one_service_one_component_of_a_matching_name(self, services, components):
        """Whatever the names: no component twice, ids from the inputs, names alike."""
        result = propose_service_map(services, components)

        first_service = dict(reversed(services))
        first_component = dict(reversed(components))
        assert len(set(result.values())) == len(result)
        for service_id, component_id in result.items():
            assert name_key(first_service[service_id]) == name_key(first_component[component_id])


class TestBridgeBlock:
    SERVICES = [(101, "Checkout"), (102, "Search"), (103, "Billing")]
    COMPONENTS = [("ftgks51sfs2d", "checkout"), ("zq9ldjc1hx1c", "Search"), ("x1", "CDN")]

    def test_the_block_uncommented_is_the_bridge(self):
        """Removing '# ' from [[status_bridges]] on gives the bridge, pairs as proposed."""
        parsed = tomllib.loads(_uncommented(_block(self.SERVICES, self.COMPONENTS)))

        assert parsed == {
            "status_bridges": [
                {
                    "name": "acme",
                    "connector": "main",
                    "page_id": "kctbh9vrtdwd",
                    "incidents": True,
                    "service_status": True,
                    "maintenance_windows": True,
                    "notify": "ilert",
                    "redact": [],
                    "services": {"101": "ftgks51sfs2d", "102": "zq9ldjc1hx1c"},
                }
            ]
        }

    def test_the_block_is_all_comments(self):
        """As written, every line is a comment: nothing is bridged until a person says so."""
        block = _block(self.SERVICES, self.COMPONENTS)

        assert all(line.startswith("# ") for line in block.splitlines())
        assert tomllib.loads(block) == {}

    def test_each_pair_names_what_it_matched_and_the_rest_are_listed(self):
        """Pairs carry both names; unmapped services and spare components are listed."""
        block = _block(self.SERVICES, self.COMPONENTS)

        assert '# "101" = "ftgks51sfs2d"  # Checkout -> checkout' in block
        assert "# # iLert services not mapped (id: name):\n# #   103: Billing\n" in block
        assert "# # Components no service is mapped to (id: name):\n# #   x1: CDN\n" in block
        assert block.startswith(
            "# ---- status bridge for page kctbh9vrtdwd: Acme status (connector main) ----\n"
        )

    def test_no_pair_says_so_and_lists_everything(self):
        """With nothing matched the block says to add pairs by hand and lists both sides."""
        block = _block([(1, "Alpha")], [("b", "Beta")])

        assert "# # no service's name matched a component's: add the pairs by hand" in block
        assert "# #   1: Alpha" in block and "# #   b: Beta" in block

    def test_vendor_text_cannot_start_a_live_line(self):
        """A name or id holding a line break or a quote stays inside its comment or string."""
        services = [(1, 'Evil\n[[status_bridges]]\nname = "x"'), (2, "Spare\r\nlive = 1")]
        components = [('c"1', 'Evil\n[[status_bridges]]\nname = "x"'), ("c\n2", "Other\nx = 2")]
        block = bridge_block(
            name='a"b',
            connector="main",
            page=("pg", "Page\nlive = true"),
            services=services,
            components=components,
            mapping={1: 'c"1'},
        )

        assert all(line.startswith("# ") for line in block.splitlines())
        parsed = tomllib.loads(_uncommented(block))
        assert parsed["status_bridges"][0]["services"] == {"1": 'c"1'}
        assert parsed["status_bridges"][0]["name"] == 'a"b'
