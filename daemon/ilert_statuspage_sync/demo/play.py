"""``demo``: play scenes of the lifecycle table against the built-in simulators.

Real daemon code, real HTTP over loopback, a real SQLite file migrated by
Alembic. Each scene (``scenes``) changes iLert, runs one pass, and prints what
the daemon decided next to what the lifecycle table promises (``report``); at
the end, each page as its public status page shows it. The exit code says
whether every decision matched. ``--keep DIR`` leaves the last world
(``stage``) running (``keep``).

The demo's accounts and config live in ``simulators.seed`` and ``settings``;
their names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from ilert_statuspage_sync.demo.bridge_scenes import BRIDGE_SCENES
from ilert_statuspage_sync.demo.demo_config import (
    action_lines,
    demo_components,
    demo_config,
    demo_settings,
)
from ilert_statuspage_sync.demo.scene_table import (
    lifecycle_header,
    scene_lines,
    show_pages,
    verdict,
)
from ilert_statuspage_sync.demo.scenes import SCENES, Scene
from ilert_statuspage_sync.demo.stage import Stage, audit, world
from ilert_statuspage_sync.demo.view import Style, legend, wants_colour
from ilert_statuspage_sync.simulators.seed import (
    AUTO_PAGE,
    AUTO_SOURCE,
    FLEET_SOURCE,
    ILERT_KEY,
    MANUAL_PAGE,
    MANUAL_SOURCE,
    STATUSPAGE_KEY,
    STORE_SOURCE,
    seed_accounts,
)

__all__ = [
    "AUTO_PAGE",
    "AUTO_SOURCE",
    "DEMO_SCENES",
    "FLEET_SOURCE",
    "ILERT_KEY",
    "MANUAL_PAGE",
    "MANUAL_SOURCE",
    "SCENES",
    "STATUSPAGE_KEY",
    "STORE_SOURCE",
    "Scene",
    "Stage",
    "demo_components",
    "demo_config",
    "demo_settings",
    "run_demo",
    "seed_accounts",
    "show_pages",
]

# The alert scenes, then the status bridge's.
DEMO_SCENES: tuple[Scene, ...] = (*SCENES, *BRIDGE_SCENES)


def run_demo(
    lifecycle: str,
    out: TextIO,
    *,
    keep: Path | None = None,
    scenes: Sequence[Scene] = DEMO_SCENES,
) -> int:
    """Play the scenes for one lifecycle or both; 0 when every decision matched.

    With ``keep``, the last lifecycle's world stays up: a config, key files and
    the database in that folder, the simulators serving until SIGINT/SIGTERM.
    """
    from ilert_statuspage_sync.demo import keep as demo_keep  # only --keep needs signals and files

    style = Style(colour=wants_colour(out))
    lifecycles = ("classic", "realtime") if lifecycle == "both" else (lifecycle,)
    with ExitStack() as kept_world:
        kept = demo_keep.prepare_folder(keep, kept_world) if keep is not None else None
        out.write("\n".join(legend(action_lines(), style)) + "\n")
        mismatches, stage = _play_lifecycles(lifecycles, kept, kept_world, scenes, out, style)
        out.write(verdict(mismatches, style))
        out.flush()
        if stage is not None:
            code = demo_keep.keep_running(stage, out, style)
            return code if not mismatches else 1
    return 0 if not mismatches else 1


def _play_lifecycles(
    lifecycles: Sequence[str],
    kept: Path | None,
    kept_world: ExitStack,
    scenes: Sequence[Scene],
    out: TextIO,
    style: Style,
) -> tuple[int, Stage | None]:
    """Each lifecycle in a world of its own; the mismatches, and the kept world if any.

    The last world is entered on ``kept_world`` when there is a ``kept`` folder,
    so it outlives this call; the others stop when their lifecycle is played.
    """
    mismatches, stage = 0, None
    for index, name in enumerate(lifecycles):
        keeping = kept is not None and index == len(lifecycles) - 1
        with ExitStack() as played:
            owner = kept_world if keeping else played
            current = owner.enter_context(world(name, kept if keeping else None))
            mismatches += _play(current, scenes, out, style)
            show_pages(current, out, style)
        if keeping:
            stage = current
    return mismatches, stage


def _play(stage: Stage, scenes: Sequence[Scene], out: TextIO, style: Style) -> int:
    """Every scene, one pass each; the number of scenes that differ from the table."""
    out.write(lifecycle_header(stage, style))
    stage.syncer.run_pass()  # the first pass activates both incident actions
    seen = len(audit(stage))
    mismatches = 0
    for number, scene in enumerate(scenes, start=1):
        scene.act(stage)
        stage.syncer.run_pass()
        rows = audit(stage)[seen:]
        seen += len(rows)
        problem = scene.check(stage) if scene.check is not None else None
        ok, lines = scene_lines(stage, number, scene, rows, style, problem=problem)
        out.write(lines)
        mismatches += 0 if ok else 1
    stage.reset_clocks()  # a kept world runs on the real clock
    return mismatches
