"""The README stays short, and it and the pages of docs/ link only to what exists."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ilert_statuspage_sync import config as loader

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
MAX_README_LINES = 260
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
ISSUE_NUMBER = re.compile(r"\bissues? #?\d+", re.IGNORECASE)


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans (line breaks kept)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            line = ""
        lines.append("" if fenced else line)
    return re.sub(r"`[^`]*`", lambda span: "\n" * span.group(0).count("\n"), "\n".join(lines))


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of ``text`` (repeats get -1, -2, ...)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = re.match(r"#{1,6} (.+)", line)
        if fenced or not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        seen = counts.get(slug, 0)
        counts[slug] = seen + 1
        found.add(slug if seen == 0 else f"{slug}-{seen}")
    return found


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """Each relative link of ``page`` whose file (inside ``root``) or #anchor does not exist."""
    text = page.read_text(encoding="utf-8")
    broken = []
    prose = _prose(text)
    for link in LINK.finditer(prose):  # a link's text may run over a line break
        target = link.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto: ...
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        number = prose.count("\n", 0, link.end()) + 1
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not file.exists() or root not in file.parents:
            broken.append(f"{where} (no such file)")
        elif anchor and (
            file.suffix != ".md" or anchor not in anchors(file.read_text(encoding="utf-8"))
        ):
            broken.append(f"{where} (no such heading)")
    return broken


def test_the_readme_stays_short() -> None:
    """README.md holds at most 260 lines; the rest belongs in docs/."""
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail to docs/"


def test_the_checker_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    """A link to a file that is not there, or to a heading a page lacks, is reported."""
    (tmp_path / "README.md").write_text("# Top\n")
    page = tmp_path / "sample.md"
    page.write_text(
        "# Sample\n\n[a](nowhere.md) [b](README.md#no-such-heading) [c](#sample) [a\nbroken\n"
        "link](gone.md) `[code](not-a-link.md)`\n"
    )
    assert broken_links(page, tmp_path) == [
        "sample.md:3: nowhere.md (no such file)",
        "sample.md:3: README.md#no-such-heading (no such heading)",
        "sample.md:5: gone.md (no such file)",
    ]


def test_anchors_follow_githubs_rules() -> None:
    """Punctuation is dropped, spaces become hyphens, a repeated heading gets a suffix."""
    text = '## Alert storms (group = "action")\n## Upgrade, rollback and backup\n## X\n## X\n'
    assert anchors(text) == {
        "alert-storms-group--action",
        "upgrade-rollback-and-backup",
        "x",
        "x-1",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path) -> None:
    """Every relative link names an existing file and, with #anchor, one of its headings."""
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_page_refers_to_issue_numbers(page: Path) -> None:
    """The docs say what is true now, never which tracker issue asked for it."""
    text = page.read_text(encoding="utf-8")
    assert ISSUE_NUMBER.findall(text) == []


def test_every_docs_page_is_in_the_index_and_starts_with_a_title() -> None:
    """docs/README.md links every page, and each page opens with its own '# ' title."""
    index = (REPO / "docs" / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert page.read_text(encoding="utf-8").startswith("# "), page.name
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"


def test_the_readme_config_loads() -> None:
    """The README's small config is one the loader accepts, mirroring one source onto one page."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block, "README.md's Configuration section lost its TOML example"
    keys = {"ILERT_API_KEY": "k-ilert", "STATUSPAGE_API_KEY": "k-statuspage"}
    config = loader.parse_config(tomllib.loads(block.group(1)), keys, origin="README.md")
    assert [action.alert_sources for action in config.incident_actions] == [(12345,)]


def _first_toml(page: Path) -> str:
    block = re.search(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    assert block, f"{page.name} lost its TOML example"
    return block.group(1)


def test_the_status_bridges_example_loads() -> None:
    """docs/status-bridges.md's config is a bridges-only config the loader accepts, not idle."""
    keys = {"ILERT_API_KEY": "k-ilert", "STATUSPAGE_API_KEY": "k-statuspage"}
    page = REPO / "docs" / "status-bridges.md"
    config = loader.parse_config(tomllib.loads(_first_toml(page)), keys, origin=page.name)
    assert config.incident_actions == () and config.warnings == ()
    assert [dict(bridge.services) for bridge in config.status_bridges] == [
        {101: "ftgks51sfs2d", 102: "zq9ldjc1hx1c"}
    ]


def test_the_annotated_configuration_example_loads() -> None:
    """docs/configuration.md's annotated example loads, with its action and its bridge."""
    keys = {"ILERT_API_KEY": "k-ilert", "STATUSPAGE_API_KEY": "k-statuspage"}
    page = REPO / "docs" / "configuration.md"
    config = loader.parse_config(tomllib.loads(_first_toml(page)), keys, origin=page.name)
    assert [action.name for action in config.incident_actions] == ["public-api"]
    assert [bridge.name for bridge in config.status_bridges] == ["platform"]
