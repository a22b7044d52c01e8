#!/usr/bin/env bash
# Print the path of a Python interpreter of version $1 (e.g. 3.12) that can make venvs:
# the interpreter named by the environment variable $2 if set, else pythonX.Y on PATH, else a
# pyenv version. Exits 1, printing nothing, when there is none. Used by the setup scripts of the
# venvs that need another Python than the project's (tools/setup_lerobot.sh,
# tools/setup_label_studio.sh).
set -uo pipefail
version=$1
override=${2:-}
if [ -n "$override" ] && [ -n "${!override:-}" ]; then echo "${!override}"; exit 0; fi
if command -v "python$version" >/dev/null && "python$version" -c 'import venv' 2>/dev/null; then
  command -v "python$version"; exit 0
fi
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version"*/bin/"python$version"; do
  [ -x "$candidate" ] && { echo "$candidate"; exit 0; }
done
exit 1
