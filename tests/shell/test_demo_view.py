"""The demo's printing: colour only where wanted, the page view, the kept config's TOML."""

from __future__ import annotations

import io
import tomllib

import pytest

from ilert_statuspage_sync.demo.keep import render_toml
from ilert_statuspage_sync.demo.play import demo_settings
from ilert_statuspage_sync.demo.view import Cell, Style, page_view, table_row, wants_colour


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "environ", "colour"),
    [
        (_Terminal(), {}, True),
        (_Terminal(), {"TERM": "xterm-256color"}, True),
        (_Terminal(), {"NO_COLOR": "1"}, False),
        (_Terminal(), {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (_Terminal(), {"TERM": "dumb"}, False),
        (io.StringIO(), {}, False),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    stream: io.StringIO, environ: dict[str, str], colour: bool
) -> None:
    """Colour needs a terminal, and NO_COLOR (non-empty) or TERM=dumb turns it off."""
    assert wants_colour(stream, environ) is colour


def test_padding_ignores_colour_codes() -> None:
    """A coloured row lines up with a plain one: codes wrap the text, padding stays outside."""
    cells = [Cell("created", ("green",)), Cell("x"), Cell("y")]
    plain = table_row(cells, Style(colour=False))
    coloured = table_row(cells, Style(colour=True))
    assert "\x1b[32mcreated\x1b[0m" in coloured[0]
    assert [line.replace("\x1b[32m", "").replace("\x1b[0m", "") for line in coloured] == plain
    assert plain == [" " * 8 + "created".ljust(16) + "x".ljust(20) + "y"]


def test_a_row_too_wide_for_80_columns_wraps_its_last_cell_under_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At COLUMNS=80 a long page cell goes on under its own column, never past column 80."""
    monkeypatch.setenv("COLUMNS", "80")
    page = "Checkout and Search and Website major_outage -> degraded_performance"
    lines = table_row([Cell("component"), Cell("set three"), Cell(page)], Style())
    assert len(lines) == 2
    assert all(len(line) <= 80 for line in lines)
    assert lines[1] == " " * 44 + "major_outage -> degraded_performance"
    assert " ".join(line[44:] for line in lines) == page


PAGE = {"id": "pg1", "name": "Acme Status"}
COMPONENTS = [
    {"id": "grp", "name": "Storefront", "group": True, "group_id": None, "status": "operational"},
    {"id": "c1", "name": "Checkout", "group": False, "group_id": "grp", "status": "partial_outage"},
    {"id": "c2", "name": "Website", "group": False, "group_id": None, "status": "operational"},
]


def _incident(status: str, components: list[object]) -> dict[str, object]:
    return {
        "id": "inc1",
        "name": "Checkout slow",
        "status": status,
        "components": components,
        "incident_updates": [  # newest first, as the API serves them
            {"status": "monitoring", "body": "", "display_at": "2026-01-02T10:05:00.000Z"},
            {
                "status": "identified",
                "body": "Line one\nline two",
                "created_at": "2026-01-02T10:00:00Z",
            },
        ],
    }


def test_page_view_lists_components_and_each_incident_with_its_timeline() -> None:
    """Groups hold their components; an incident shows its updates and affected components."""
    incident = _incident(
        "monitoring", [{"id": "c1", "name": "Checkout", "status": "partial_outage"}]
    )
    lines = page_view(PAGE, COMPONENTS, [incident], Style(), {"inc1": "#1"})
    assert lines == [
        "Acme Status  (page pg1)",
        "  Components",
        "    Storefront",
        "      Checkout                 Partial outage",
        "    Website                    Operational",
        "  Active incidents",
        "    #1 Checkout slow  [Monitoring]  incident inc1",
        "      10:05:00 UTC  Monitoring",
        "      10:00:00 UTC  Identified - Line one",
        "                    line two",
        "      This incident affected: Checkout (Partial outage).",
    ]


def test_page_view_without_components_or_incidents_says_so() -> None:
    """No components: no section; bare component ids are named from the page's list."""
    assert page_view(PAGE, [], [], Style()) == [
        "Acme Status  (page pg1)",
        "  No incidents reported.",
    ]
    lines = page_view(PAGE, COMPONENTS, [_incident("resolved", ["c2"])], Style())
    assert "  Past incidents" in lines
    assert lines[-1] == "      This incident affected: Website."


def test_kept_config_toml_round_trips() -> None:
    """The TOML the kept demo writes reads back as the settings it was written from."""
    settings = demo_settings("realtime", "http://127.0.0.1:1", "http://127.0.0.1:2", "sqlite:///x")
    settings["incident_actions"][0]["statuses"] = {"accepted": "monitoring"}
    settings["incident_actions"][0]["include"] = 'quote " back \\ new\nline \x7f é'
    settings["incident_actions"][0]["notify_subscribers"] = False
    settings["metrics"] = {"listen": "127.0.0.1:9464"}
    assert tomllib.loads(render_toml(settings)) == settings
