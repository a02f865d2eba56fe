"""The core stays pure: no I/O libraries, no network, no clock, no shell modules."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

CORE_DIR = Path(__file__).resolve().parents[2] / "daemon" / "ilert_statuspage_sync" / "core"
CORE_MODULES = sorted(CORE_DIR.rglob("*.py"))
PACKAGE = "ilert_statuspage_sync"

FORBIDDEN_MODULES = frozenset(
    {
        "requests",
        "sqlalchemy",
        "alembic",
        "structlog",
        "apscheduler",
        "socket",
        "http",
        "urllib",
        "time",
    }
)
# The pure core may use its own modules and the shared error tree, nothing of the shell.
ALLOWED_INTERNAL = ("ilert_statuspage_sync.core", "ilert_statuspage_sync.errors")
CLOCK_METHODS = frozenset({"now", "utcnow", "today"})
CLOCK_OWNERS = frozenset({"datetime", "date"})


@dataclass(frozen=True)
class Violation:
    """One impure construct found in a module."""

    line: int
    what: str


def _absolute(node: ast.ImportFrom, module_path: Path) -> str:
    """The absolute module name of a ``from ... import`` (resolving relative imports)."""
    if node.level == 0:
        return node.module or ""
    parts = [PACKAGE, "core", *module_path.relative_to(CORE_DIR).with_suffix("").parts][
        : -node.level
    ]
    return ".".join([*parts, node.module] if node.module else parts)


def _owner_names(tree: ast.AST) -> set[str]:
    """Names bound to the datetime module or its datetime/date classes (aliases included)."""
    names = set(CLOCK_OWNERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname for a in node.names if a.name == "datetime" and a.asname}
        elif isinstance(node, ast.ImportFrom) and node.module == "datetime":
            names |= {a.asname or a.name for a in node.names if a.name in CLOCK_OWNERS}
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _import_violations(modules: list[str], line: int) -> list[Violation]:
    found = []
    for module in modules:
        if module.split(".")[0] in FORBIDDEN_MODULES:
            found.append(Violation(line, f"imports {module}"))
        elif module.split(".")[0] == PACKAGE and not module.startswith(ALLOWED_INTERNAL):
            found.append(Violation(line, f"imports shell module {module}"))
    return found


def _call_violations(node: ast.Call, owners: set[str]) -> list[Violation]:
    target = _dotted(node.func)
    if target in {"__import__", "importlib.import_module"}:
        return [Violation(node.lineno, "imports dynamically")]
    if not isinstance(node.func, ast.Attribute) or node.func.attr not in CLOCK_METHODS:
        return []
    owner = _dotted(node.func.value)
    if owner is None or not {owner.split(".")[0], owner.split(".")[-1]} & owners:
        return []
    return [Violation(node.lineno, f"calls {owner}.{node.func.attr}()")]


def violations(source: str, module_path: Path = CORE_DIR / "probe.py") -> list[Violation]:
    """Every forbidden import, shell import and clock call in ``source``."""
    tree = ast.parse(source)
    owners = _owner_names(tree)
    found: list[Violation] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += _import_violations([alias.name for alias in node.names], node.lineno)
        elif isinstance(node, ast.ImportFrom):
            found += _import_violations([_absolute(node, module_path)], node.lineno)
            if node.module == "datetime":
                clock = [alias.name for alias in node.names if alias.name in CLOCK_METHODS]
                found += [Violation(node.lineno, f"imports datetime.{name}") for name in clock]
        elif isinstance(node, ast.Call):
            found += _call_violations(node, owners)
    return sorted(found, key=lambda violation: violation.line)


def test_core_modules_are_found():
    """The check sees the core's modules, so an empty glob cannot pass silently."""
    names = {path.name for path in CORE_MODULES}

    assert {"model.py", "parse.py", "diff.py", "plan.py", "lifecycle.py"} <= names


@pytest.mark.parametrize(
    "path", CORE_MODULES, ids=[str(path.relative_to(CORE_DIR)) for path in CORE_MODULES]
)
def test_core_module_is_pure(path):
    """A core module imports no I/O, network, clock or shell module and never reads the clock."""
    found = violations(path.read_text(encoding="utf-8"), path)

    assert found == [], "\n".join(f"{path.name}:{v.line}: {v.what}" for v in found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import requests", "imports requests"),
        ("import sqlalchemy.orm as orm", "imports sqlalchemy.orm"),
        ("from alembic import op", "imports alembic"),
        ("import structlog", "imports structlog"),
        ("from apscheduler.schedulers.background import X", "imports apscheduler.schedulers"),
        ("import socket", "imports socket"),
        ("import http.client", "imports http.client"),
        ("from urllib.parse import urlsplit", "imports urllib.parse"),
        ("import time", "imports time"),
        ("from time import monotonic", "imports time"),
        ("from datetime import datetime\nx = datetime.now()", "calls datetime.now()"),
        ("import datetime\nx = datetime.datetime.now(tz)", "calls datetime.datetime.now()"),
        ("import datetime as dt\nx = dt.datetime.utcnow()", "calls dt.datetime.utcnow()"),
        ("from datetime import datetime as D\nx = D.now()", "calls D.now()"),
        ("from datetime import date\nx = date.today()", "calls date.today()"),
        ("from ilert_statuspage_sync.clients import http", "imports shell module"),
        ("from ..store import repo", "imports shell module"),
        ("import importlib\nm = importlib.import_module('time')", "imports dynamically"),
    ],
    ids=[
        "requests",
        "sqlalchemy",
        "alembic",
        "structlog",
        "apscheduler",
        "socket",
        "http",
        "urllib",
        "time",
        "from-time",
        "datetime-now",
        "module-datetime-now",
        "aliased-module-utcnow",
        "aliased-class-now",
        "date-today",
        "shell-absolute",
        "shell-relative",
        "dynamic-import",
    ],
)
def test_checker_catches_impurity(source, expected):
    """The checker itself flags each kind of impurity it is meant to forbid."""
    found = violations(source)

    assert any(v.what.startswith(expected) for v in found), found


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import UTC, datetime, timedelta\nx = datetime(2024, 1, 1, tzinfo=UTC)",
        "from datetime import datetime\nx = datetime.fromisoformat('2024-01-01')",
        "from ilert_statuspage_sync.core.model import Alert",
        "from ilert_statuspage_sync.errors import PayloadError",
        "from .model import Alert",
        "import enum\nfrom collections.abc import Mapping",
        "x = thing.now()",
    ],
    ids=[
        "datetime-constructor",
        "fromisoformat",
        "core-import",
        "errors-import",
        "relative-core-import",
        "stdlib",
        "unrelated-now",
    ],
)
def test_checker_allows_pure_code(source):
    """Building datetimes, parsing them and importing the core or errors is allowed."""
    assert violations(source) == []
