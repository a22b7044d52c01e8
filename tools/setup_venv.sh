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
  exec tools/setup_sim.sh
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
"${pip[@]}" setuptools wheel   # lets the editable install below build without isolation
"${pip[@]}" "${requirements[@]}"
rm -rf ./*.egg-info   # a stale one in the source tree would shadow the installed metadata
"${pip[@]}" --no-deps --no-build-isolation -e . 2>/dev/null || "${pip[@]}" --no-deps -e .

# No tf2_msgs wheel on PyPI: build tf2_msgs (/tf, /tf_static) from tools/interfaces/tf2_msgs with
# the rosidl wheels + gcc (a few seconds). On failure, warn and go on: only /tf needs it.
if [ "$mode" = wheels ] && ! "$VENV/bin/python" -c 'import tf2_msgs.msg' 2>/dev/null; then
  echo "setup: building tf2_msgs (no wheel on PyPI) with tools/interfaces/build_interfaces.py"
  "${pip[@]}" -r requirements/build-interfaces.txt
  "$VENV/bin/python" tools/interfaces/build_interfaces.py tools/interfaces/tf2_msgs \
    || echo "setup: WARNING: tf2_msgs build failed (see above); /tf and /tf_static unavailable" >&2
fi

# The IK solver, the arm-target map and the safety move are compiled by numba on first use
# (~10 s) and cached; do it now, not in the first teleop session.
echo "setup: compiling the IK, arm-target and safety kernels (numba; cached for later runs)"
"$VENV/bin/python" -c 'from humanoid_teleop.core.compiled import compile_all; compile_all()'

rm -f "$VENV"/.humanoid_teleop-[0-9a-f]*
touch "$stamp"
echo "setup: done ($mode)"
tools/setup_sim.sh   # MuJoCo: headless GL libraries and the robots' cached models
