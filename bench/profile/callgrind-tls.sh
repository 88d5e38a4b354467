#!/bin/bash
# Instructions per TLS operation, under callgrind (TLS 1.3, the harness's RSA 2048 certificate):
#   bench/profile/callgrind-tls.sh            # the server per echo round trip (64 B, 100 connections)
#   bench/profile/callgrind-tls.sh client     # the load generator per round trip (build-bench/loadgen --tls)
#   bench/profile/callgrind-tls.sh handshake  # the server per full handshake (loadgen --mode churn --tls, 20 at once)
#   bench/profile/callgrind-tls.sh resume     # the server per resumed handshake (--tls-resume, 5 slots)
#   bench/profile/callgrind-tls.sh https      # Site over listenSSL per hello request (loadgen --mode http, 100 connections)
#   bench/profile/callgrind-tls.sh https-client  # the load generator per HTTPS request against that server
#   SERVER="node bench/servers/node-tls-echo.js" bench/profile/callgrind-tls.sh client
#   SERVER="build-bench/c-tls build-bench/tls/cert.pem build-bench/tls/key.pem" OPS_FN='^SSL_new$' \
#     bench/profile/callgrind-tls.sh handshake   # the C ceiling: the system libssl is stripped, so one
#     SSL_new per connection counts its handshakes (and no full/resumed split is printed)
# (SERVER: the server's command line; the server runs under valgrind except for `client`.)
# Under valgrind the start-up and the first handshakes take many seconds, so
# the counters are zeroed well after start (ZERO_AT, default 25 s for the
# server, 6 s for the client, 30 s for handshakes) and dumped WINDOW seconds
# later (default 8 / 6 / 30). Operations are counted in the dump itself, so
# the figure per operation does not depend on how many the window held:
# calls to RecordCipher::seal (one record sealed per echo) in the server, to
# tls_write in the load generator, to tls_construct_server_hello per
# handshake (tls_construct_cert_verify: the full ones among them; a resumed
# run's window may hold a few). Handshake runs also print the inclusive cost
# of the whole process and of SSL_do_handshake (OpenSSL's part) per
# handshake. Prints self cost per function (cgself.py); needs dist/,
# build/Release and build-bench/loadgen (node -e "require('./bench/lib/build').ensureBuilt()").
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WHO=${1:-server}
OUT=${OUT:-/tmp/ioreactor-callgrind-tls.$$}
SERVER=${SERVER:-node bench/servers/ioreactor-echo.js --tls}
CG="valgrind --tool=callgrind --separate-threads=yes --smc-check=all-non-file --dump-instr=no --callgrind-out-file=$OUT.%p"
cd "$ROOT"
mkfifo "$OUT.stdin"
S_CMD="$CG $SERVER"; LOAD="--mode echo --conns 100 --tls"; PAT='RecordCipher::seal'
case "$WHO" in
  client) ZERO_AT=${ZERO_AT:-6}; WINDOW=${WINDOW:-6}; PAT='^tls_write$'; S_CMD=$SERVER ;;
  https-client) ZERO_AT=${ZERO_AT:-6}; WINDOW=${WINDOW:-6}; PAT='^tls_write$'; LOAD="--mode http --conns 100 --tls"
    S_CMD=${SERVER_HTTPS:-node bench/servers/ioreactor-site.js --tls}; WHO=client ;;
  https) S_CMD="$CG ${SERVER_HTTPS:-node bench/servers/ioreactor-site.js --tls}"; LOAD="--mode http --conns 100 --tls" ;;
  handshake) LOAD="--mode churn --conns 20 --size 64 --tls --setup-limit 120"; PAT='^tls_construct_server_hello$' ;;
  resume) LOAD="--mode churn --conns 5 --size 64 --tls-resume --setup-limit 120"; PAT='^tls_construct_server_hello$' ;;
esac
case "$WHO" in handshake | resume) ZERO_AT=${ZERO_AT:-30}; WINDOW=${WINDOW:-30} ;; esac
PAT=${OPS_FN:-$PAT}
ZERO_AT=${ZERO_AT:-25}; WINDOW=${WINDOW:-8}
$S_CMD < "$OUT.stdin" > "$OUT.port" 2> "$OUT.log" &
SRV=$!
exec 3> "$OUT.stdin"
for _ in $(seq 3000); do [ -s "$OUT.port" ] && break; sleep 0.2; done
PORT=$(head -1 "$OUT.port")
# shellcheck disable=SC2086  # LOAD is a list of arguments on purpose
LG="$ROOT/build-bench/loadgen --port $PORT $LOAD --duration $((ZERO_AT + WINDOW + 5)) --warmup 0"
if [ "$WHO" = client ]; then $CG $LG > "$OUT.lg" 2>/dev/null & TARGET=$!; else $LG > "$OUT.lg" 2>&1 & TARGET=$SRV; fi
LGPID=$!
sleep "$ZERO_AT"; callgrind_control -z $TARGET > /dev/null
sleep "$WINDOW"; callgrind_control -d $TARGET > /dev/null
wait $LGPID || true
exec 3>&-
wait $SRV || true
# The dump callgrind_control made (.1), main thread (-01); the largest file
# can be another thread's dump at exit.
FILE=$OUT.$TARGET.1-01
[ -s "$FILE" ] || FILE=$(ls -S $OUT.$TARGET* | head -1)
count() { python3 "$ROOT/bench/profile/cgcalls.py" "$FILE" "$1"; }
OPS=$(count "$PAT")
[ "$OPS" -gt 0 ] || { echo "no operations in the window ($FILE): raise ZERO_AT or WINDOW" >&2; exit 1; }
case "$WHO" in
  handshake | resume)
    echo "handshakes in the window: $OPS ($(count '^tls_construct_cert_verify$') full)"
    callgrind_annotate --inclusive=yes "$FILE" 2>/dev/null | python3 -c "
import re, sys
for line in sys.stdin:
    m = re.match(r'\s*([\d,]+) .*(PROGRAM TOTALS|[^a-zA-Z_]SSL_do_handshake )', line)
    if m: print('%-17s %9.0f instructions per handshake' % (m.group(2).strip(), int(m.group(1).replace(',', '')) / float(sys.argv[1])))
" "$OPS" ;;
  *) echo "round trips in the window: $OPS; handshakes in it: $(count '^SSL_do_handshake$') (must be 0, else raise ZERO_AT)" ;;
esac
python3 "$ROOT/bench/profile/cgself.py" "$FILE" "$OPS" 40
rm -f "$OUT.stdin" "$OUT.port"
echo "profile: $FILE (cgself.py FILE OPS [TOP]; callgrind_annotate --inclusive=yes FILE)"
