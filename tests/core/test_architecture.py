"""The core stays pure: no I/O libraries, no network, no clock, no shell modules."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
# The pure core may use its own modules and the shared error tree, nothing of the shell;
# of the runtime only the text tables and the key mask (string functions, no I/O) that
# the error tree uses too.
ALLOWED_INTERNAL = (
    "ilert_statuspage_sync.core",
    "ilert_statuspage_sync.errors",
    "ilert_statuspage_sync.runtime.secrets",
    "ilert_statuspage_sync.runtime.ignorable",
)
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


# ---------------------------------------------------------------------------
# The whole layer table, SQL only in store/, and the shape limits.
# ---------------------------------------------------------------------------

ROOT = CORE_DIR.parents[2]
PACKAGE_DIR = CORE_DIR.parent
MIGRATIONS_DIR = ROOT / "migrations"
# Every module of the daemon and the migrations, keyed by a path relative to the checkout.
SHELL_MODULES = {
    path.relative_to(ROOT).as_posix(): path
    for path in sorted([*PACKAGE_DIR.rglob("*.py"), *MIGRATIONS_DIR.rglob("*.py")])
}

# Rank of each layer, low to high: a module may import its own layer and lower ranks only.
# Layers of one rank (store/clients; commands/demo/docgen) may not import each other.
LAYER_RANK = {
    "runtime": 0,
    "errors": 0,
    "core": 1,
    "config": 2,
    "store": 3,
    "clients": 3,
    "sync": 4,
    "service": 5,
    "commands": 6,
    "demo": 6,
    "docgen": 6,
}
# Layers outside the ladder and what each may import besides itself.
SIDE_LAYERS = {
    "simulators": frozenset({"errors", "runtime"}),
    "migrations": frozenset({"store", "config", "core", "runtime", "errors"}),
}
# Who may import a side layer: the demo plays its scenes against the simulators.
SIDE_USERS = {"simulators": frozenset({"demo"})}


def _layer_of_module(module: str) -> str | None:
    """The layer of a dotted module name of the package, or None for the package root."""
    parts = module.split(".")
    if parts[0] == "migrations":
        return "migrations"
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYER_RANK or parts[1] in SIDE_LAYERS else None


def _layer_of_path(relative: str) -> str | None:
    """The layer of a module given by its path relative to the checkout."""
    parts = Path(relative).with_suffix("").parts
    if parts[0] == "migrations":
        return "migrations"
    return _layer_of_module(".".join(parts[1:]))


# The CLI is the entry point: its ``demo`` subcommand dispatches to the demo package.
DISPATCH_EXCEPTIONS = frozenset({("daemon/ilert_statuspage_sync/commands/dispatch.py", "demo")})


def _may_import(importer: str, imported: str) -> bool:
    # runtime and errors form the bottom layer together.
    if importer == imported or {importer, imported} <= {"runtime", "errors"}:
        return True
    if importer in SIDE_LAYERS:
        return imported in SIDE_LAYERS[importer]
    if imported in SIDE_LAYERS:
        return importer in SIDE_USERS.get(imported, ())
    return LAYER_RANK[imported] < LAYER_RANK[importer]


def _imported_modules(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """Every module an ``import`` names, anywhere in the tree (functions, TYPE_CHECKING)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if module == PACKAGE:  # ``from ilert_statuspage_sync import config``
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def layer_violations(source: str, relative: str) -> list[Violation]:
    """Every import in ``source`` (a module at ``relative``) that points up or sideways."""
    importer = _layer_of_path(relative)
    if importer is None:
        return []
    package = ".".join(Path(relative).with_suffix("").parts[1:-1])
    found = []
    for line, module in _imported_modules(ast.parse(source), package):
        imported = _layer_of_module(module)
        if imported is None or (relative, imported) in DISPATCH_EXCEPTIONS:
            continue
        if not _may_import(importer, imported):
            found.append(Violation(line, f"{importer} imports {module}"))
    return found


SQL_FUNCTIONS = frozenset(
    {"select", "update", "delete", "insert", "text", "func", "and_", "or_", "exists"}
)
SQL_METHODS = frozenset({"execute", "scalars", "scalar", "query"})
SQL_HOMES = ("daemon/ilert_statuspage_sync/store/", "migrations/")


