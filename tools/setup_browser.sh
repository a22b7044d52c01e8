#!/usr/bin/env bash
# Install what the WebXR browser test needs. Idempotent: a second run returns at once.
#  - Chromium from the Debian package (never a downloaded browser build), only if missing.
#  - The npm test harness (IWER WebXR emulator + playwright-core) from the committed
#    package-lock.json in test/devices/webxr/, stamped (tools/npm_ci_stamped.sh): a second
#    run says it is up to date.
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

tools/npm_ci_stamped.sh setup-browser "$harness" \
  "the browser test will skip" "the browser test will skip"
exit 0
