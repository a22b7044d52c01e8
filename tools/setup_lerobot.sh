#!/usr/bin/env bash
# Create the Python 3.12 venv with lerobot 0.6.1 that test/export (round trip through
# LeRobotDataset) and bench/export.py use. It lives outside the clone, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/humanoid_teleop/lerobot-venv-<digest of its requirements>
# and prints that path on its last line. Idempotent (stamped): a second run returns at once.
# Without a Python 3.12 it prints why and exits 0; the tests that need it then skip saying so.
set -euo pipefail
cd "$(dirname "$0")/.."


digest=$(cat requirements/lerobot-venv.txt requirements/lerobot-venv-nodeps.txt \
  requirements/lerobot-venv-constraints.txt tools/setup_lerobot.sh | sha256sum | cut -c1-16)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/humanoid_teleop/lerobot-venv-$digest"
if [ -f "$venv/.complete" ]; then
  echo "setup-lerobot: $venv is up to date"
  echo "$venv"
  exit 0
fi
if ! python=$(tools/find_python.sh 3.12 LEROBOT_PYTHON); then
  echo "setup-lerobot: no Python 3.12 found (python3.12 on PATH, pyenv, or LEROBOT_PYTHON);" \
       "the lerobot round-trip tests will skip"
  exit 0
fi
echo "setup-lerobot: creating $venv with $python (lerobot 0.6.1 + CPU-usable torch, ~4 GB)"
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q
  -c requirements/lerobot-venv-constraints.txt)
"${pip[@]}" -r requirements/lerobot-venv.txt
"${pip[@]}" --no-deps -r requirements/lerobot-venv-nodeps.txt
HF_HUB_OFFLINE=1 "$venv/bin/python" -c 'from lerobot.datasets.lerobot_dataset import LeRobotDataset'
touch "$venv/.complete"
for old in "$(dirname "$venv")"/lerobot-venv-*; do   # venvs of earlier requirements (~4 GB each)
  if [ "$old" != "$venv" ] && [ -d "$old" ]; then rm -rf "$old"; fi
done
echo "setup-lerobot: done ($(du -sh "$venv" | cut -f1))"
echo "$venv"
