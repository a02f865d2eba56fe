"""Stand-ins for ``systemctl``, ``systemd-run`` and ``python3 -m venv`` under a ROOT prefix.

This machine cannot run systemd as PID 1, so tests/cli/test_install.py puts these
on PATH while it replays contrib/install.sh with ``ROOT=DIR``. They do for a unit what
systemd does before it executes ``ExecStart=``, reading the unit file the script
installed (or ``systemd-run -p`` properties):

- ``DynamicUser=``: an unprivileged uid/gid derived from ``User=`` (else the unit name),
  the same for every unit naming the same user, no supplementary groups (``setpriv``);
- ``StateDirectory=``: ``/var/lib/private/NAME`` (parent 0700), owned by that uid
  (re-owned when the uid differs), with the ``/var/lib/NAME`` symlink;
- ``RuntimeDirectory=``: ``/run/NAME`` owned by that uid with ``RuntimeDirectoryMode=``;
- ``LoadCredential=ID:PATH``: read as root, copied 0400 for that uid into
  ``/run/credentials/UNIT``, named by ``$CREDENTIALS_DIRECTORY``;
- ``UMask=``, ``WorkingDirectory=``, ``Environment=``, and ``Type=notify`` (``systemctl
  start`` returns once the service sent ``READY=1``);
- the paths the service sees: a private mount namespace shows DIR/etc over /etc (with
  the files' real owners and modes), DIR/opt as /opt, and the directories above at their
  real paths, so the config, keys and state are reached exactly by the paths in the unit.

Not emulated: the sandbox options (``ProtectSystem=``, ``SystemCallFilter=``, ...), which
test_systemd_unit.py checks with ``systemd-analyze``; ``python3 -m venv`` + ``pip install``
link the checkout's own virtualenv instead of installing from an index (no network).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

# The packages the service imports from the checkout (the migrations live beside daemon/).
_PACKAGES = ("ilert_statuspage_sync", "ilert_statuspage_sync.migrations")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
READY_TIMEOUT = 60.0


def uid_for(user: str) -> int:
    """The stand-in's dynamic uid for a user name, in systemd's dynamic range."""
    return 61184 + zlib.crc32(user.encode()) % 4000


def parse_unit(text: str, section: str = "Service") -> list[tuple[str, str]]:
    """The settings of one section (``[Service]`` unless told) of a unit file, in order
    (keys may repeat)."""
    settings, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line
        elif current == f"[{section}]":
            key, _, value = line.partition("=")
            settings.append((key.strip(), value.strip()))
    return settings


def _values(settings: list[tuple[str, str]], key: str) -> list[str]:
    return [value for name, value in settings if name == key]


def _last(settings: list[tuple[str, str]], key: str, default: str) -> str:
    found = _values(settings, key)
    return found[-1] if found else default


def service_command(
    root: Path,
    unit: str,
    settings: list[tuple[str, str]],
    argv: list[str],
    notify_socket: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Prepare ``root`` as systemd would for ``settings``; return the command and env."""
    user = _last(settings, "User", unit)
    uid = uid_for(user)
    mounts = [
        f"mount -t overlay overlay -o lowerdir={root}/etc:/etc /etc",
        f"mount --bind {root}/opt /opt",
        "mount -t tmpfs -o mode=0755 tmpfs /var/lib",
        "mount -t tmpfs -o mode=0755 tmpfs /run",
    ]
    env = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/", "USER": user, "LOGNAME": user}
    private = root / "var/lib/private"
    private.mkdir(parents=True, exist_ok=True)
    private.chmod(0o700)
    for name in _values(settings, "StateDirectory"):
        folder = private / name
        folder.mkdir(exist_ok=True)
        if folder.stat().st_uid != uid:
            _chown_tree(folder, uid)
        folder.chmod(int(_last(settings, "StateDirectoryMode", "0755"), 8))
        link = root / "var/lib" / name
        if not link.is_symlink():
            link.symlink_to(f"private/{name}")
        mounts += [f"mkdir -p /var/lib/{name}", f"mount --bind {folder} /var/lib/{name}"]
    (root / "run").mkdir(exist_ok=True)
    (root / "run").chmod(0o755)
    for name in _values(settings, "RuntimeDirectory"):
        folder = root / "run" / name
        folder.mkdir(exist_ok=True)
        os.chown(folder, uid, uid)
        folder.chmod(int(_last(settings, "RuntimeDirectoryMode", "0755"), 8))
        mounts += [f"mkdir -p /run/{name}", f"mount --bind {folder} /run/{name}"]
    credentials = _values(settings, "LoadCredential")
    if credentials:
        folder = root / "run/credentials" / unit
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for spec in credentials:
            name, _, source = spec.partition(":")
            target = folder / name
            target.write_bytes((root / source.lstrip("/")).read_bytes())  # read as root
            os.chown(target, uid, uid)
            target.chmod(0o400)
        os.chown(folder, uid, uid)
        folder.chmod(0o500)
        mounts += [
            f"mkdir -p /run/credentials/{unit}",
            f"mount --bind {folder} /run/credentials/{unit}",
        ]
        env["CREDENTIALS_DIRECTORY"] = f"/run/credentials/{unit}"
    for assignment in _values(settings, "Environment"):
        for pair in shlex.split(assignment):
            key, _, value = pair.partition("=")
            env[key] = value
    if notify_socket:
        env["NOTIFY_SOCKET"] = notify_socket
    mounts += _expose_interpreter(root)  # last: it may hide a folder the mounts above read
    workdir = _last(settings, "WorkingDirectory", "/")
    umask = _last(settings, "UMask", "0022")
    script = "; ".join(
        [
            "set -e",
            *mounts,
            f"cd {shlex.quote(workdir)}",
            f"umask {umask}",
            shlex.join(
                [
                    "exec",
                    "setpriv",
                    f"--reuid={uid}",
                    f"--regid={uid}",
                    "--clear-groups",
                    "--inh-caps=-all",
                    "--bounding-set=-all",
                    "env",
                    "-i",
                    *(f"{key}={value}" for key, value in env.items()),
                    *argv,
                ]
            ),
        ]
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], env


