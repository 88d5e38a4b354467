#!/usr/bin/env bash
# Builds the native core and its tests out of source in build-native/, runs
# them under ctest (plus under valgrind when it is installed), then checks that
# the kqueue backend compiles for macOS. Exits non-zero on any failure.
# Re-running with nothing changed only re-checks: configure happens once.
# The configure and build output goes to build-native/*.log, printed only on failure.
#
#   scripts/test-native.sh            # everything
#   CTEST_ARGS="-LE valgrind" scripts/test-native.sh   # skip the valgrind runs
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOREACTOR_NATIVE_BUILD:-$root/build-native}"

# shellcheck source=scripts/quietly.sh
source "$root/scripts/quietly.sh"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  quietly "$build/configure.log" cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
quietly "$build/build.log" cmake --build "$build" -j2
# Both checks always run, so one failure does not hide the other.
status=0
# shellcheck disable=SC2086  # CTEST_ARGS is a list of flags on purpose
(cd "$build" && ctest --output-on-failure -j2 ${CTEST_ARGS:-}) || status=1
bash "$root/scripts/check-kqueue.sh" || status=1
exit $status
