#!/usr/bin/env bash
# Create or update .venv with everything humanoid_teleop needs. Idempotent: a second run
# with unchanged requirements returns at once.
#  - With a sourced ROS 2 distro (ROS_DISTRO set and `import rclpy` works), the venv sees the
#    distro's packages (--system-site-packages) and no ROS wheels are installed.
#  - Otherwise ROS 2 Kilted comes from PyPI wheels (requirements/ros-kilted-wheels.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
if [ -z "${PYTHON:-}" ]; then
  if [ -n "${ROS_DISTRO:-}" ] && python3 -c 'import rclpy' 2>/dev/null; then PYTHON=python3
  elif command -v python3.11 >/dev/null; then PYTHON=python3.11   # the ROS wheels are cp311
  else PYTHON=python3; fi
fi

digest=$(cat setup.py requirements/*.txt tools/setup_venv.sh | sha256sum | cut -c1-16)
stamp="$VENV/.humanoid_teleop-$digest"
if [ -f "$stamp" ]; then
  echo "setup: $VENV is up to date"
  exit 0
fi

if [ -n "${ROS_DISTRO:-}" ] && "$PYTHON" -c 'import rclpy' 2>/dev/null; then
  mode=distro
  echo "setup: using the sourced ROS 2 $ROS_DISTRO (rclpy from the distro)"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
else
  mode=wheels
  echo "setup: no sourced ROS 2 distro; installing ROS 2 Kilted wheels from PyPI into $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
fi

pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
requirements=(-r requirements/core.txt -r requirements/test.txt)
[ "$mode" = wheels ] && requirements+=(-r requirements/ros-kilted-wheels.txt)
"${pip[@]}" "${requirements[@]}"
"${pip[@]}" --no-deps --no-build-isolation -e . 2>/dev/null || "${pip[@]}" --no-deps -e .

rm -f "$VENV"/.humanoid_teleop-*
touch "$stamp"
echo "setup: done ($mode)"
