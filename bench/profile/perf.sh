#!/bin/bash
# Where a server's CPU goes under the harness's load generator, by perf
# sampling (cpu-clock, so it works in a VM without hardware counters).
#   bench/profile/perf.sh SECONDS "LOADGEN ARGS" -- SERVER COMMAND...
#   bench/profile/perf.sh 4 "--tls --conns 1000" -- node bench/servers/ioreactor-echo.js --tls
#   bench/profile/perf.sh 4 "--tls-resume --mode churn --conns 100" -- node bench/servers/node-tls-echo.js
#   SORT=symbol CHILDREN=1 TOP=60 bench/profile/perf.sh ...   (default SORT=dso,symbol)
#   KEEP=/tmp/ws.data bench/profile/perf.sh ...   (keeps perf.data for perf report -S SYMBOL -G)
# Starts the server (it prints its port, exits when its stdin closes; a node
# server gets --perf-basic-prof-only-functions so JIT frames have names), runs
# build-bench/loadgen against it for SECONDS + 3 s, records the server for
# SECONDS from 2 s in (after setup), and prints the loadgen's figures and
# the top of `perf report`. CHILDREN=1 charges callees to their callers
# (what a handshake step costs in all, e.g.). Needs perf and
# kernel.perf_event_paranoid <= 2.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=${1:?seconds}; LOAD=${2:?loadgen args}; shift 2
[ "$1" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: $0 SECONDS \"LOADGEN ARGS\" -- SERVER COMMAND..." >&2; exit 1; }
cd "$ROOT"
node -e "require('./bench/lib/build').ensureBuilt()"
OUT=$(mktemp -d)
trap '[ -n "$KEEP" ] && cp "$OUT/perf.data" "$KEEP"; rm -rf "$OUT"' EXIT
mkfifo "$OUT/stdin"
if [ "$(basename "$1")" = node ]; then set -- "$1" --perf-basic-prof-only-functions "${@:2}"; fi
"$@" < "$OUT/stdin" > "$OUT/port" 2> "$OUT/log" &
SP=$!
exec 3> "$OUT/stdin"
for _ in $(seq 150); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$OUT/port")
# shellcheck disable=SC2086
build-bench/loadgen --port "$PORT" --pid "$SP" $LOAD --duration $((T + 3)) --warmup 0.5 > "$OUT/loadgen" &
LG=$!
sleep 2
perf record -e cpu-clock -F 2000 -g -p "$SP" -o "$OUT/perf.data" -- sleep "$T" > /dev/null 2>&1
wait $LG || true
grep -o '"ops_per_s":[0-9.]*\|"user_us_per_op":[0-9.]*\|"sys_us_per_op":[0-9.]*\|"first_error":"[^"]*"' "$OUT/loadgen" | tr '\n' ' '
echo
CH=--no-children; [ -n "$CHILDREN" ] && CH=--children
perf report -i "$OUT/perf.data" $CH -g none --sort "${SORT:-dso,symbol}" --stdio 2> /dev/null |
  grep -v '^#' | grep '%' | sed 's/ *- *- *$//' | head -"${TOP:-40}"
exec 3>&-
wait $SP || true