def _expose_interpreter(root: Path) -> list[str]:
    """Mounts that let any uid reach the Python the stand-in venv runs: the base
    interpreter (e.g. a pyenv build under 0700 /root), the checkout's virtualenv and the
    packages' folders (a clone inside a 0700 folder).

    Each such folder is bind-mounted aside, a tmpfs (0755) covers the first folder above
    it that other users cannot enter, and the folder is mounted back at its own path: the
    service's uid sees these folders and nothing else of what the 0700 folder holds.
    """
    wanted = {Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute()}
    for package in _PACKAGES:  # an editable install maps each to its folder in the checkout
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations is not None
        wanted |= {Path(folder).resolve() for folder in spec.submodule_search_locations}
    wanted = {p for p in wanted if not any(o != p and o in p.parents for o in wanted)}
    hidden = {p: _hidden_above(p) for p in sorted(wanted)}
    exposed = [p for p, above in hidden.items() if above is not None]
    covers = {above for above in hidden.values() if above is not None}
    covers = {c for c in covers if not any(o != c and o in c.parents for o in covers)}
    mounts: list[str] = []
    for number, path in enumerate(exposed):
        stage = root / "standin" / "exposed" / str(number)
        stage.mkdir(parents=True, exist_ok=True)
        mounts.append(f"mount --bind {path} {stage}")
    mounts += [f"mount -t tmpfs -o mode=0755 tmpfs {cover}" for cover in sorted(covers)]
    for number, path in enumerate(exposed):
        stage = root / "standin" / "exposed" / str(number)
        mounts += [f"mkdir -p {path}", f"mount --bind {stage} {path}"]
    return mounts


