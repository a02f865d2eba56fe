"""The version is honest: the package's number is CHANGELOG.md's newest release, whose schema
line names the newest migration this release ships."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import ilert_statuspage_sync
from ilert_statuspage_sync.store.database import head_revision

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)


def _sections() -> dict[str, str]:
    """Each ``## [heading]`` of the changelog and its text, newest first."""
    parts = re.split(r"^## \[([^\]]+)\].*$", CHANGELOG.read_text(encoding="utf-8"), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_version_is_the_newest_release_and_names_the_newest_schema() -> None:
    """``--version``, the installed metadata and the newest release heading agree, and that
    release's ``Schema:`` is the head of migrations/ (a new migration needs a new release)."""
    newest = RELEASE.search(CHANGELOG.read_text(encoding="utf-8"))
    assert newest is not None, "CHANGELOG.md has no '## [X.Y.Z] - YYYY-MM-DD' heading"
    assert ilert_statuspage_sync.__version__ == newest.group(1)
    assert version("ilert-statuspage-sync") == newest.group(1)
    sections = _sections()
    schema = re.search(r"^Schema: (\d{4})\b", sections[newest.group(1)], re.MULTILINE)
    assert schema is not None, f"the {newest.group(1)} entry names no schema"
    assert schema.group(1) == head_revision()
    unreleased = sections.get("Unreleased", "")
    assert "Schema:" not in unreleased, "a new schema ships with a release heading and a version"
