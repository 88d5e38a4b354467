#!/usr/bin/env bash
# Runs the linux-arm64 prebuild for real: Debian's arm64 Node 18 (which links
# the system libssl3 and libuv1, not bundled copies) under qemu-aarch64-static
# loads ioreactor installed from a release tarball and runs
# test/fixtures/prebuild-smoke.js on both backends (TCP echo, TLS both ways
# against Node's own tls, a child process, a UDP datagram).
#
#   scripts/test-arm64.sh [ioreactor-x.y.z.tgz]
#
# Without a tarball it packs the working tree (dist/ must be built; the arm64
# prebuild is cross-built first when missing). Debian's packages are fetched
# with apt for a foreign architecture, nothing installed: the package lists,
# the .debs and the unpacked root live in .cache/arm64 (ARM64_CACHE overrides),
# and later runs reuse them. Exits non-zero, loudly, when qemu is missing, the
# archive cannot be reached, the install fails, or any check fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${ARM64_CACHE:-$root/.cache/arm64}"
sysroot="$cache/root"
qemu="${QEMU:-qemu-aarch64-static}"
started=$(date +%s)

fail() {
  echo "test-arm64: FAIL: $*" >&2
  exit 1
}

command -v "$qemu" >/dev/null || fail "$qemu not found (apt-get install qemu-user-static)"

# apt for arm64 with its own lists and cache, blind to this machine's dpkg status.
apt_arm64() {
  "$1" -qq -oAPT::Architecture=arm64 -oAPT::Architectures=arm64 -oDir::State::Lists="$cache/lists" \
    -oDir::Cache="$cache/apt" -oDir::State::Status=/dev/null -oDebug::NoLocking=1 \
    -oAPT::Sandbox::User="$(id -un)" "${@:2}"
}

# nodejs and everything it depends on, unpacked into $sysroot (once).
fetch_root() {
  [[ -f "$sysroot/.complete" ]] && return
  echo "test-arm64: fetching Debian's arm64 nodejs into $cache"
  rm -rf "$cache" && mkdir -p "$cache/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$sysroot"
  apt_arm64 apt-get update --error-on=any || fail "apt-get update for arm64 failed (no access to the Debian archive?)"
  local packages
  packages=$(apt_arm64 apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances nodejs | grep -v '^ ' | grep -v '^<' | sort -u) || fail "apt-cache depends nodejs failed"
  (cd "$cache/debs" && apt_arm64 apt-get download $packages) || fail "apt-get download failed: $packages"
  for deb in "$cache/debs"/*.deb; do dpkg -x "$deb" "$sysroot"; done
  touch "$sysroot/.complete"
}

fetch_root
node_arm64=("$qemu" -L "$sysroot" "$sysroot/usr/bin/node")
arch=$("${node_arm64[@]}" -p process.arch) || fail "the arm64 node does not start under $qemu"
[[ "$arch" == arm64 ]] || fail "expected arm64 from the emulated node, got $arch"

work="$(mktemp -d "${TMPDIR:-/tmp}/test-arm64.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tarball="${1:-}"
if [[ -z "$tarball" ]]; then
  [[ -f "$root/dist/index.js" ]] || fail "dist/ is not built (npm run build)"
  ls "$root"/prebuilds/linux-arm64/*.uv1.node >/dev/null 2>&1 || node "$root/scripts/prebuild-cross.js" linux-arm64
  tarball="$work/$(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work")"
fi
[[ -f "$tarball" ]] || fail "no tarball at $tarball"
listing=$(tar -tzf "$tarball") || fail "cannot read $tarball"
grep -qx 'package/prebuilds/linux-arm64/ioreactor.uv1.node' <<< "$listing" ||
  fail "$tarball has no prebuilds/linux-arm64/ioreactor.uv1.node"

# Throwaway certificates for the TLS checks: a CA and a server cert for 127.0.0.1.
certs="$work/certs"
mkdir -p "$certs"
key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
(cd "$certs" &&
  openssl req -x509 "${key[@]}" -keyout ca.key -out ca.pem -subj '/CN=arm64 smoke CA' -days 2 &&
  openssl req "${key[@]}" -keyout server.key -out server.csr -subj /CN=localhost &&
  echo 'subjectAltName=DNS:localhost,IP:127.0.0.1' > server.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile server.ext) >/dev/null 2>&1 || fail "openssl could not make the test certificates"

# npm here only unpacks (the install script would run this machine's node);
# the arm64 node then runs the check that install script makes: node-gyp-build
# finds a prebuild that loads, so nothing would be compiled.
app="$work/app"
mkdir -p "$app"
echo '{"name":"arm64-app","version":"1.0.0","private":true}' > "$app/package.json"
(cd "$app" && npm install "$tarball" --ignore-scripts --prefer-offline --no-audit --no-fund --silent) ||
  fail "npm install $tarball failed"
pkg="$app/node_modules/ioreactor"
(cd "$pkg" && "${node_arm64[@]}" ../node-gyp-build/build-test.js) ||
  fail "node-gyp-build found no loadable arm64 prebuild in the installed package"

cp "$root/test/fixtures/prebuild-smoke.js" "$app/"
"${node_arm64[@]}" "$app/prebuild-smoke.js" "$pkg/prebuilds/linux-arm64/ioreactor.uv1.node" "$certs" ||
  fail "the smoke test failed on arm64"
echo "test-arm64: ok in $(( $(date +%s) - started ))s"
