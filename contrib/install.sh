#!/bin/bash
# Install ilert-statuspage-sync as a systemd service on Debian/Ubuntu: run as root in a
# checkout, after writing config.toml there (start from contrib/config.example.toml):
#
#   ILERT_API_KEY=... STATUSPAGE_API_KEY=... contrib/install.sh
#
# The lines between "install:begin" and "install:end" are the README's install section,
# word for word once every "$ROOT" is removed (tests/cli/test_install.py holds
# them equal). ROOT=DIR writes every file under DIR instead of /; the test replays the
# steps that way, with stand-ins for python3 -m venv, systemctl and systemd-run.
#
# Every precondition is checked before anything is written (one line each, naming what to
# do; exit 1), and every step may run again: after any failure, fix what it said and re-run.
set -euo pipefail
ROOT=${ROOT:-}
cd "$(dirname "$0")/.."

problems=()
[ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || problems+=("run as root (sudo -E contrib/install.sh)")
for key in ILERT_API_KEY STATUSPAGE_API_KEY; do
  [ -n "${!key:-}" ] || problems+=("$key is not set: export $key=... (the key itself), then run again")
done
[ -f config.toml ] || problems+=("no config.toml in $PWD: copy contrib/config.example.toml there and edit it")
if ! command -v python3 >/dev/null; then
  problems+=("python3 is missing: apt-get install python3 python3-venv")
elif ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  problems+=("python3 is $(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])'); 3.11 or newer is needed (Debian 12, Ubuntu 24.04)")
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  problems+=("python3 cannot create a virtualenv: apt-get install python3-venv")
fi
for tool in systemctl systemd-run; do
  command -v "$tool" >/dev/null || problems+=("$tool is missing: this installs a systemd service")
done
if [ ${#problems[@]} -gt 0 ]; then
  printf 'install.sh: %s\n' "${problems[@]}" >&2
  echo "install.sh: nothing was written" >&2
  exit 1
fi

# install:begin
python3 -m venv "$ROOT"/opt/ilert-statuspage-sync
"$ROOT"/opt/ilert-statuspage-sync/bin/pip install .
install -d -m 0755 "$ROOT"/usr/local/bin
ln -sfn /opt/ilert-statuspage-sync/bin/ilert-statuspage-sync "$ROOT"/usr/local/bin/ilert-statuspage-sync
install -d -m 0755 "$ROOT"/etc/ilert-statuspage-sync
install -m 0644 config.toml "$ROOT"/etc/ilert-statuspage-sync/config.toml
install -m 0600 /dev/stdin "$ROOT"/etc/ilert-statuspage-sync/ilert_api_key <<<"$ILERT_API_KEY"
install -m 0600 /dev/stdin "$ROOT"/etc/ilert-statuspage-sync/statuspage_api_key <<<"$STATUSPAGE_API_KEY"
install -D -m 0644 README.md "$ROOT"/usr/share/doc/ilert-statuspage-sync/README.md
install -D -m 0644 -t "$ROOT"/usr/share/doc/ilert-statuspage-sync/docs docs/*.md
install -D -m 0644 systemd/ilert-statuspage-sync.service "$ROOT"/etc/systemd/system/ilert-statuspage-sync.service
systemctl daemon-reload
systemd-run --pipe --wait --quiet -p User=ilert-statuspage-sync -p DynamicUser=yes \
  -p StateDirectory=ilert-statuspage-sync -p RuntimeDirectory=ilert-statuspage-sync \
  -p RuntimeDirectoryMode=0755 -p RuntimeDirectoryPreserve=yes \
  -p LoadCredential=ilert_api_key:/etc/ilert-statuspage-sync/ilert_api_key \
  -p LoadCredential=statuspage_api_key:/etc/ilert-statuspage-sync/statuspage_api_key \
  /opt/ilert-statuspage-sync/bin/ilert-statuspage-sync --config /etc/ilert-statuspage-sync/config.toml check
systemctl enable ilert-statuspage-sync
systemctl restart ilert-statuspage-sync   # a re-run applies new code and config
# install:end
