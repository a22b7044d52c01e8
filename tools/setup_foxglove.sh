#!/usr/bin/env bash
# Install Foxglove's decoding stack for the bag tests (@mcap/core, @mcap/support,
# @foxglove/rosmsg, @foxglove/rosmsg2-serialization) from the committed package-lock.json in
# test/core/bag/foxglove/. Idempotent: a stamp named after the lock file's digest makes a
# second run return at once. Without npm it says so; the tests then skip with that reason
# (no node) or fail naming this script (node but no packages).
set -uo pipefail
cd "$(dirname "$0")/.."

harness=test/core/bag/foxglove

if ! command -v npm >/dev/null; then
  echo "setup-foxglove: npm not found; bag tests that decode with Foxglove will skip"
  exit 0
fi
lock_digest=$(sha256sum "$harness/package-lock.json" | cut -c1-16)
stamp="$harness/node_modules/.humanoid_teleop-$lock_digest"
if [ ! -f "$stamp" ]; then
  echo "setup-foxglove: npm ci in $harness"
  if (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error); then
    touch "$stamp"
  else
    echo "setup-foxglove: npm ci failed; bag tests that decode with Foxglove will fail"
  fi
fi
exit 0
