#!/bin/bash
# Instructions per TLS echo round trip, under callgrind (64 B, 100 connections, TLS 1.3):
#   bench/profile/callgrind-tls.sh            # the server (bench/servers/ioreactor-echo.js --tls)
#   bench/profile/callgrind-tls.sh client     # the load generator (build-bench/loadgen --tls)
#   SERVER="node bench/servers/node-tls-echo.js" bench/profile/callgrind-tls.sh client
# The handshakes under valgrind take many seconds, so the counters are zeroed
# well after start (ZERO_AT, default 25 s for the server, 6 s for the client)
# and dumped WINDOW seconds later (default 8 / 6). Round trips are counted in
# the dump itself: calls to RecordCipher::seal (one record sealed per echo) in
# the server, to tls_write in the load generator. Prints self cost per
# function (cgself.py); needs dist/, build/Release and build-bench/loadgen
# (node -e "require('./bench/lib/build').ensureBuilt()").
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WHO=${1:-server}
OUT=${OUT:-/tmp/ioreactor-callgrind-tls.$$}
SERVER=${SERVER:-node bench/servers/ioreactor-echo.js --tls}
CG="valgrind --tool=callgrind --separate-threads=yes --smc-check=all-non-file --dump-instr=no --callgrind-out-file=$OUT.%p"
cd "$ROOT"
mkfifo "$OUT.stdin"
if [ "$WHO" = client ]; then ZERO_AT=${ZERO_AT:-6}; WINDOW=${WINDOW:-6}; PAT='^tls_write$'; S_CMD=$SERVER
else ZERO_AT=${ZERO_AT:-25}; WINDOW=${WINDOW:-8}; PAT='RecordCipher::seal'; S_CMD="$CG $SERVER"; fi
$S_CMD < "$OUT.stdin" > "$OUT.port" 2> "$OUT.log" &
SRV=$!
exec 3> "$OUT.stdin"
for _ in $(seq 3000); do [ -s "$OUT.port" ] && break; sleep 0.2; done
PORT=$(head -1 "$OUT.port")
LG="$ROOT/build-bench/loadgen --port $PORT --mode echo --conns 100 --tls --duration $((ZERO_AT + WINDOW + 5)) --warmup 0"
if [ "$WHO" = client ]; then $CG $LG > "$OUT.lg" 2>/dev/null & TARGET=$!; else $LG > "$OUT.lg" 2>&1 & TARGET=$SRV; fi
LGPID=$!
sleep "$ZERO_AT"; callgrind_control -z $TARGET > /dev/null
sleep "$WINDOW"; callgrind_control -d $TARGET > /dev/null
wait $LGPID || true
exec 3>&-
wait $SRV || true
FILE=$(ls -S $OUT.$TARGET* | head -1)
count() { python3 - "$FILE" "$1" <<'PY'
import re, sys
names, cur, total = {}, None, 0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.strip())
    if m:
        if m.group(2): names[m.group(1)] = m.group(2)
        if line.startswith("cfn="): cur = names.get(m.group(1), "")
    elif line.startswith("calls=") and cur and re.search(sys.argv[2], cur):
        total += int(line[6:].split()[0])
print(total)
PY
}
OPS=$(count "$PAT")
echo "round trips in the window: $OPS; handshakes in it: $(count '^SSL_do_handshake$') (must be 0, else raise ZERO_AT)"
python3 "$ROOT/bench/profile/cgself.py" "$FILE" "$OPS" 40
rm -f "$OUT.stdin" "$OUT.port"
echo "profile: $FILE (cgself.py FILE OPS [TOP])"
