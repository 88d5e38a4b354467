#!/usr/bin/env bash
# Builds the fault-injection addon (cmake-js, -DIOREACTOR_FAULTS=ON) into
# build-faults/ and runs test/faults.test.ts against it through
# IOREACTOR_ADDON. The native fault tests (test_faults) run with ctest in
# scripts/test-native.sh; this is the JavaScript half. Re-running only rebuilds
# what changed.
#
#   scripts/test-faults.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOREACTOR_FAULT_BUILD:-$root/build-faults}"
cd "$root"

# shellcheck source=scripts/quietly.sh
source "$root/scripts/quietly.sh"
# The build's output goes to build-faults/build.log, printed only on failure.
quietly "$build/build.log" npx --no-install cmake-js compile --out "$build" --CDIOREACTOR_FAULTS=ON --parallel 2
IOREACTOR_FAULT_ADDON="$build/Release/ioreactor.node" IOREACTOR_REQUIRE_FAULTS=1 \
  npx --no-install jest test/faults.test.ts
