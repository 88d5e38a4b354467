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

const TARGETS = {
  /* the TLS mode links the system's OpenSSL (libssl-dev), not Node's */
  loadgen: { dir: path.join(ROOT, 'bench', 'loadgen'), libs: ['-lssl', '-lcrypto', '-pthread'] },
  'c-echo': { dir: path.join(ROOT, 'bench', 'cserver'), libs: [] },
};

function sourcesOf(dir) {
  return fs.readdirSync(dir).filter((f) => /\.[ch]$/.test(f)).map((f) => path.join(dir, f));
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function buildOne(name, { dir, libs }) {
  const bin = path.join(OUT, name);
  const sources = sourcesOf(dir);
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
 * @returns {{loadgen: string, cEcho: string}} paths of the binaries
 */
function ensureBuilt() {
  fs.mkdirSync(OUT, { recursive: true });
  return {
    loadgen: buildOne('loadgen', TARGETS.loadgen),
    cEcho: buildOne('c-echo', TARGETS['c-echo']),
  };
}

module.exports = { ensureBuilt, ROOT };
