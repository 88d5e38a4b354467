#!/usr/bin/env bash
# Builds the fuzz targets in native/fuzz/ (ASan + UBSan + fault injection) and
# runs each for a bounded time. With clang (clang++ or clang++-NN on PATH)
# they are libFuzzer targets with a corpus kept in build-fuzz/corpus/<target>;
# without it they fall back to g++ and the standalone driver (random inputs and
# mutations from a seed, no coverage guidance), which the output says.
# Exits non-zero on any finding; the crashing input is left in
# build-fuzz/artifacts/ (replay: build-fuzz/<target> <file>).
#
#   scripts/fuzz.sh                      # every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=300 scripts/fuzz.sh fuzz_write_path
#   FUZZ_ENGINE=standalone scripts/fuzz.sh   # the g++ fallback, even with clang
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-20}"

clang=""
if [[ "${FUZZ_ENGINE:-}" != standalone ]]; then  # FUZZ_ENGINE=standalone forces the fallback
  for c in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
    if command -v "$c" >/dev/null 2>&1; then clang="$c"; break; fi
  done
fi
if [[ -n "$clang" ]]; then
  build="${IOREACTOR_FUZZ_BUILD:-$root/build-fuzz}"
  config=(-DCMAKE_CXX_COMPILER="$clang" -DIOREACTOR_FUZZ_STANDALONE=OFF)
  echo "fuzz: libFuzzer ($clang), ${seconds}s per target"
else
  build="${IOREACTOR_FUZZ_BUILD:-$root/build-fuzz-standalone}"
  config=(-DCMAKE_CXX_COMPILER=g++ -DIOREACTOR_FUZZ_STANDALONE=ON)
  echo "fuzz: clang not found; g++ + standalone random driver (no coverage guidance), ${seconds}s per target"
fi

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root/native/fuzz" -B "$build" "${generator[@]}" "${config[@]}" >/dev/null
fi
cmake --build "$build" -j2

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in "$root"/native/fuzz/fuzz_*.cc; do targets+=("$(basename "$f" .cc)"); done
fi

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
  if [[ -n "$clang" ]]; then
    mkdir -p "$build/corpus/$t"
    args=(-max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t")
  else
    args=(-max_total_time="$seconds" -max_len=4096 -seed="${FUZZ_SEED:-$RANDOM}")
  fi
  if "$build/$t" "${args[@]}" >"$build/$t.log" 2>&1; then
    runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+|[0-9]+ runs' "$build/$t.log" | grep -Eo '[0-9]+' | tail -1)"
    echo "fuzz: $t ok (${runs:-?} inputs in ${seconds}s)"
  else
    echo "fuzz: $t FOUND A PROBLEM; log $build/$t.log" >&2
    grep -E 'ERROR|SUMMARY|violated|runtime error|artifact' "$build/$t.log" | head -20 >&2 || true
    status=1
  fi
done
exit $status
