"""The install procedure works as written: contrib/install.sh, replayed in a temporary root.

What this stands in for: a fresh Debian/Ubuntu VM where root runs the README's install
section. This machine cannot run systemd as PID 1, so ``systemctl``, ``systemd-run`` and
``python3 -m venv`` are stand-ins (tests/support/systemd_standin.py) that do what
systemd does before ``ExecStart=``, from the unit file the script installed: a dynamic
uid without groups (``setpriv``), the state directory under ``/var/lib/private`` owned by
it, ``/run/ilert-statuspage-sync`` 0755, the keys copied 0400 into
``$CREDENTIALS_DIRECTORY``, ``UMask=0077``, ``READY=1`` awaited, and a private mount
namespace that shows the temporary root's /etc, /opt, /var/lib and /run at their real
paths, so the daemon reaches the config, keys and state by the unit's own paths with
their real owners and modes. The interpreter, the checkout's virtualenv and the package
source are shown to the service's uid even when the clone sits in a 0700 folder. The
sandbox options are checked by test_systemd_unit.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.proc import ILERT_KEY, SP_KEY, wait_until
from tests.support.systemd_standin import PATH, parse_unit, uid_for
from tests.support.world import AUTO_PAGE, AUTO_SOURCE

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "contrib" / "install.sh"
UNIT = REPO / "systemd" / "ilert-statuspage-sync.service"
STANDIN = REPO / "tests" / "support" / "systemd_standin.py"
NAME = "ilert-statuspage-sync"
NODE_EXPORTER_UID = 65530  # any other unprivileged user


def _can_emulate() -> bool:
    return os.geteuid() == 0 and all(shutil.which(tool) for tool in ("unshare", "setpriv"))


def _steps(text: str, begin: str, end: str) -> list[str]:
    """The lines between two marker lines, without blank lines, ``$ROOT`` removed."""
    lines = [line.rstrip() for line in text.splitlines()]
    body = lines[lines.index(begin) + 1 : lines.index(end)]
    return [line.replace('"$ROOT"', "") for line in body if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(ilert_url: str, statuspage_url: str, port: int) -> str:
    """contrib/config.example.toml pointed at the simulators, polling every 5 s."""
    text = (REPO / "contrib" / "config.example.toml").read_text()
    text = text.replace("poll_interval = 30", "poll_interval = 5")
    text = text.replace(
        "[ilert]\n", f'[ilert]\napi_url = "{ilert_url}"\nrequests_per_minute = 6000\n'
    )
    text = text.replace(
        "[connectors.main]\n",
        f'[connectors.main]\napi_url = "{statuspage_url}"\nrequests_per_minute = 6000\n',
    )
    text = text.replace("[12345]", f"[{AUTO_SOURCE}]").replace("kctbh9vrtdwd", AUTO_PAGE)
    return text.replace('# listen = "127.0.0.1:9464"', f'listen = "127.0.0.1:{port}"')


def _as_other_user(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as an unprivileged uid seeing the root's /run and /var/lib."""
    script = (
        f"mount --bind {root}/run /run && mount --bind {root}/var/lib /var/lib && exec setpriv "
        f"--reuid={NODE_EXPORTER_UID} --regid={NODE_EXPORTER_UID} --clear-groups {command}"
    )
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _as_root_shell(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as an operator's root shell on the installed machine would: the
    system PATH only, the root's /etc, /opt, /usr/local/bin and /var/lib at their paths."""
    mounts = [
        f"mount -t overlay overlay -o lowerdir={root}/etc:/etc /etc",
        f"mount --bind {root}/opt /opt",
        f"mount --bind {root}/usr/local/bin /usr/local/bin",
        f"mount --bind {root}/var/lib /var/lib",
    ]
    script = " && ".join(
        [*mounts, f"exec env -i PATH={PATH} LANG=C.UTF-8 sh -c {shlex.quote(command)}"]
    )
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _stop(root: Path) -> None:
    pid_file = root / "standin" / f"{NAME}.pid"
    if pid_file.exists() and not _gone(int(pid_file.read_text())):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _written(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state == "Z"


def _replay(
    folder: Path,
    script: Path,
    ilert_url: str,
    statuspage_url: str,
    env: dict[str, str] | None = None,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Lay out a checkout around ``script`` with config.toml, run it as root with
    ROOT=folder/root and the stand-ins first on PATH (``env`` replaces the keys' variables;
    run again on the same folder, it re-runs the script over what the last run left)."""
    checkout, root, bin_dir = script.parents[1], folder / "root", folder / "bin"
    manual = [page.relative_to(REPO).as_posix() for page in (REPO / "docs").glob("*.md")]
    for relative in ("contrib/install.sh", "README.md", "systemd/" + UNIT.name, *manual):
        if not (checkout / relative).exists():
            (checkout / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, checkout / relative)
    port = _free_port()
    (checkout / "config.toml").write_text(_config(ilert_url, statuspage_url, port))
    root.mkdir(exist_ok=True)
    bin_dir.mkdir(exist_ok=True)
    for tool in ("systemctl", "systemd-run", "python3"):
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\nexec {sys.executable} {STANDIN} {tool} "$@"\n')
        path.chmod(0o755)
    keys = {"ILERT_API_KEY": ILERT_KEY, "STATUSPAGE_API_KEY": SP_KEY}
    result = subprocess.run(
        ["bash", str(script)],
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "ROOT": str(root),
            **(keys if env is None else env),
        },
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (root / "port").write_text(str(port))
    return root, result


@pytest.fixture(name="installed")
def _installed(tmp_path: Path, sims) -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    """A checkout with config.toml, install.sh run as root with ROOT=tmp/root."""
    if not _can_emulate():
        pytest.skip("the install replay needs root, unshare and setpriv (mount namespaces)")
    ilert, statuspage = sims
    root, result = _replay(
        tmp_path, tmp_path / "checkout" / "contrib" / "install.sh", ilert.url, statuspage.url
    )
    yield root, result
    _stop(root)


def test_install_replay_starts_a_service_that_syncs(installed, sims):
    """install.sh as written yields a service running as a dynamic uid that syncs an
    alert, answers /healthz, and leaves metrics a node_exporter user can read."""
    root, result = installed
    ilert, statuspage = sims
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert f"ok   metrics textfile /run/{NAME}/metrics.prom" in result.stdout, result.stdout
    pid = int((root / "standin" / f"{NAME}.pid").read_text())
    status = Path(f"/proc/{pid}/status").read_text()
    uid = uid_for(NAME)
    assert re.search(rf"^Uid:\s+{uid}\s+{uid}\s+{uid}\s+{uid}$", status, re.M), status
    assert re.search(r"^Groups:\s*$", status, re.M), status

    alert_id = ilert.create_alert(AUTO_SOURCE, "installed", "")
    wait_until(lambda: len(statuspage.incidents(AUTO_PAGE)) == 1, what="incident created")
    ilert.resolve(alert_id)
    wait_until(
        lambda: [i["status"] for i in statuspage.incidents(AUTO_PAGE)] == ["resolved"],
        what="incident resolved",
    )
    port = int((root / "port").read_text())
    with requests.Session() as session:
        health = session.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert health.status_code == 200, health.text
    assert health.text.startswith("ok: last successful pass")

    textfile = _as_other_user(root, f"cat /run/{NAME}/metrics.prom")
    assert textfile.returncode == 0, textfile.stderr
    assert "ilert_statuspage_sync_last_successful_pass_timestamp_seconds" in textfile.stdout
    assert 'database="sqlite"' in textfile.stdout  # build_info
    state = _as_other_user(root, f"cat /var/lib/{NAME}/state.db")
    assert state.returncode != 0 and "Permission denied" in state.stderr
    # The README's commands by their bare name, from a root shell's PATH.
    found = _as_root_shell(root, f"command -v {NAME}")
    assert found.stdout.strip() == f"/usr/local/bin/{NAME}", found.stdout + found.stderr
    # The README's health command after its install section, exactly as it is written there.
    after = (REPO / "README.md").read_text().split("<!-- install:end -->", 1)[1]
    shown = re.search(rf"`({NAME} --config \S+ status)`", after)
    assert shown is not None, "the README no longer shows `status` after its install section"
    reported = _as_root_shell(root, shown.group(1))
    assert reported.returncode == 0, reported.stdout + reported.stderr
    assert reported.stdout.startswith("daemon: healthy: leader "), reported.stdout

    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: _gone(pid), what="service stopped on SIGTERM")
    log = (root / "standin" / f"{NAME}.log").read_text()
    assert '"event": "stopped"' in log
    assert not (root / "run" / NAME / "metrics.prom").exists()  # stopped: MetricsMissing fires
    assert ILERT_KEY not in log + result.stdout + result.stderr
    assert SP_KEY not in log + result.stdout + result.stderr


def test_installed_files_have_the_modes_the_unit_needs(installed):
    """Config world-readable (it holds no key), keys root-only, state private to the
    dynamic uid, and the unit's Documentation= file and the manual it links really installed."""
    root, result = installed
    assert result.returncode == 0, result.stdout + result.stderr
    etc = root / "etc" / NAME

    def mode(path: Path) -> tuple[int, int]:
        info = path.stat()
        return info.st_uid, stat.S_IMODE(info.st_mode)

    assert mode(etc) == (0, 0o755)
    assert mode(etc / "config.toml") == (0, 0o644)
    assert mode(etc / "ilert_api_key") == (0, 0o600)
    assert mode(etc / "statuspage_api_key") == (0, 0o600)
    assert (etc / "ilert_api_key").read_text().strip() == ILERT_KEY
    assert mode(root / "var/lib/private") == (0, 0o700)
    assert (root / "var/lib/private" / NAME / "state.db").stat().st_uid == uid_for(NAME)
    assert mode(root / "run" / NAME) == (uid_for(NAME), 0o755)
    assert mode(root / "run" / NAME / "metrics.prom")[1] == 0o644
    settings = dict(parse_unit(UNIT.read_text()))
    unit_text = UNIT.read_text()
    docs = re.search(r"^Documentation=file://(\S+)$", unit_text, re.M)
    assert docs, "the unit names a documentation file"
    assert (root / docs.group(1).lstrip("/")).read_text() == (REPO / "README.md").read_text()
    for page in (REPO / "docs").glob("*.md"):  # the README's links into the manual resolve
        installed = root / docs.group(1).lstrip("/").replace("README.md", "docs/" + page.name)
        assert installed.read_text() == page.read_text()
    assert settings["ExecStart"].split()[0] == f"/opt/{NAME}/bin/{NAME}"


def test_preflight_refuses_a_config_the_service_cannot_read(tmp_path: Path, sims):
    """With the old README's 0750 config folder, the pre-flight (run as the service's uid)
    fails naming the file, and the service is not started."""
    if not _can_emulate():
        pytest.skip("the install replay needs root, unshare and setpriv (mount namespaces)")
    script = tmp_path / "contrib" / "install.sh"
    script.parent.mkdir()
    text = SCRIPT.read_text()
    old = 'install -d -m 0755 "$ROOT"/etc/ilert-statuspage-sync'
    assert old in text
    script.write_text(text.replace(old, old.replace("0755", "0750")))
    ilert, statuspage = sims
    root, result = _replay(tmp_path, script, ilert.url, statuspage.url)

    assert result.returncode != 0
    assert (
        "/etc/ilert-statuspage-sync/config.toml: cannot read config file: Permission denied"
        in result.stderr
    ), result.stdout + result.stderr
    assert not (root / "standin" / f"{NAME}.pid").exists()


def _fake_python(folder: Path, sitecustomize: str) -> dict[str, str]:
    """The keys' variables plus a PYTHONPATH whose ``sitecustomize`` makes python3 look
    like another machine's (an older version, no ensurepip)."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(sitecustomize)
    return {"ILERT_API_KEY": ILERT_KEY, "STATUSPAGE_API_KEY": SP_KEY, "PYTHONPATH": str(folder)}


@pytest.mark.parametrize(
    ("case", "said"),
    [
        (
            "no keys",
            [
                "install.sh: ILERT_API_KEY is not set: export ILERT_API_KEY=... (the key itself), "
                "then run again",
                "install.sh: STATUSPAGE_API_KEY is not set: export STATUSPAGE_API_KEY=... (the "
                "key itself), then run again",
            ],
        ),
        (
            "python 3.9",
            ["install.sh: python3 is 3.9; 3.11 or newer is needed (Debian 12, Ubuntu 24.04)"],
        ),
        (
            "no venv",
            ["install.sh: python3 cannot create a virtualenv: apt-get install python3-venv"],
        ),
    ],
)
def test_a_missing_precondition_fails_before_anything_is_written(
    tmp_path: Path, case: str, said: list[str]
):
    """Missing key variables, a Python older than 3.11 or one without venv (python3-venv
    absent): one line each naming what to do, exit 1, before a venv, a file or a folder is
    written."""
    if not _can_emulate():
        pytest.skip("the install replay needs root, unshare and setpriv (mount namespaces)")
    env = {
        "no keys": {"ILERT_API_KEY": ""},
        "python 3.9": _fake_python(
            tmp_path / "py39", "import sys\nsys.version_info = (3, 9, 2, 'final', 0)\n"
        ),
        "no venv": _fake_python(
            tmp_path / "noenv",
            "import sys\nclass _Gone:\n    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'ensurepip':\n            raise ImportError(name)\n"
            "sys.meta_path.insert(0, _Gone())\n",
        ),
    }[case]
    root, result = _replay(
        tmp_path, tmp_path / "checkout" / "contrib" / "install.sh", "http://x", "http://y", env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [*said, "install.sh: nothing was written"]
    assert _written(root) == ["port"]  # the test's own note, written after the run


def test_a_rerun_after_a_failure_completes(tmp_path: Path, sims):
    """After a run that failed early (no keys) and one that failed late (the pre-flight, on
    a 0750 config folder), running the right script again installs and starts the service."""
    if not _can_emulate():
        pytest.skip("the install replay needs root, unshare and setpriv (mount namespaces)")
    ilert, statuspage = sims
    script = tmp_path / "checkout" / "contrib" / "install.sh"
    script.parent.mkdir(parents=True)
    shutil.copy2(SCRIPT, script)
    early = _replay(tmp_path, script, ilert.url, statuspage.url, {})[1]
    assert early.returncode == 1 and "ILERT_API_KEY is not set" in early.stderr
    old = 'install -d -m 0755 "$ROOT"/etc/ilert-statuspage-sync'
    script.write_text(SCRIPT.read_text().replace(old, old.replace("0755", "0750")))
    root, late = _replay(tmp_path, script, ilert.url, statuspage.url)
    try:
        assert late.returncode != 0
        assert "cannot read config file: Permission denied" in late.stderr
        shutil.copy2(SCRIPT, script)
        root, again = _replay(tmp_path, script, ilert.url, statuspage.url)
        assert again.returncode == 0, again.stdout + again.stderr
        assert (root / "standin" / f"{NAME}.pid").exists()
        assert stat.S_IMODE((root / "etc" / NAME).stat().st_mode) == 0o755
        assert (root / "usr/local/bin" / NAME).readlink() == Path(f"/opt/{NAME}/bin/{NAME}")
    finally:
        _stop(root)


def test_preflight_runs_check_with_the_units_identity_and_credentials():
    """The pre-flight systemd-run uses the unit's dynamic user name, directories and every
    LoadCredential= line, so it fails where the service would."""
    text = SCRIPT.read_text()
    command = re.search(r"^systemd-run .*?check$", text, re.M | re.S)
    assert command, "install.sh runs a systemd-run pre-flight check"
    words = shlex.split(command.group(0).replace("\\\n", " "))
    properties = [words[i + 1] for i, word in enumerate(words) if word == "-p"]
    unit = parse_unit(UNIT.read_text())
    wanted = [
        f"{key}={value}"
        for key, value in unit
        if key
        in ("User", "DynamicUser", "StateDirectory", "RuntimeDirectory", "RuntimeDirectoryMode")
        or key == "LoadCredential"
    ]
    assert f"User={NAME}" in wanted
    assert set(wanted) <= set(properties), set(wanted) - set(properties)
    exec_start = dict(unit)["ExecStart"].removesuffix(" run")
    assert " ".join(words[words.index(f"/opt/{NAME}/bin/{NAME}") :]) == exec_start + " check"


def test_readme_install_section_is_the_script():
    """The README's install section is install.sh's steps word for word (without $ROOT)."""
    readme = (REPO / "README.md").read_text()
    if "<!-- install:begin -->" not in readme.splitlines():
        pytest.skip("README.md has no <!-- install:begin --> / <!-- install:end --> section yet")
    section = _steps(readme, "<!-- install:begin -->", "<!-- install:end -->")
    commands = [line for line in section if not line.startswith("```")]
    assert commands == _steps(SCRIPT.read_text(), "# install:begin", "# install:end")


def test_script_and_unit_agree_on_paths():
    """Every /etc path the unit reads is one install.sh writes."""
    script = SCRIPT.read_text().replace('"$ROOT"', "")
    for _key, value in parse_unit(UNIT.read_text()):
        for path in re.findall(r"/etc/[\w./-]+", value):
            assert path in script, path
