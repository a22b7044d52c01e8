#!/usr/bin/env bash
# Usage: tools/npm_ci_stamped.sh LABEL DIR IF_NO_NPM IF_FAILED
# `npm ci` in DIR (a test harness with a committed package-lock.json), once per lock file: a
# stamp named after the lock file's digest in DIR/node_modules makes a second run say it is up
# to date and return at once (npm ci empties node_modules, so an old stamp goes with it).
# Lines are prefixed with LABEL (the calling setup step). Without npm it prints IF_NO_NPM, when
# npm ci fails IF_FAILED (what the tests then do); it always exits 0, never failing `make test`.
# Used by tools/setup_browser.sh and tools/setup_foxglove.sh.
set -uo pipefail
label=$1 dir=$2 if_no_npm=$3 if_failed=$4

if ! command -v npm >/dev/null; then
  echo "$label: npm not found; $if_no_npm"
  exit 0
fi
lock_digest=$(sha256sum "$dir/package-lock.json" | cut -c1-16)
stamp="$dir/node_modules/.humanoid_teleop-$lock_digest"
if [ -f "$stamp" ]; then
  echo "$label: $dir/node_modules up to date"
  exit 0
fi
echo "$label: npm ci in $dir"
if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
  touch "$stamp"
else
  echo "$label: npm ci failed; $if_failed"
fi
exit 0
