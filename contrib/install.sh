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
set -euo pipefail
ROOT=${ROOT:-}
cd "$(dirname "$0")/.."
# install:begin
python3 -m venv "$ROOT"/opt/ilert-statuspage-sync
"$ROOT"/opt/ilert-statuspage-sync/bin/pip install .
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
systemctl enable --now ilert-statuspage-sync
# install:end