def _sqlalchemy_names(tree: ast.AST) -> dict[str, str]:
    """Local names bound to sqlalchemy modules or names, mapped to their full dotted name."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    local = alias.asname or alias.name.split(".")[0]
                    names[local] = alias.name if alias.asname else "sqlalchemy"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _sql_call(node: ast.Call, names: dict[str, str]) -> str | None:
    """What SQL the call runs, if it is a statement builder or a session/connection query."""
    target = _dotted(node.func)
    if target is not None:
        head, _, rest = target.partition(".")
        full = ".".join(filter(None, [names.get(head, ""), rest])) if head in names else ""
        parts = full.split(".")
        if full and any(part in SQL_FUNCTIONS for part in parts[1:]):
            return f"calls {full}()"
    if isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS:
        return f"calls .{node.func.attr}()"
    return None


def sql_violations(source: str) -> list[Violation]:
    """Every sqlalchemy statement built or run in ``source``."""
    tree = ast.parse(source)
    names = _sqlalchemy_names(tree)
    found = [
        Violation(node.lineno, what)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and (what := _sql_call(node, names))
    ]
    return sorted(found, key=lambda violation: violation.line)


MAX_CLASS_LINES = 400
MAX_FUNCTION_LINES = 60


def _qualified_blocks(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    """Every class and function with its qualified name (``Class.method``, ``f.inner``)."""
    found: list[tuple[str, ast.AST]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            name = f"{prefix}{node.name}"
            found.append((name, node))
            found += _qualified_blocks(node, f"{name}.")
        else:
            found += _qualified_blocks(node, prefix)
    return found


def shape_violations(source: str) -> list[str]:
    """Qualified names of classes over 400 lines and functions over 60 lines."""
    found = []
    for name, node in _qualified_blocks(ast.parse(source)):
        assert isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
        if length > limit:
            found.append(name)
    return found


def _radon_functions(blocks: list[Any]) -> list[Any]:
    """radon's functions, methods and closures, flattened (classes themselves left out)."""
    found = []
    for block in blocks:
        if hasattr(block, "methods"):
            found += _radon_functions(block.methods)
        else:
            found += [block, *_radon_functions(block.closures)]
    return found


def complexity_violations(source: str) -> list[str]:
    """Qualified names of functions radon rates D or worse (cyclomatic complexity > 20)."""
    from radon.complexity import cc_rank, cc_visit  # type: ignore[import-untyped]

    # cc_visit lists methods both on their own and inside their class: count each once.
    return sorted(
        {
            function.fullname
            for function in _radon_functions(cc_visit(source))
            if cc_rank(function.complexity) >= "D"
        }
    )


_PKG = "daemon/ilert_statuspage_sync"


def _all_layer_offences() -> set[str]:
    return {
        f"{relative}:{v.what.split(' imports ')[1]}"
        for relative, path in SHELL_MODULES.items()
        for v in layer_violations(path.read_text(encoding="utf-8"), relative)
    }


def _all_sql_offences() -> set[str]:
    return {
        relative
        for relative, path in SHELL_MODULES.items()
        if not relative.startswith(SQL_HOMES) and sql_violations(path.read_text(encoding="utf-8"))
    }


def _all_shape_offences() -> set[str]:
    return {
        f"{relative}::{name}"
        for relative, path in SHELL_MODULES.items()
        for name in shape_violations(path.read_text(encoding="utf-8"))
    }


def _all_complexity_offences() -> set[str]:
    return {
        f"{relative}::{name}"
        for relative, path in SHELL_MODULES.items()
        for name in complexity_violations(path.read_text(encoding="utf-8"))
    }


def _report(offences: set[str]) -> str:
    return "offenders:\n  " + "\n  ".join(sorted(offences))


def test_shell_modules_are_found():
    """The checks see every layer and the migrations, so an empty glob cannot pass silently."""
    layers = {_layer_of_path(relative) for relative in SHELL_MODULES}

    assert set(LAYER_RANK) | set(SIDE_LAYERS) <= layers


def test_imports_follow_the_layer_table():
    """No module imports a higher or sibling layer."""
    offences = _all_layer_offences()

    assert not offences, _report(offences)


def test_sql_stays_in_store():
    """Only store/ and the migrations build or run SQL."""
    offences = _all_sql_offences()

    assert not offences, _report(offences)


def test_classes_and_functions_keep_their_size():
    """No class is over 400 lines, no function over 60."""
    offences = _all_shape_offences()

    assert not offences, _report(offences)


def test_no_function_is_rated_d_or_worse():
    """radon rates no function D or worse."""
    offences = _all_complexity_offences()

    assert not offences, _report(offences)


_SERVICE = f"{_PKG}/service/probe.py"
_SIMULATOR = f"{_PKG}/simulators/probe.py"


