#!/usr/bin/env bash
# Create the Python 3.12 venv with Label Studio (and its label-studio-sdk) that the annotation
# round-trip test (test/annotation/test_label_studio_round_trip.py) starts on loopback. It lives
# outside the clone, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/humanoid_teleop/label-studio-venv-<digest of its requirements>
# and prints that path on its last line. Idempotent (stamped): a second run returns at once.
# It also installs PostgreSQL from the Debian package when `initdb` is missing (the catalog's
# PostgreSQL tests start a private server), when run as root.
# Without a Python 3.12 it prints why and exits 0; the tests that need it then skip saying so.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin() {
  command -v initdb 2>/dev/null && return
  for candidate in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  return 1
}
if ! pg_bin >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup-label-studio: installing postgresql from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup-label-studio: no initdb and not root; the catalog's PostgreSQL tests will skip"
  fi
fi


digest=$(cat requirements/label-studio-venv.txt requirements/label-studio-venv-constraints.txt \
  tools/setup_label_studio.sh | sha256sum | cut -c1-16)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/humanoid_teleop/label-studio-venv-$digest"
if [ -f "$venv/.complete" ]; then
  echo "setup-label-studio: $venv is up to date"
  echo "$venv"
  exit 0
fi
if ! python=$(tools/find_python.sh 3.12 LABEL_STUDIO_PYTHON); then
  echo "setup-label-studio: no Python 3.12 found (python3.12 on PATH, pyenv, or" \
       "LABEL_STUDIO_PYTHON); the Label Studio round-trip test will skip"
  exit 0
fi
echo "setup-label-studio: creating $venv with $python (label-studio, ~1 GB)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r requirements/label-studio-venv.txt \
  -c requirements/label-studio-venv-constraints.txt
"$venv/bin/python" -c 'import label_studio, label_studio_sdk'
# A migrated, empty database: each test run copies it instead of migrating (about a minute).
mkdir -p "$venv/data-template"
manage=$("$venv/bin/python" -c 'import label_studio, os; print(os.path.dirname(label_studio.__file__))')/manage.py
LABEL_STUDIO_BASE_DATA_DIR="$venv/data-template" COLLECT_ANALYTICS=false LATEST_VERSION_CHECK=false \
  "$venv/bin/python" "$manage" migrate --noinput >/dev/null
touch "$venv/.complete"
echo "setup-label-studio: done ($(du -sh "$venv" | cut -f1))"
echo "$venv"
