#!/usr/bin/env bash
# The MuJoCo simulator's share of `make setup` (called by tools/setup_venv.sh). Idempotent and
# stamped: a second run with unchanged inputs returns at once.
#  1. Headless OpenGL (Mesa EGL + OSMesa, CPU llvmpipe) from Debian packages when missing, so
#     cameras render without a display (MUJOCO_GL=egl; osmesa as the fallback).
#  2. Builds the MuJoCo model of every shipped robot (URDF -> MJCF, meshes converted and
#     simplified) into the cache outside the source tree (humanoid_teleop.core.sim.mjcf_build);
#     a robot not built here is built on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

gl_packages=(libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6)
missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${gl_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-sim: installing headless OpenGL libraries: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

digest=$(cat robots/*/robot.yaml robots/*/physics.yaml humanoid_teleop/core/sim/mjcf_build.py \
  humanoid_teleop/core/sim/physics_config.py requirements/core.txt | sha256sum | cut -c1-16)
stamp="$VENV/.humanoid_teleop-sim-$digest"
if [ -f "$stamp" ]; then
  echo "setup-sim: MuJoCo models are up to date"
  exit 0
fi
echo "setup-sim: building the MuJoCo models of the shipped robots (cached outside the tree)"
"$VENV/bin/python" -m humanoid_teleop.core.sim.mjcf_build
rm -f "$VENV"/.humanoid_teleop-sim-*
touch "$stamp"
echo "setup-sim: done"
