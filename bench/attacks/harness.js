'use strict';
/**
 * What the attack scripts share: the server runs in a child process (started
 * with --expose-gc, talking over IPC) so the memory measured is the server's
 * alone; the attacking client runs in the parent. The server side answers
 * `measure` with its memory after a full GC, so garbage is never counted.
 */
const { fork } = require('child_process');

/** Server side: memory after a full GC, in MB, plus whatever `extra()` reports. */
function measure(extra) {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  const mb = (n) => Math.round(n / 1e5) / 10;
  return { rss: mb(m.rss), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), ...extra() };
}

/** Server side: answers the parent's requests; `port` is reported once listening. */
function serve(port, extra) {
  process.on('message', (msg) => {
    if (msg === 'measure') process.send({ measured: measure(extra) });
    else if (msg === 'exit') process.exit(0);
  });
  process.send({ port });
}

/** Parent side: forks `script --server ...args`; resolves with a handle once it listens. */
function startServer(script, args) {
  const child = fork(script, ['--server', ...args], { execArgv: ['--expose-gc'] });
  const latest = {};
  child.on('message', (m) => Object.assign(latest, m));
  const ask = (what) =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m[what]));
    });
  return ask('port').then((port) => ({
    port,
    pid: child.pid,
    measure: () => {
      const p = ask('measured');
      child.send('measure');
      return p;
    },
    /** Resolves once the server has sent `{ [key]: n }` with n >= `atLeast` (before or after this call). */
    seen: (key, atLeast) =>
      new Promise((resolve) => {
        const check = () => {
          if (!(latest[key] >= atLeast)) return;
          child.off('message', check);
          resolve();
        };
        child.on('message', check);
        check();
      }),
    stop: () => child.send('exit'),
  }));
}

/** `--name value` from argv, or the default. */
function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Prints the before/after table of one attack. */
function report(title, before, after) {
  console.log(title);
  for (const key of Object.keys(after)) {
    console.log(`  ${key.padEnd(14)} ${String(before[key] ?? '-').padStart(10)} -> ${String(after[key]).padStart(10)}`);
  }
}

module.exports = { serve, startServer, option, report };
