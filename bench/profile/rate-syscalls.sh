#!/bin/bash
# Syscalls per request of a server under the fixed-rate echo load (the
# harness's rate-* scenarios), counted by `perf stat` on syscall tracepoints:
# unlike strace (ptrace stops every call, so a traced server slows and batches
# more events per wake-up than it would), tracepoints leave the timing alone.
#   bench/profile/rate-syscalls.sh RATE [conns=1000] [seconds=2] -- SERVER COMMAND...
#   bench/profile/rate-syscalls.sh 17000 -- node bench/servers/ioreactor-echo.js
#   bench/profile/rate-syscalls.sh 17000 -- node bench/servers/net-echo.js
# Server on CPU 0, load generator on CPU 1 (as the harness pins them). Prints
# each syscall's count over the requests served while counting (bytes read /
# 64), the server's blocking sleeps (voluntary context switches: wake-ups
# that found nothing ready) and its user and system CPU per request over the
# same interval (10 ms ticks: take several rounds), then the load
# generator's figures (a round where it waited for its CPU says little).
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RATE=$1; shift
N=1000; T=2
[ "$1" != "--" ] && { N=$1; shift; }
[ "$1" != "--" ] && { T=$1; shift; }
shift || true
[ $# -gt 0 ] || { echo "usage: $0 RATE [conns] [seconds] -- server command" >&2; exit 1; }
cd "$ROOT"
node -e "require('./bench/lib/build').ensureBuilt()"
OUT=$(mktemp -d)
mkfifo "$OUT/stdin"
bash -c 'ulimit -n 20000; exec taskset -c 0 "$@"' _ "$@" < "$OUT/stdin" > "$OUT/port" 2> "$OUT/log" &
SP=$!
exec 3> "$OUT/stdin"
for _ in $(seq 100); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$OUT/port")
taskset -c 1 "$ROOT/build-bench/loadgen" --port "$PORT" --mode echo --conns "$N" --size 64 --inflight 32 \
  --rate "$RATE" --warmup 1 --duration $((T + 2)) > "$OUT/lg" 2>&1 &
LG=$!
sleep 2
# user ticks, system ticks, bytes read, voluntary context switches (sleeps),
# involuntary ones (preemptions), run time in ns (schedstat: exact, where the
# tick-sampled user/system split moves by a tick or two), all threads
snap() {
  local u=0 s=0 v=0 i=0 r=0 t rt
  for t in /proc/$SP/task/*; do
    read -r -a st < "$t/stat"; u=$((u + st[13])); s=$((s + st[14]))
    v=$((v + $(awk '/^voluntary_ctxt/ {print $2}' "$t/status")))
    i=$((i + $(awk '/^nonvoluntary_ctxt/ {print $2}' "$t/status")))
    read -r rt _ < "$t/schedstat"; r=$((r + rt))
  done
  echo "$u $s $(awk '/^rchar/ {print $2}' "/proc/$SP/io") $v $i $r"
}
read -r U0 S0 R0 V0 I0 N0 <<< "$(snap)"
EV='raw_syscalls:sys_enter'
for s in epoll_wait epoll_pwait epoll_ctl read readv write writev sendto recvfrom futex timerfd_settime accept4 getpeername ioctl; do
  EV="$EV,syscalls:sys_enter_$s"
done
perf stat -x, -e "$EV" -p "$SP" -o "$OUT/perf" -- sleep "$T"
read -r U1 S1 R1 V1 I1 N1 <<< "$(snap)"
wait "$LG" || true
exec 3>&-
wait "$SP" 2> /dev/null || true
HZ=$(getconf CLK_TCK)
# Requests served while counting: bytes read / 64 (every request is 64 B).
# rchar counts read(2) only: a server that reads with recvfrom(2) (ioreactor
# since its socket calls went past libc) leaves it still, and then the
# requests are the rate times the seconds counted (what a server that keeps
# up serves; the load generator's line says whether it did).
OPS=$(((R1 - R0) / 64)); HOW="bytes read / 64"
[ "$OPS" -gt 0 ] || { OPS=$(awk -v r="$RATE" -v t="$T" 'BEGIN { printf "%d", r * t }'); HOW="rate x seconds: rchar did not move"; }
awk -F, -v ops="$OPS" -v how="$HOW" -v v=$((V1 - V0)) -v inv=$((I1 - I0)) -v ns=$((N1 - N0)) -v u=$((U1 - U0)) -v s=$((S1 - S0)) -v hz="$HZ" '
  /sys_enter/ { name=$3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "all syscalls"; c[name] = $1 }
  END {
    printf "%d requests (%s); per request:\n", ops, how
    printf "  %-16s %7.3f\n", "sleeps", v / ops
    printf "  %-16s %7.3f\n", "preemptions", inv / ops
    for (k in c) if (c[k] > 0) printf "  %-16s %7.3f\n", k, c[k] / ops
    printf "  cpu usr %.2f us, sys %.2f us (%d Hz ticks)\n", u / hz * 1e6 / ops, s / hz * 1e6 / ops, hz
    printf "  cpu run time %.2f us (schedstat)\n", ns / 1000 / ops
  }' "$OUT/perf" | sort
sed -E 's/.*"ops_per_s":([0-9.]+).*"loadgen_runq_wait":([0-9.]+).*"p50":([0-9.]+).*"p99":([0-9.]+).*"send_lag_us":\{"p50":[0-9.]+,"p99":([0-9.]+).*/  served \1\/s, lg runq wait \2, p50 \3 us, p99 \4 us, send lag p99 \5 us/' "$OUT/lg"
rm -rf "$OUT"
