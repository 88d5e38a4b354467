#!/bin/bash
# What one broadcast copy costs around the kernel, counted rather than timed:
# starts a WebSocket server on CPU 0 and build-bench/loadgen --mode broadcast
# on CPU 1 (as the harness pins them), waits until the server holds every
# connection, then for SECONDS counts per copy (one server write each):
# the server's and the load generator's system calls, CPU time and
# wake-ups (schedstat), each CPU's NET_RX softirqs, rescheduling and
# function-call interrupts (IPIs), sched_wakeup events, and ksoftirqd's CPU.
#   bench/profile/broadcast-counts.sh SECONDS CONNS -- SERVER COMMAND...
#   bench/profile/broadcast-counts.sh 3 10000 -- build-bench/c-ws
#   bench/profile/broadcast-counts.sh 3 10000 -- node bench/servers/ws-node.js
# With PERF=FILE, records the server's stacks (kernel included) into FILE
# over the same window instead of counting: perf report -i FILE --children.
# Needs perf (tracepoints) and root or kernel.perf_event_paranoid <= -1.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=${1:?seconds}; N=${2:?connections}; shift 2
[ "$1" = "--" ] && shift
cd "$ROOT"
node -e "require('./bench/lib/build').ensureBuilt()"
OUT=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$OUT"' EXIT
mkfifo "$OUT/stdin"
bash -c 'ulimit -n 20000; exec taskset -c 0 "$@"' bash "$@" < "$OUT/stdin" > "$OUT/port" 2> "$OUT/log" &
SP=$!
exec 3> "$OUT/stdin"
for _ in $(seq 150); do [ -s "$OUT/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$OUT/port")
taskset -c 1 build-bench/loadgen --port "$PORT" --pid "$SP" --mode broadcast --ws --ws-path /ws \
  --conns "$N" --duration $((T + 4)) --warmup 0.5 --setup-limit 120 > "$OUT/loadgen" &
LG=$!
for _ in $(seq 1200); do [ "$(ls /proc/$SP/fd | wc -l)" -ge "$N" ] && break; sleep 0.1; done
sleep 1
ksoft() { for p in $(pgrep -x 'ksoftirqd/[01]'); do awk '{print $1}' /proc/$p/schedstat; done | paste -sd+ | bc; }
snap() { # cpu0/1 NET_RX, RES, CAL; server and loadgen schedstat; server utime+stime ticks; ksoftirqd ns
  echo "$(awk '/NET_RX/{print $2, $3}' /proc/softirqs) $(awk '/RES:/{print $2, $3} /CAL:/{print $2, $3}' /proc/interrupts | paste -sd' ')" \
    "$(cat /proc/$SP/schedstat) $(cat /proc/$LG/schedstat)" \
    "$(awk '{print $14, $15}' /proc/$SP/stat) $(ksoft)"
}
if [ -n "$PERF" ]; then
  perf record -e cpu-clock -F 2000 -g -p "$SP" -o "$PERF" -- sleep "$T" > /dev/null 2>&1
  wait $LG || true
  grep -o '"ops":[0-9]*\|"first_error":"[^"]*"' "$OUT/loadgen" | tr '\n' ' '; echo
  exit 0
fi
A=$(snap)
perf stat -x, -e 'syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_read,syscalls:sys_enter_epoll_wait' \
  --per-thread -p "$SP,$LG" -o "$OUT/sys" -- sleep "$T" &
PS=$!
perf stat -x, -a -e 'sched:sched_wakeup,irq:softirq_entry' -o "$OUT/sched" -- sleep "$T"
wait $PS || true
B=$(snap)
wait $LG || true
python3 - "$OUT" "$SP" "$LG" "$A" "$B" <<'PY'
import sys, json
out, sp, lg, a, b = sys.argv[1:]
d = [float(y) - float(x) for x, y in zip(a.split(), b.split())]
rx0, rx1, res0, res1, cal0, cal1, s_cpu, s_wait, s_slices, l_cpu, l_wait, l_slices, ut, st, ks = d
calls = {}
for line in open(f'{out}/sys'):
    f = line.strip().split(',')
    if len(f) > 3 and f[0] and not f[0].startswith('#'):
        who = 'server' if f[0].endswith('-' + sp) else 'loadgen' if f[0].endswith('-' + lg) else f[0]
        calls[(who, f[3].split(':')[1][10:])] = calls.get((who, f[3].split(':')[1][10:]), 0) + (int(f[1]) if f[1].isdigit() else 0)
ev = {}
for line in open(f'{out}/sched'):
    f = line.strip().split(',')
    if len(f) > 2 and f[0].isdigit(): ev[f[2]] = int(f[0])
copies = sum(v for (w, k), v in calls.items() if w == 'server' and k in ('write', 'writev', 'sendto'))
per = lambda v: round(v / copies, 3) if copies else None
lgj = json.load(open(f'{out}/loadgen'))
print(json.dumps({
  'copies_in_window': copies,
  'server_syscalls_per_copy': {k: per(v) for (w, k), v in calls.items() if w == 'server'},
  'loadgen_syscalls_per_copy': {k: per(v) for (w, k), v in calls.items() if w == 'loadgen'},
  'server_us_per_copy': {'on_cpu': per(s_cpu / 1e3), 'runq_wait': per(s_wait / 1e3), 'user_ticks+sys_ticks': [ut, st]},
  'loadgen_us_per_copy': {'on_cpu': per(l_cpu / 1e3), 'runq_wait': per(l_wait / 1e3), 'timeslices': per(l_slices)},
  'server_timeslices_per_copy': per(s_slices),
  'net_rx_softirqs_per_copy': [per(rx0), per(rx1)],
  'resched_ipis_per_copy': [per(res0), per(res1)], 'call_function_ipis_per_copy': [per(cal0), per(cal1)],
  'sched_wakeups_per_copy': per(ev.get('sched:sched_wakeup', 0)), 'softirqs_per_copy': per(ev.get('irq:softirq_entry', 0)),
  'ksoftirqd_us_per_copy': per(ks / 1e3),
  'loadgen': {k: lgj.get(k) for k in ('ok', 'ops', 'first_error')} | {'bc_all_p50_ms': (lgj.get('bc_all_us') or {}).get('p50', 0) / 1e3},
}, indent=1))
PY
