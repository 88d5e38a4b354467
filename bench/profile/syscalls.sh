#!/bin/bash
# Syscalls per echo round trip of a server, counted by `strace -c -f`.
#   bench/profile/syscalls.sh [conns=1] [round-trips-per-conn=5000] -- SERVER COMMAND...
#   bench/profile/syscalls.sh 1 5000 -- node bench/servers/ioreactor-echo.js
#   bench/profile/syscalls.sh 1 5000 -- build-bench/c-echo
#   CLIENT=wsrt bench/profile/syscalls.sh 1 5000 -- node bench/servers/ioreactor-ws.js
# (CLIENT=wsrt: 64 B binary WebSocket messages on /ws, bench/profile/wsrt.c;
# its upgrade falls in the count, one per connection)
# Starts the server (it prints its port, exits when its stdin closes), warms it
# with rt (bench/profile/rt.c), attaches strace to every thread, runs conns x
# round-trips one at a time per connection, and prints each syscall's count
# divided by the round trips. With one connection every wake-up carries one
# event, so the per-wake-up syscalls show as whole numbers.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1}; K=${2:-5000}
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
shift || true
[ $# -gt 0 ] || { echo "usage: $0 [conns] [round-trips] -- server command" >&2; exit 1; }
mkdir -p "$ROOT/build-bench"
CLIENT=${CLIENT:-rt}
[ "$ROOT/build-bench/$CLIENT" -nt "$ROOT/bench/profile/$CLIENT.c" ] || cc -O2 -o "$ROOT/build-bench/$CLIENT" "$ROOT/bench/profile/$CLIENT.c"
INFL=1; [ "$CLIENT" = rt ] || INFL=""
OUT=$(mktemp -d)
cd "$ROOT"
mkfifo "$OUT/stdin"
"$@" < "$OUT/stdin" > "$OUT/port" 2> "$OUT/log" &
SP=$!
exec 3> "$OUT/stdin"
for _ in $(seq 100); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$OUT/port")
"$ROOT/build-bench/$CLIENT" "$PORT" 10 100 64 $INFL > /dev/null
strace -c -f -p "$SP" -o "$OUT/strace" 2> /dev/null &
ST=$!
sleep 1
"$ROOT/build-bench/$CLIENT" "$PORT" "$N" "$K" 64 $INFL > /dev/null
sleep 0.5
kill -INT "$ST"; wait "$ST" 2> /dev/null || true
exec 3>&-
wait "$SP" 2> /dev/null || true
echo "$((N * K)) round trips on $N connection(s): $*"
awk -v ops=$((N * K)) '$NF != "total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %8.3f\n", $NF, $4 / ops }' "$OUT/strace" | sort -k2 -rn
rm -rf "$OUT"
