'use strict';
/**
 * `ioreactor serve` with N workers on the echo app, behind the harness's
 * server handshake: prints the port once every worker is ready, answers a
 * "shares" line on stdin with one `SHARES [accepted per worker...]` line
 * (from the supervisor's SIGUSR2 stats), and stops the supervisor
 * gracefully (SIGTERM) when stdin closes.
 * Arguments: --workers N [--backend epoll|poll] [--check].
 */
const path = require('path');
const { spawn } = require('child_process');
const { skip, loadReactor } = require('./common');
const { onLines } = require('./lines');

const argv = process.argv.slice(2);
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const workers = Number(flag('--workers') || 2);
if (!Number.isInteger(workers) || workers < 1) skip(`--workers must be a positive integer, got ${flag('--workers')}`);
loadReactor();
if (argv.includes('--check')) {
  process.stdout.write('OK\n');
  process.exit(0);
}

const root = path.join(__dirname, '..', '..');
const args = [path.join(root, 'bin', 'ioreactor.js'), 'serve', path.join(__dirname, 'echo-app.js'), '--workers', String(workers),
  '--listen', '127.0.0.1:0', '--backlog', '1024', '--grace', '2'];
if (flag('--backend')) args.push('--backend', flag('--backend'));
const sup = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] });
// However we end (stdin closed, SIGTERM from the harness), the supervisor is told to stop.
process.on('exit', () => sup.exitCode === null && sup.kill('SIGTERM'));
process.on('SIGTERM', () => process.exit(0));
sup.on('exit', (code) => process.exit(code === 0 ? 0 : 1));

let port = 0;
let ready = 0;
let asked = 0;
onLines(sup.stderr, (line) => {
  const listening = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
  if (listening) port = Number(listening[1]);
  if (/ready$/.test(line) && ++ready === workers) start();
  if (/ error: /.test(line)) process.stderr.write(`${line}\n`);
  if (asked > 0 && / accepted/.test(line)) {
    asked--;
    process.stdout.write(`SHARES ${JSON.stringify([...line.matchAll(/(\d+) accepted/g)].map((m) => Number(m[1])))}\n`);
  }
});

function start() {
  process.stdout.write(`${port}\n`);
  onLines(process.stdin, (line) => {
    if (line !== 'shares') return;
    asked++;
    sup.kill('SIGUSR2');
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}
