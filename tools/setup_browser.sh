#!/usr/bin/env bash
# Install what the WebXR browser test needs. Idempotent: a second run returns at once.
#  - Chromium from the Debian package (never a downloaded browser build), only if missing.
#  - The npm test harness (IWER WebXR emulator + playwright-core) from the committed
#    package-lock.json in test/devices/webxr/.
# A step that cannot run (no root, no apt, no npm) prints why and leaves the browser test to
# skip with that reason; it never fails `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."

harness=test/devices/webxr

if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "setup-browser: installing chromium from Debian packages"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
      || echo "setup-browser: apt-get install chromium failed; the browser test will skip"
  else
    echo "setup-browser: /usr/bin/chromium missing and apt-get unusable (need root); browser test will skip"
  fi
fi

if command -v npm >/dev/null; then
  lock_digest=$(sha256sum "$harness/package-lock.json" | cut -c1-16)
  stamp="$harness/node_modules/.humanoid_teleop-$lock_digest"
  if [ ! -f "$stamp" ]; then
    echo "setup-browser: npm ci in $harness"
    if (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error); then
      touch "$stamp"
    else
      echo "setup-browser: npm ci failed; the browser test will skip"
    fi
  fi
else
  echo "setup-browser: npm not found; the browser test will skip"
fi
exit 0
