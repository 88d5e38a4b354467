'use strict';
/**
 * The servers under test and how to start one. Every server listens on
 * 127.0.0.1 port 0, prints the port on its first stdout line (or "SKIP
 * why"), and exits when its stdin closes. They are started through bash so
 * the fd soft limit can be raised to 20000 (or the hard limit) before exec,
 * and through taskset when pinning is on; exec keeps the pid, so the pid we
 * hold is the server's own and the load generator reads /proc/PID for it.
 */
const fs = require('fs');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { ROOT } = require('./build');
const tlsCert = require('./tls-cert');

const SCRIPTS = path.join(ROOT, 'bench', 'servers');

/**
 * The registry. `kind` is the protocol it speaks; `reactor` marks the ones
 * that need the built package; `tls` the ones spoken to over TLS (they use
 * the harness's certificate, bench/lib/tls-cert.js).
 * @param {{cEcho: string, cWs?: string, cTls?: string}} bins
 * @param {string|undefined} backend the --backend option, if any
 * @param {number} [workers] the --workers option: adds `ioreactor-serve`
 *   (ioreactor serve, N workers) and `net-cluster` (Node cluster, N workers),
 *   multi-process servers that report each worker's share of the connections
 */
function registry(bins, backend, workers) {
  const node = (script, ...args) => [process.execPath, path.join(SCRIPTS, script), ...args];
  const be = backend ? ['--backend', backend] : [];
  const beLabel = backend ? ` (${backend})` : '';
  return {
    ioreactor: { label: `ioreactor${beLabel}`, kind: 'echo', reactor: true, cmd: node('ioreactor-echo.js', ...be) },
    'ioreactor-ab1': {
      label: `ioreactor acceptBatch 1${beLabel}`, kind: 'echo', reactor: true,
      cmd: node('ioreactor-echo.js', ...be, '--accept-batch', '1'),
    },
    'ioreactor-epoll': { label: 'ioreactor (epoll)', kind: 'echo', reactor: true, cmd: node('ioreactor-echo.js', '--backend', 'epoll') },
    'ioreactor-poll': { label: 'ioreactor (poll)', kind: 'echo', reactor: true, cmd: node('ioreactor-echo.js', '--backend', 'poll') },
    /* the same echo with a 50 µs coalescing window (ReactorOptions.coalesceMicros): the fixed-rate rows */
    'ioreactor-coalesce': {
      label: `ioreactor window 50 µs${beLabel}`, kind: 'echo', reactor: true,
      cmd: node('ioreactor-echo.js', ...be, '--coalesce', '50'),
    },
    net: { label: 'node net', kind: 'echo', cmd: node('net-echo.js') },
    c: { label: 'C epoll (ceiling)', kind: 'echo', cmd: [bins.cEcho] },
    'ioreactor-http': { label: `ioreactor raw HTTP${beLabel}`, kind: 'http', reactor: true, cmd: node('ioreactor-http.js', ...be) },
    'ioreactor-site': { label: `ioreactor Site (web layer)${beLabel}`, kind: 'http', reactor: true, cmd: node('ioreactor-site.js', ...be) },
    'net-http': { label: 'node net raw HTTP', kind: 'http', cmd: node('net-http.js') },
    'node-http': { label: 'node http', kind: 'http', cmd: node('node-http.js') },
    'c-http': { label: 'C epoll HTTP (ceiling)', kind: 'http', cmd: [bins.cEcho, '--http'] },
    'ioreactor-kv': { label: `ioreactor key-value (LineReceiver, lineText)${beLabel}`, kind: 'kv', reactor: true, cmd: node('ioreactor-kv.js', ...be) },
    'ioreactor-kv-text': { label: `ioreactor kv (TextLineReceiver)${beLabel}`, kind: 'kv', reactor: true, cmd: node('ioreactor-kv.js', ...be, '--text') },
    'ioreactor-kv-sendline': { label: `ioreactor kv (LineReceiver, sendLine a line)${beLabel}`, kind: 'kv', reactor: true, cmd: node('ioreactor-kv.js', ...be, '--sendline') },
    'net-kv': { label: 'node net key-value', kind: 'kv', cmd: node('net-kv.js') },
    'c-kv': { label: 'C epoll key-value (ceiling)', kind: 'kv', cmd: [bins.cEcho, '--kv'] },
    /* tls: the load generator speaks TLS to these (--tls) */
    'ioreactor-tls': { label: `ioreactor TLS (listenSSL)${beLabel}`, kind: 'echo', tls: true, reactor: true, cmd: node('ioreactor-echo.js', ...be, '--tls') },
    'node-tls': { label: 'node tls', kind: 'echo', tls: true, cmd: node('node-tls-echo.js') },
    /* nothing but OpenSSL (bench/cserver/c-tls.c): what any server on it can at best do */
    'c-tls': { label: 'C OpenSSL (ceiling)', kind: 'echo', tls: true, cmd: [bins.cTls, tlsCert.FILES.cert, tlsCert.FILES.key] },
    'ioreactor-https': { label: `ioreactor Site over listenSSL${beLabel}`, kind: 'http', tls: true, reactor: true, cmd: node('ioreactor-site.js', ...be, '--tls') },
    'node-https': { label: 'node https', kind: 'http', tls: true, cmd: node('node-https.js') },
    'ioreactor-ws': { label: `ioreactor WebSocket (Site)${beLabel}`, kind: 'ws', reactor: true, cmd: node('ioreactor-ws.js', ...be) },
    ws: { label: 'ws 8 on node http', kind: 'ws', cmd: node('ws-node.js') },
    'c-ws': { label: 'C epoll WebSocket (ceiling)', kind: 'ws', cmd: [bins.cWs] },
    'ioreactor-wss': { label: `ioreactor wss (Site, listenSSL)${beLabel}`, kind: 'ws', tls: true, reactor: true, cmd: node('ioreactor-ws.js', ...be, '--tls') },
    wss: { label: 'ws 8 on node https', kind: 'ws', tls: true, cmd: node('ws-node.js', '--tls') },
    ...(workers ? {
      'ioreactor-serve': {
        label: `ioreactor serve, ${workers} workers${beLabel}`, kind: 'echo', reactor: true, multi: true,
        cmd: node('ioreactor-workers.js', '--workers', String(workers), ...be),
      },
      'net-cluster': { label: `node cluster, ${workers} workers`, kind: 'echo', multi: true, cmd: node('net-cluster.js', '--workers', String(workers)) },
    } : {}),
  };
}

