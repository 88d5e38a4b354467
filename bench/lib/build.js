'use strict';
/**
 * Compiles the native parts of the harness (the load generator and the C
 * ceiling server) with cc into build-bench/, again whenever a source is
 * newer than its binary. Each binary is written under a temporary name and
 * renamed, so two harnesses building at once never run a half-written file.
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'build-bench');
const CFLAGS = ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE'];

const CSERVER = path.join(ROOT, 'bench', 'cserver');
/* `only`: the .c files of a directory that holds more than one program
 * (every header of the directory still counts for staleness) */
const TARGETS = {
  /* the TLS mode links the system's OpenSSL (libssl-dev), not Node's */
  loadgen: { dir: path.join(ROOT, 'bench', 'loadgen'), libs: ['-lssl', '-lcrypto', '-pthread'] },
  'c-echo': { dir: CSERVER, only: ['c-echo.c', 'kv.c', 'cs-net.c'], libs: [] },
  /* SHA-1 for the upgrade's accept value, from the same OpenSSL */
  'c-ws': { dir: CSERVER, only: ['c-ws.c', 'ws-frame.c', 'cs-net.c'], libs: ['-lcrypto'] },
  /* the TLS ceiling, on the same system OpenSSL as the load generator */
  'c-tls': { dir: CSERVER, only: ['c-tls.c', 'cs-net.c'], libs: ['-lssl', '-lcrypto'] },
};

function sourcesOf(dir, only) {
  const mine = (f) => f.endsWith('.h') || (f.endsWith('.c') && (!only || only.includes(f)));
  return fs.readdirSync(dir).filter(mine).map((f) => path.join(dir, f));
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function buildOne(name, { dir, only, libs }) {
  const bin = path.join(OUT, name);
  const sources = sourcesOf(dir, only);
  const newest = Math.max(...sources.map(mtime));
  if (mtime(bin) >= newest) return bin;
  const tmp = `${bin}.${process.pid}.tmp`;
  const cfiles = sources.filter((f) => f.endsWith('.c'));
  execFileSync('cc', [...CFLAGS, '-o', tmp, ...cfiles, ...libs], { stdio: ['ignore', 'inherit', 'inherit'] });
  fs.renameSync(tmp, bin);
  return bin;
}

/**
 * Builds what is missing or stale.
 * @returns {{loadgen: string, cEcho: string, cWs: string, cTls: string}} paths of the binaries
 */
function ensureBuilt() {
  fs.mkdirSync(OUT, { recursive: true });
  return {
    loadgen: buildOne('loadgen', TARGETS.loadgen),
    cEcho: buildOne('c-echo', TARGETS['c-echo']),
    cWs: buildOne('c-ws', TARGETS['c-ws']),
    cTls: buildOne('c-tls', TARGETS['c-tls']),
  };
}

module.exports = { ensureBuilt, ROOT };
