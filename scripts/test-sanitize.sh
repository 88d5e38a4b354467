#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer, zero reports allowed:
#  1. the native tests (ctest) built with IOREACTOR_SANITIZE=ON in
#     build-sanitize/, leak detection on;
#  2. the addon built the same way by cmake-js in build-asan/, loaded by the
#     jest suites that exercise the native core (IOREACTOR_ADDON), with
#     libasan preloaded into node. Node itself is not instrumented and keeps
#     allocations alive until exit, so leak detection is off there.
# Any report aborts the process that made it, so the failing test says where.
#
#   scripts/test-sanitize.sh            # both
#   scripts/test-sanitize.sh native     # only the ctest half
#   scripts/test-sanitize.sh addon      # only the jest half
#   JEST_TESTS=all scripts/test-sanitize.sh addon          # every native-facing suite
#   JEST_TESTS="test/tcp.test.ts" scripts/test-sanitize.sh addon
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-all}"
cd "$root"

# halt_on_error + abort: the first report fails the test; UBSan's checks are
# recoverable by default, so it needs halt_on_error of its own.
common="halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# shellcheck source=scripts/quietly.sh
source "$root/scripts/quietly.sh"

native() {
  local build="${IOREACTOR_SANITIZE_BUILD:-$root/build-sanitize}"
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    local generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    # Debug (-O0 -g): compiles in a third of the time, and ASan finds the same
    # memory errors; the optimised code is what valgrind checks.
    quietly "$build/configure.log" cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
      -DIOREACTOR_SANITIZE=ON
  fi
  quietly "$build/build.log" cmake --build "$build" -j2
  ASAN_OPTIONS="$common:detect_leaks=1" ctest --test-dir "$build" --output-on-failure -j2
}

# The jest suites that drive the native core (poller, loop, TCP, UNIX, raw
# fds): the CI set, then the rest that also do (slower under ASan: they start
# many node children or Workers). JEST_TESTS=all runs both.
ci_tests="test/poller.test.ts test/reactor.test.ts test/tcp.test.ts test/tcp-flow.test.ts test/unix.test.ts test/fdset.test.ts"
more_tests="test/tcp-accept.test.ts test/endpoints-real.test.ts test/timers.test.ts test/worker.test.ts test/examples.test.ts"

addon() {
  local build="${IOREACTOR_ASAN_BUILD:-$root/build-asan}"
  quietly "$build/build.log" npx --no-install cmake-js compile --out "$build" --CDIOREACTOR_SANITIZE=ON --parallel 2
  local libasan tests="${JEST_TESTS:-$ci_tests}"
  [[ "$tests" == all ]] && tests="$ci_tests $more_tests"
  libasan="$(g++ -print-file-name=libasan.so)"
  # Skipped by name:
  #  - EMFILE: those tests fill the fd table on purpose, and UBSan's vptr check
  #    needs a pipe to probe memory, so with no fd left it reports every
  #    virtual call as "invalid vptr" (a sanitizer limitation, reproduced
  #    with a 10-line program);
  #  - "pauses a streaming producer at the high-water mark": it bounds RSS growth, which ASan's redzones and
  #    quarantine make meaningless.
  # shellcheck disable=SC2086  # tests is a list of paths on purpose
  IOREACTOR_ADDON="$build/Release/ioreactor.node" LD_PRELOAD="$libasan" \
    ASAN_OPTIONS="$common:detect_leaks=0" \
    npx --no-install jest --runInBand -t '^(?!.*(EMFILE|pauses a streaming producer at the high-water mark))' $tests
}

case "$what" in
  native) native ;;
  addon) addon ;;
  all) native && addon ;;
  *) echo "usage: $0 [native|addon|all]" >&2; exit 2 ;;
esac
