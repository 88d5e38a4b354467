#!/bin/bash
# Instructions per operation of the ioreactor echo server, under callgrind.
#   bench/profile/callgrind.sh echo  [conns=100] [round-trips-per-conn=300] [inflight=1]
#   bench/profile/callgrind.sh churn [connections=1000]
#   bench/profile/callgrind.sh http  [conns=100] [requests-per-conn=300] [pipelined=1]
#   bench/profile/callgrind.sh ws    [conns=100] [messages-per-conn=300]
#   bench/profile/callgrind.sh kv    [conns=100] [lines-per-conn=3000] [inflight=16]
#   SERVER="node bench/servers/net-kv.js" bench/profile/callgrind.sh kv
# (kv: GET/SET request lines, bench/profile/kvrt.c, by default to
# bench/servers/ioreactor-kv.js; the operation is one line)
#   SERVER="node bench/servers/ioreactor-site.js" bench/profile/callgrind.sh http 100 300 16
#   SERVER="node bench/servers/net-echo.js" bench/profile/callgrind.sh echo 1 3000
# (SERVER: another server's command line, from the repository root, to compare;
# echo 1 3000 is one connection, so every wake-up carries one event)
#   SERVER="node bench/servers/ws-node.js" bench/profile/callgrind.sh ws
# (ws: 64 B binary messages echoed over WebSocket, by default to
# bench/servers/ioreactor-ws.js; the upgrades happen before the count)
# Builds the bounded clients (rt.c, churn.c, hrt.c, wsrt.c, kvrt.c; hrt and kvrt share pipelined_loop.h) into build-bench/, starts
# bench/servers/ioreactor-echo.js under valgrind (dist/ and build/Release must
# be built), runs the load twice to warm the JIT, zeroes the counters, runs it
# once more, dumps, and prints instructions per operation by function.
# Instruction counts do not depend on what else the machine runs.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=${1:-echo}
OUT=${OUT:-/tmp/ioreactor-callgrind.$$}
mkdir -p "$ROOT/build-bench"
for c in rt churn hrt wsrt kvrt; do
  [ "$ROOT/build-bench/$c" -nt "$ROOT/bench/profile/$c.c" ] && [ "$ROOT/build-bench/$c" -nt "$ROOT/bench/profile/pipelined_loop.h" ] ||
    cc -O2 -o "$ROOT/build-bench/$c" "$ROOT/bench/profile/$c.c"
done
if [ "$MODE" = churn ]; then
  OPS=${2:-1000}; LOAD() { "$ROOT/build-bench/churn" "$1" "$OPS"; }
elif [ "$MODE" = ws ]; then
  N=${2:-100}; K=${3:-300}; OPS=$((N * K)); SERVER=${SERVER:-node bench/servers/ioreactor-ws.js}
  LOAD() { "$ROOT/build-bench/wsrt" "$1" "$N" "$K" 64; }
elif [ "$MODE" = kv ]; then
  N=${2:-100}; K=${3:-3000}; INFL=${4:-16}; OPS=$((N * K)); SERVER=${SERVER:-node bench/servers/ioreactor-kv.js}
  LOAD() { "$ROOT/build-bench/kvrt" "$1" "$N" "$K" "$INFL"; }
elif [ "$MODE" = http ]; then
  N=${2:-100}; K=${3:-300}; INFL=${4:-1}; OPS=$((N * K))
  LOAD() { "$ROOT/build-bench/hrt" "$1" "$N" "$K" "$INFL"; }
else
  N=${2:-100}; K=${3:-300}; INFL=${4:-1}; OPS=$((N * K))
  LOAD() { "$ROOT/build-bench/rt" "$1" "$N" "$K" 64 "$INFL"; }
fi
mkfifo "$OUT.stdin"
cd "$ROOT"
valgrind --tool=callgrind --smc-check=all-non-file --dump-instr=no --callgrind-out-file="$OUT.%p" \
  ${SERVER:-node bench/servers/ioreactor-echo.js} < "$OUT.stdin" > "$OUT.port" 2> "$OUT.log" &
VG=$!
exec 3> "$OUT.stdin"
for _ in $(seq 600); do [ -s "$OUT.port" ] && break; sleep 0.2; done
PORT=$(head -1 "$OUT.port")
LOAD "$PORT" > /dev/null; LOAD "$PORT" > /dev/null
sleep 1; callgrind_control -z $VG > /dev/null
LOAD "$PORT"
sleep 0.5; callgrind_control -d $VG > /dev/null; sleep 1
exec 3>&-
wait $VG || true
python3 "$ROOT/bench/profile/cgself.py" "$OUT.$VG.1" "$OPS" 30
rm -f "$OUT.stdin" "$OUT.port"
echo "profile: $OUT.$VG.1 (callgrind_annotate, or cgself.py FILE OPS [TOP])"
