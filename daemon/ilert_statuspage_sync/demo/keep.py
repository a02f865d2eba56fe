"""``demo --keep DIR``: leave the demo's world running so every command can be tried on it.

After the scenes, DIR holds a ready ``config.toml`` (pointing at the running
simulators), the two demo key files and the demo's ``state.db`` (its links and
audit trail). Two new alerts wait in iLert for the reader's own ``sync`` and
``trigger``. The simulators serve in the foreground until SIGTERM (exit 0) or
Ctrl-C / SIGINT (exit 130, the CLI's "interrupted"); on the way out the public
pages are printed as they are then, so the reader sees what their commands did.
The folder itself is ``kept_folder``'s, the TOML ``toml_doc``'s.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ilert_statuspage_sync.demo.demo_config import demo_components, demo_settings
from ilert_statuspage_sync.demo.kept_folder import (
    MARKER,
    config_path,
    prepare_folder,
    with_marker,
    write_private,
)
from ilert_statuspage_sync.demo.scene_table import show_pages
from ilert_statuspage_sync.demo.stage import Stage
from ilert_statuspage_sync.demo.toml_doc import render_toml
from ilert_statuspage_sync.demo.view import Style, wrapped
from ilert_statuspage_sync.simulators.seed import (
    AUTO_SOURCE,
    ILERT_KEY,
    MANUAL_SOURCE,
    STATUSPAGE_KEY,
)
from ilert_statuspage_sync.store.rate_spend import forget_all

__all__ = ["MARKER", "keep_running", "prepare_folder", "render_toml"]

EXIT_STOPPED, EXIT_INTERRUPTED = 0, 130


def keep_running(stage: Stage, out: TextIO, style: Style) -> int:
    """Write the config, print the commands, serve until a signal; the exit code."""
    # The scenes ran at the demo's own budget (600 a minute); the kept config has the
    # default (60), under which their spend would hold the reader's first `sync` for a minute.
    with stage.sessions() as session:
        forget_all(session)
        session.commit()
    stage.close_daemon()  # the reader's `sync` and `run` take the database from here
    _write_config(stage)
    opened = stage.ilert.create_alert(
        AUTO_SOURCE, "Demo: H opened after the demo", "waits for your sync"
    )
    waiting = stage.ilert.create_alert(
        MANUAL_SOURCE, "Demo: I waits for a trigger", "mirrored once you trigger it"
    )
    with _Signals() as signals:
        out.write("\n".join(_ready_lines(stage, style, opened, waiting)) + "\n")
        out.flush()
        code = signals.wait()
    try:
        show_pages(stage, out, style)
        out.write(f"simulators stopped ({'SIGTERM' if code == EXIT_STOPPED else 'interrupted'})\n")
        out.flush()
    except BrokenPipeError:  # the reader left (`| tee` ended): the code still says how it stopped
        pass
    return code


def _write_config(stage: Stage) -> None:
    """The kept config (default budgets, as a real one has them) and the two key files."""
    folder = stage.folder
    settings: dict[str, Any] = demo_settings(
        stage.lifecycle,
        stage.ilert.url,
        stage.statuspage.url,
        f"sqlite:///{folder / 'state.db'}",
        components=demo_components(stage.statuspage),
    )
    # Key files instead of variables.
    settings["ilert"] = {"api_url": stage.ilert.url, "api_key_file": str(folder / "ilert_api_key")}
    settings["connectors"]["main"] = {
        "api_url": stage.statuspage.url,
        "api_key_file": str(folder / "statuspage_api_key"),
    }
    write_private(folder / "ilert_api_key", ILERT_KEY + "\n")
    write_private(folder / "statuspage_api_key", STATUSPAGE_KEY + "\n")
    config_path(folder).unlink()  # prepare_folder's placeholder
    write_private(config_path(folder), with_marker(render_toml(settings)))


def _ready_lines(stage: Stage, style: Style, opened: int, waiting: int) -> list[str]:
    """Where everything is, and the commands to try on it.

    The prose wraps to the width; a command stays one line whatever its length
    (its paths are the reader's), with what it does on the line above it.
    """
    folder = stage.folder
    command = f"{_program()} --config {shlex.quote(str(folder / 'config.toml'))}"
    tries = (
        (f"mirrors alert {opened}: incident created", "sync"),
        ("the last decisions", "history --limit 5"),
        (f"lets alert {waiting} through manual-review", f"trigger manual-review {waiting}"),
        (f"mirrors alert {waiting} too", "sync"),
        ("exits 1 (UNHEALTHY) until `run` is running", "status"),
        ("polls every 5 s; Ctrl-C stops it", "run"),
    )
    return [
        "",
        style("Kept running (Ctrl-C or SIGTERM stops them)", "bold"),
        *_item("iLert simulator", stage.ilert.url),
        *_item("Statuspage simulator", stage.statuspage.url),
        *_item(
            "config",
            f"{folder / 'config.toml'} (demo keys in files next to it; public demo values)",
        ),
        *_item("database", f"{folder / 'state.db'} (the demo's links and audit trail)"),
        *_item(
            "since the last pass",
            f"alert {opened} opened on source {AUTO_SOURCE} (public-api); alert {waiting} on "
            f"source {MANUAL_SOURCE} waits for a trigger (manual-review)",
        ),
        "",
        "Try, in another terminal:",
        *(line for what, words in tries for line in (f"  # {what}", f"  {command} {words}")),
        "",
        *wrapped(
            f"When the simulators stop, the public pages are printed as they are then; {folder} "
            "stays (its config points at ports that are gone by then).",
            indent=0,
        ),
        style("ready", "dim"),
    ]


def _item(name: str, text: str) -> list[str]:
    """One "  name  text" line of the ready block, the text wrapped under itself."""
    lines = wrapped(text, indent=24)
    return [f"  {name:<20}  {lines[0][24:]}", *lines[1:]]


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
