"""``demo --keep DIR``: leave the demo's world running so every command can be tried on it.

After the scenes, DIR holds a ready ``config.toml`` (pointing at the running
simulators), the two demo key files and the demo's ``state.db`` (its links and
audit trail). Two new alerts wait in iLert for the reader's own ``sync`` and
``trigger``. The simulators serve in the foreground until SIGTERM (exit 0) or
Ctrl-C / SIGINT (exit 130, the CLI's "interrupted"); on the way out the public
pages are printed as they are then, so the reader sees what their commands did.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ilert_statuspage_sync.commands.starter_config import toml_key, toml_string
from ilert_statuspage_sync.errors import ConfigError
from ilert_statuspage_sync.service.leadership import FileLeadership

if TYPE_CHECKING:
    from ilert_statuspage_sync.demo.play import Stage
    from ilert_statuspage_sync.demo.view import Style

__all__ = ["MARKER", "keep_running", "prepare_folder", "render_toml"]

# The first line of a config this module wrote, then the SHA-256 of the rest: only
# such a folder is reused. A kept config someone edited (a start for a real one) is theirs.
MARKER = "# written by `ilert-statuspage-sync demo --keep`"
_LOCKS = ("demo.lock", "state.db.lock")
_OWN_FILES = ("config.toml", "ilert_api_key", "statuspage_api_key", "state.db", "state.db.lock")
EXIT_STOPPED, EXIT_INTERRUPTED = 0, 130


def prepare_folder(folder: Path, stack: ExitStack) -> Path:
    """DIR, created if missing and emptied of a previous ``--keep``'s files; absolute.

    A folder holding a config.toml this command did not write, or other files
    without one (``demo --keep .`` beside a real ``state.db``), is refused
    (exit 2): the demo never deletes what it did not write. So is a folder in use:
    another ``demo --keep`` serving from it (its ``demo.lock``, held until
    ``stack`` closes) or a ``run``/``sync`` holding its ``state.db``; deleting
    a database under a running daemon would stop it or worse.
    """
    folder = folder.expanduser().absolute()
    config = folder / "config.toml"
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"demo --keep {folder}: not a folder")
    if any(not character.isprintable() for character in str(folder)):
        raise ConfigError(f"demo --keep {str(folder)!r}: pick a path without control characters")
    if config.exists() and not _ours(config):
        raise ConfigError(
            f"demo --keep {folder}: {config} exists and was not written by the demo; "
            "pick a new or empty folder"
        )
    others = sorted(p.name for p in _entries(folder) if p.name not in _LOCKS)
    if others and not config.exists():
        raise ConfigError(
            f"demo --keep {folder}: holds files the demo did not write ({others[0]}, ...); "
            "pick a new or empty folder"
        )
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700)
    info = folder.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o002:
        # Whoever else may write here could swap a key file for a link to one of ours.
        raise ConfigError(
            f"demo --keep {folder}: the folder is writable by other users or not yours; "
            "pick a folder of your own"
        )
    _take(FileLeadership(folder / "demo"), f"demo --keep {folder}: another demo", stack)
    with ExitStack() as clearing:  # no daemon may hold the database while it is deleted
        _take(FileLeadership(folder / "state.db"), f"demo --keep {folder}: a daemon", clearing)
        for name in (*_OWN_FILES, "state.db-wal", "state.db-shm", "state.db-journal"):
            (folder / name).unlink(missing_ok=True)
    # Ours from now on: a demo killed before "ready" leaves a folder the next one reuses.
    _write(config, _with_marker("# the demo is starting; its config is written when ready\n"))
    return folder


def _entries(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _take(lock: FileLeadership, who: str, stack: ExitStack) -> None:
    """Hold ``lock`` until ``stack`` closes, or refuse naming the process that holds it."""
    if not lock.try_acquire():
        raise ConfigError(f"{who} (pid {lock.holder()}) is using this folder; stop it first")
    stack.callback(lock.release)


def _ours(config: Path) -> bool:
    """Written by the demo and unchanged since (the marker names the rest's digest)."""
    try:
        first, _, rest = config.read_bytes().partition(b"\n")
    except OSError:
        return False
    return first.decode("utf-8", "replace") == _marker(rest)


def _marker(rest: bytes) -> str:
    return f"{MARKER}, sha256 {hashlib.sha256(rest).hexdigest()}"


def _with_marker(text: str) -> str:
    return f"{_marker(text.encode())}\n{text}"


def keep_running(stage: Stage, out: TextIO, style: Style) -> int:
    """Write the config, print the commands, serve until a signal; the exit code."""
    from ilert_statuspage_sync.demo.play import (
        AUTO_SOURCE,
        ILERT_KEY,
        MANUAL_SOURCE,
        STATUSPAGE_KEY,
        demo_components,
        demo_settings,
        show_pages,
    )

    stage.close_daemon()  # the reader's `sync` and `run` take the database from here
    folder = stage.folder
    settings = demo_settings(
        stage.lifecycle,
        stage.ilert.url,
        stage.statuspage.url,
        f"sqlite:///{folder / 'state.db'}",
        components=demo_components(stage.statuspage),
    )
    # Default budgets, as a real config has them; key files instead of variables.
    settings["ilert"] = {"api_url": stage.ilert.url, "api_key_file": str(folder / "ilert_api_key")}
    settings["connectors"]["main"] = {
        "api_url": stage.statuspage.url,
        "api_key_file": str(folder / "statuspage_api_key"),
    }
    _write(folder / "ilert_api_key", ILERT_KEY + "\n")
    _write(folder / "statuspage_api_key", STATUSPAGE_KEY + "\n")
    (folder / "config.toml").unlink()  # prepare_folder's placeholder
    _write(folder / "config.toml", _with_marker(render_toml(settings)))
    opened = stage.ilert.create_alert(
        AUTO_SOURCE, "Demo: H opened after the demo", "waits for your sync"
    )
    waiting = stage.ilert.create_alert(
        MANUAL_SOURCE, "Demo: I waits for a trigger", "mirrored once you trigger it"
    )
    command = f"{_program()} --config {shlex.quote(str(folder / 'config.toml'))}"
    lines = [
        "",
        style("Kept running (Ctrl-C or SIGTERM stops them)", "bold"),
        f"  iLert simulator       {stage.ilert.url}",
        f"  Statuspage simulator  {stage.statuspage.url}",
        f"  config                {folder / 'config.toml'}  (demo keys in files next to it; "
        "public demo values)",
        f"  database              {folder / 'state.db'}  (the demo's links and audit trail)",
        f"  since the last pass   alert {opened} opened on source {AUTO_SOURCE} (public-api); "
        f"alert {waiting} on source {MANUAL_SOURCE} waits for a trigger (manual-review)",
        "",
        "Try, in another terminal:",
        f"  {command} sync                # mirrors alert {opened}: incident created",
        f"  {command} history --limit 5",
        f"  {command} trigger manual-review {waiting}",
        f"  {command} sync                # mirrors alert {waiting} too",
        f"  {command} status              # exits 1 (UNHEALTHY) until `run` is running",
        f"  {command} run                 # polls every 5 s; Ctrl-C stops it",
        "",
        "When the simulators stop, the public pages are printed as they are then;",
        f"{folder} stays (its config points at ports that are gone by then).",
        style("ready", "dim"),
    ]
    with _Signals() as signals:
        out.write("\n".join(lines) + "\n")
        out.flush()
        code = signals.wait()
    try:
        show_pages(stage, out, style)
        out.write(f"simulators stopped ({'SIGTERM' if code == EXIT_STOPPED else 'interrupted'})\n")
        out.flush()
    except BrokenPipeError:  # the reader left (`| tee` ended): the code still says how it stopped
        pass
    return code


class _Signals:
    """SIGTERM and SIGINT set an event instead of ending the process (installed before "ready")."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.stop = threading.Event()
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        self.stop.set()

    def wait(self) -> int:
        """Block until a signal came: 0 for SIGTERM, 130 for SIGINT (Ctrl-C)."""
        while not self.stop.wait(0.5):
            pass
        return EXIT_INTERRUPTED if self.received[0] == signal.SIGINT else EXIT_STOPPED


def _program() -> str:
    """How to call this program again: the console script next to this Python, else -m."""
    script = Path(sys.executable).parent / "ilert-statuspage-sync"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m ilert_statuspage_sync"


def _write(path: Path, text: str) -> None:
    """A new file only its owner reads; never through a link someone put there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def render_toml(settings: dict[str, Any]) -> str:
    """A TOML document for the config's shape: scalars, tables, arrays of tables.

    Keys and strings as the starter config writes them; nested tables inside
    an array of tables are written inline.
    """
    scalars = {key: value for key, value in settings.items() if not _is_table(value)}
    lines = [f"{toml_key(key)} = {_value(value)}" for key, value in scalars.items()]
    for key, value in settings.items():
        if isinstance(value, dict):
            lines += _table(key, value)
        elif _is_table(value):
            for item in value:
                lines += ["", f"[[{key}]]"]
                lines += [f"{toml_key(k)} = {_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _table(name: str, table: dict[str, Any]) -> list[str]:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
    # A table holding only tables needs no header of its own.
    lines = ["", f"[{name}]", *(f"{toml_key(k)} = {_value(v)}" for k, v in scalars.items())]
    lines = lines if scalars else []
    for key, value in table.items():
        if isinstance(value, dict):
            lines += _table(f"{name}.{toml_key(key)}", value)
    return lines


def _is_table(value: object) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