/**
 * How to place the processes: server on CPU 0 and load generator on CPU 1
 * (taskset) when there are two CPUs, and optionally both at a raised
 * priority (`nice -n N`, N < 0 needs root) so other work on a shared
 * machine takes less of their CPU.
 * With --workers N, the servers get CPUs 0..N-1 and the load generator
 * CPU N, when there are N+1 of them; else nothing is pinned.
 * @param {boolean} wanted pin at all
 * @param {number} [niceness]
 * @param {number} [workers]
 */
function pinning(wanted = true, niceness, workers) {
  const os = require('os');
  const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  const has = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
  const nice = niceness !== undefined ? ['nice', '-n', String(niceness)] : [];
  const niceNote = nice.length ? `, both at nice ${niceness}` : '';
  if (workers && wanted && cpus > workers && has) {
    const all = `0-${workers - 1}`;
    return { on: true, server: [...nice, 'taskset', '-c', all], loadgen: [...nice, 'taskset', '-c', String(workers)], note: `servers on CPUs ${all}, loadgen on CPU ${workers} (taskset)${niceNote}` };
  }
  if (workers && wanted) return { on: false, server: nice, loadgen: nice, note: `not pinned: ${workers} workers and the loadgen need ${workers + 1} CPUs, ${cpus} here${niceNote}` };
  if (wanted && cpus >= 2 && has) return placeOn({ on: true, nice, niceNote }, 0, 1);
  const why = !wanted ? 'not pinned (--no-pin)' : has ? `not pinned: only ${cpus} CPU` : 'not pinned: taskset not found';
  return { on: false, server: nice, loadgen: nice, note: `${why}${niceNote}` };
}

/** The two-CPU placement: server on `serverCpu`, load generator on `loadgenCpu` (sets the prefixes and the note). */
function placeOn(pin, serverCpu, loadgenCpu) {
  pin.cpus = { server: serverCpu, loadgen: loadgenCpu };
  pin.server = [...pin.nice, 'taskset', '-c', String(serverCpu)];
  pin.loadgen = [...pin.nice, 'taskset', '-c', String(loadgenCpu)];
  pin.note = `server on CPU ${serverCpu}, loadgen on CPU ${loadgenCpu} (taskset)${pin.niceNote}`;
  return pin;
}