def _hidden_above(path: Path) -> Path | None:
    """The outermost folder above ``path`` that other users cannot enter."""
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def _chown_tree(folder: Path, uid: int) -> None:
    for path in (folder, *folder.rglob("*")):
        os.chown(path, uid, uid, follow_symlinks=False)


def systemd_run(root: Path, args: list[str]) -> int:
    """``systemd-run [--pipe --wait --quiet] -p K=V ... CMD``: run CMD in the foreground."""
    settings: list[tuple[str, str]] = []
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-p", "--property"):
            key, _, value = rest.pop(0).partition("=")
            settings.append((key, value))
        elif option not in ("--pipe", "--wait", "--quiet", "-P", "-q"):
            raise SystemExit(f"systemd-run stand-in: unsupported option {option}")
    if ("DynamicUser", "yes") not in settings:
        raise SystemExit("systemd-run stand-in: only DynamicUser=yes runs are emulated")
    command, _ = service_command(root, f"run-u{os.getpid()}", settings, rest)
    return subprocess.run(command, check=False).returncode


def _stop(pid_file: Path) -> None:
    """SIGTERM the unit's running process, as ``restart`` does first, and wait for it."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def systemctl(root: Path, args: list[str]) -> int:
    """``daemon-reload`` and ``enable UNIT`` do nothing; ``restart UNIT`` stops the unit's
    running process (if any) and starts it as systemd would."""
    if args == ["daemon-reload"] or (args[:1] == ["enable"] and len(args) == 2):
        return 0
    if args[:1] != ["restart"] or len(args) != 2:
        raise SystemExit(f"systemctl stand-in: unsupported {shlex.join(args)}")
    unit = args[1].removesuffix(".service")
    _stop(root / "standin" / f"{unit}.pid")
    settings = parse_unit((root / f"etc/systemd/system/{unit}.service").read_text())
    if _last(settings, "DynamicUser", "no") != "yes" or _last(settings, "Type", "") != "notify":
        raise SystemExit("systemctl stand-in: only Type=notify DynamicUser=yes units")
    journal = root / "standin"
    journal.mkdir(exist_ok=True)
    address = f"@standin-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + address[1:])
        command, _ = service_command(
            root, unit, settings, shlex.split(_last(settings, "ExecStart", "")), address
        )
        with (journal / f"{unit}.log").open("ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        (journal / f"{unit}.pid").write_text(str(process.pid))
        deadline = time.monotonic() + READY_TIMEOUT
        sock.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                if b"READY=1" in sock.recv(4096):
                    return 0
            except TimeoutError:
                pass
            if process.poll() is not None:
                break
    print(f"{unit}.service failed to start; see {journal / unit}.log", file=sys.stderr)
    return 1


def venv(target: Path) -> int:
    """``python3 -m venv DIR``: a bin/ whose pip accepts ``install .`` and whose
    ``ilert-statuspage-sync`` runs the checkout's own virtualenv."""
    bin_dir = target / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    pip = bin_dir / "pip"
    pip.write_text(
        '#!/bin/sh\n[ "$*" = "install ." ] || { echo "pip stand-in: $*" >&2; exit 1; }\n'
    )
    command = bin_dir / "ilert-statuspage-sync"
    command.write_text(f'#!/bin/sh\nexec {sys.executable} -m ilert_statuspage_sync "$@"\n')
    for script in (pip, command):
        script.chmod(0o755)
    return 0


def main(argv: list[str]) -> int:
    """Dispatch ``NAME ARGS...`` with ``$ROOT`` as the root to prepare."""
    name, args = argv[0], argv[1:]
    root = Path(os.environ["ROOT"])
    if name == "systemctl":
        return systemctl(root, args)
    if name == "systemd-run":
        return systemd_run(root, args)
    if name == "python3" and args[:2] == ["-m", "venv"] and len(args) == 3:
        return venv(Path(args[2]))
    return subprocess.run([sys.executable, *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
