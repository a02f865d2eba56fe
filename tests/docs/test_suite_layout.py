"""The test suite's own layout: tests import only ``tests.support``, never each other."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# The tests of the demo itself; every other test takes its world from tests.support.
DEMO_TESTS = {"test_demo.py", "test_discover.py", "test_demo_view.py"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def _python_files() -> list[Path]:
    return sorted(TESTS.rglob("*.py"))


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in tests/support: a test module or conftest imports no test module."""
    wrong = [
        f"{path.relative_to(TESTS)} imports {name}"
        for path in _python_files()
        for name in _imports(path)
        if name.startswith(".")
        or (name.startswith("tests.") and not name.startswith("tests.support"))
    ]
    assert wrong == []


def test_the_support_package_imports_no_test_module() -> None:
    """tests/support stands on its own: no test module, no conftest."""
    wrong = [
        f"{path.relative_to(TESTS)} imports {name}"
        for path in sorted((TESTS / "support").rglob("*.py"))
        for name in _imports(path)
        if name.startswith("tests.") and not name.startswith("tests.support")
    ]
    assert wrong == []


def test_only_the_demo_tests_import_the_demo() -> None:
    """The demo is not a fixture library: tests/support owns the world tests run in."""
    wrong = [
        str(path.relative_to(TESTS))
        for path in _python_files()
        if path.name not in DEMO_TESTS
        and any(name.startswith("ilert_statuspage_sync.demo") for name in _imports(path))
    ]
    assert wrong == []


def test_every_test_lives_in_a_folder_by_kind() -> None:
    """Test modules sit in the folders by kind; the old unit/integration split is gone."""
    kinds = {"core", "shell", "e2e", "cli", "faults", "scale", "simulators", "docs"}
    stray = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("test_*.py")
        if path.relative_to(TESTS).parts[0] not in kinds
    ]
    assert stray == []