/**
 * Swaps the server's and the load generator's CPU of a two-CPU placement
 * (bench/lib/placement.js says when): later servers and load generators
 * start on the new CPUs, and the running servers (every thread) move there
 * now. False when the placement is not one that can swap, or a running
 * server could not be moved (then all stay where they were).
 * @param {object} pin from pinning()
 * @param {number[]} pids the running servers
 */
function swapCpus(pin, pids) {
  if (!pin.cpus) return false;
  const { server, loadgen } = pin.cpus;
  // taskset -a succeeds for a pid that is gone (no threads to move): look first
  const moved = (cpu, pid) => fs.existsSync(`/proc/${pid}/task`) && spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
  const move = (cpu) => pids.every((pid) => moved(cpu, pid));
  // A server that did not move would share the load generator's new CPU: put everything back and say no.
  if (!move(loadgen)) return move(server), false;
  placeOn(pin, loadgen, server);
  return true;
}

function wrap(cmd, pin) {
  const script = 'ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
  return ['bash', ['-c', script, 'bash', ...pin.server, ...cmd]];
}

/**
 * Whether a reactor server can run: runs it with --check (listens, exits).
 * @returns {{ok: boolean, why?: string}}
 */
function check(def) {
  if (!def.reactor) return { ok: true };
  const [exe, ...args] = def.cmd;
  const r = spawnSync(exe, [...args, '--check'], { encoding: 'utf8', timeout: 15000, cwd: ROOT });
  const line = (r.stdout || '').split('\n')[0];
  if (r.status === 0 && line.startsWith('OK')) return { ok: true };
  const why = line.startsWith('SKIP ') ? line.slice(5) : `exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-1)[0] || line}`;
  return { ok: false, why };
}

/**
 * Starts a server and waits for its port.
 * @returns {Promise<{pid: number, port: number, stop: () => Promise<void>, stderr: () => string}>}
 */
function start(def, pin, timeoutMs = 15000) {
  if (def.tls) tlsCert.ensureCert(); // the C server takes the files' paths, made the first time
  const [exe, args] = wrap(def.cmd, pin);
  const child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const stop = () => stopChild(child);
  return new Promise((resolve, reject) => {
    const fail = (why) => { clearTimeout(timer); stop(); reject(new Error(`${def.label}: ${why}${err ? `\n${err.trim()}` : ''}`)); };
    const timer = setTimeout(() => fail('no port within 15 s'), timeoutMs);
    child.on('close', (code) => fail(`exited (${code}) before listening: ${out.trim()}`));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = out.slice(0, nl);
      if (line.startsWith('SKIP')) return fail(line);
      clearTimeout(timer);
      child.removeAllListeners('close');
      resolve({ pid: child.pid, port: Number(line), stop, stderr: () => err, child });
    });
  });
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.stdin.end();
    child.kill('SIGTERM');
  });
}

/**
 * A multi-process server's connections accepted per worker so far (it
 * answers a "shares" line on stdin with `SHARES [n, ...]`), or null.
 */
function shares(handle, timeoutMs = 5000) {
  return new Promise((resolve) => {
    let text = '';
    const done = (v) => {
      clearTimeout(timer);
      handle.child.stdout.removeListener('data', onData);
      resolve(v);
    };
    const onData = (d) => {
      text += d;
      const m = /^SHARES (.*)$/m.exec(text);
      if (m) done(JSON.parse(m[1]));
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    handle.child.stdout.on('data', onData);
    handle.child.stdin.write('shares\n');
  });
}

/** utime+stime ticks of a process, or -1. */
function cpuTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return -1;
  }
}

/**
 * Waits until a server stops burning CPU (it may still be closing the last
 * run's connections), at most maxMs.
 */
async function waitQuiet(pid, maxMs = 3000) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const end = Date.now() + maxMs;
  let last = cpuTicks(pid);
  while (Date.now() < end) {
    await sleep(60);
    const now = cpuTicks(pid);
    if (now === last || now < 0) return;
    last = now;
  }
}

module.exports = { registry, pinning, swapCpus, check, start, waitQuiet, shares, cpuTicks };