@pytest.mark.parametrize(
    ("source", "relative"),
    [
        ("from ilert_statuspage_sync.service.daemon import run", f"{_PKG}/sync/probe.py"),
        ("from ilert_statuspage_sync.clients import http", f"{_PKG}/store/probe.py"),
        ("from ilert_statuspage_sync import config", f"{_PKG}/core/probe.py"),
        ("from ..sync import syncer", f"{_PKG}/config/probe.py"),
        ("import ilert_statuspage_sync.commands.cli", _SERVICE),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from ilert_statuspage_sync.service import metrics",
            f"{_PKG}/store/probe.py",
        ),
        ("def f():\n    from ilert_statuspage_sync.store import repo", f"{_PKG}/runtime/probe.py"),
        ("from ilert_statuspage_sync.config import Config", _SIMULATOR),
        ("from ilert_statuspage_sync.sync import syncer", "migrations/env.py"),
        ("from ilert_statuspage_sync.simulators import ilert", _SERVICE),
    ],
    ids=[
        "sync-imports-service",
        "store-imports-clients",
        "core-imports-config",
        "relative-upward",
        "service-imports-commands",
        "type-checking",
        "lazy-in-function",
        "simulator-imports-config",
        "migration-imports-sync",
        "service-imports-simulators",
    ],
)
def test_layer_checker_catches_upward_imports(source, relative):
    """The layer checker flags imports up or sideways, also lazy and TYPE_CHECKING ones."""
    assert layer_violations(source, relative) != []


@pytest.mark.parametrize(
    ("source", "relative"),
    [
        ("from ilert_statuspage_sync.store import repo", _SERVICE),
        ("from ..errors import SyncError\nfrom .shutdown import x", f"{_PKG}/runtime/probe.py"),
        ("from ilert_statuspage_sync.runtime import logs", _SIMULATOR),
        ("from ilert_statuspage_sync.store.tables import Base", "migrations/env.py"),
        ("from ilert_statuspage_sync.demo.play import run_demo", f"{_PKG}/commands/dispatch.py"),
    ],
    ids=["downward", "bottom-layer", "simulator-runtime", "migration-store", "cli-dispatch"],
)
def test_layer_checker_allows_downward_imports(source, relative):
    """Imports down the table, within the bottom layer and the CLI's demo dispatch pass."""
    assert layer_violations(source, relative) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy as sa\nq = sa.select(T)",
        "import sqlalchemy\nq = sqlalchemy.update(T)",
        "from sqlalchemy import delete\nq = delete(T)",
        "from sqlalchemy import insert as ins\nq = ins(T)",
        "import sqlalchemy as sa\nq = sa.text('SELECT 1')",
        "import sqlalchemy as sa\nq = sa.func.count(T.id)",
        "from sqlalchemy import and_, or_\nq = and_(a, or_(b, c))",
        "import sqlalchemy as sa\nq = sa.exists()",
        "session.execute(statement)",
        "rows = session.scalars(statement)",
        "n = connection.scalar(statement)",
        "rows = session.query(T).all()",
    ],
    ids=[
        "select",
        "update",
        "delete",
        "aliased-insert",
        "text",
        "func",
        "and-or",
        "exists",
        "execute",
        "scalars",
        "scalar",
        "query",
    ],
)
def test_sql_checker_catches_statements(source):
    """The SQL checker flags each statement builder and each way of running one."""
    assert sql_violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.orm import Session\ndef f(s: Session) -> None: ...",
        "import sqlalchemy as sa\ninspector = sa.inspect(engine)",
        "from sqlalchemy.orm.attributes import set_committed_value\nset_committed_value(o, 'a', 1)",
        "from sqlalchemy.exc import OperationalError\n"
        "try:\n    pass\nexcept OperationalError:\n    pass",
        "with sessions() as session:\n    session.commit()",
    ],
    ids=["type-hint", "inspect", "set-committed-value", "exception-class", "session"],
)
def test_sql_checker_allows_sessions_and_types(source):
    """Type hints, sa.inspect, set_committed_value, exceptions and sessions are not SQL."""
    assert sql_violations(source) == []


def _lines(count: int) -> str:
    return "".join(f"    x{i} = {i}\n" for i in range(count))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"def long():\n{_lines(60)}", ["long"]),
        (f"class Big:\n{_lines(400)}", ["Big"]),
        (
            f"class A:\n    def m(self):\n    {_lines(60).replace(chr(10), chr(10) + '    ')}",
            ["A.m"],
        ),
        (f"def short():\n{_lines(59)}", []),
    ],
    ids=["long-function", "big-class", "long-method", "at-the-limit"],
)
def test_shape_checker_catches_oversize(source, expected):
    """The shape checker flags a function over 60 lines and a class over 400, not one at 60."""
    assert shape_violations(source) == expected


def test_complexity_checker_catches_rank_d():
    """A function with 21 branches is rated D and flagged; a method of a class too."""
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(20))
    tangled = f"def tangled(x):\n{branches}    return -1\n"
    method = "class C:\n" + tangled.replace("\n", "\n    ").replace("def tangled", "    def m", 1)

    assert complexity_violations(tangled) == ["tangled"]
    assert complexity_violations(method) == ["C.m"]
    assert complexity_violations("def simple(x):\n    return x\n") == []
