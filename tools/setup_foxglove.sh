#!/usr/bin/env bash
# Install Foxglove's decoding stack for the bag tests (@mcap/core, @mcap/support,
# @foxglove/rosmsg, @foxglove/rosmsg2-serialization) from the committed package-lock.json in
# test/core/bag/foxglove/. Idempotent and stamped (tools/npm_ci_stamped.sh): a second run says
# it is up to date. Without npm it says so; the tests then skip with that reason (no node) or
# fail naming this script (node but no packages).
set -uo pipefail
cd "$(dirname "$0")/.."

tools/npm_ci_stamped.sh setup-foxglove test/core/bag/foxglove \
  "bag tests that decode with Foxglove will skip" \
  "bag tests that decode with Foxglove will fail"
