#!/usr/bin/env node
// Cross-builds the addon's prebuilds for the Linux targets this machine cannot
// build natively (arm64 with glibc 2.28, x64 and arm64 with musl) with the zig
// toolchain from node_modules and the running Node's headers. linux-x64 with
// glibc is `npm run prebuildify` (node-gyp and the system compiler).
//
//   node scripts/prebuild-cross.js                  # every target below
//   node scripts/prebuild-cross.js linux-arm64-musl # just the ones named
//
// binding.gyp is the one source of truth: its sources, include dirs, defines
// and flags are read from it (its <!(...) and <!@(...) commands run as gyp
// would run them), so a new native file needs no change here. What node-gyp
// adds on top from Node's common.gypi is NODE_GYP_FLAGS below.
//
// Each result is linked as a shared object that leaves napi_*, uv_* and the
// SSL_* family undefined (they resolve from the node process at load), with
// zig's libc++ linked in statically so that it needs nothing beyond libc, and
// stripped. It lands in prebuilds/<platform>-<arch>/ under the name
// node-gyp-build picks with no code of ours: <package>.uv<major>[.musl].node,
// like prebuildify's `--napi --tag-uv` name, plus the musl tag that makes an
// Alpine Node prefer it to the glibc build next to it.
'use strict';
const { execSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');

/** The cross targets: prebuilds/ folder, libc tag, and zig's target triple. */
const TARGETS = {
  'linux-arm64': { dir: 'linux-arm64', libc: 'glibc', zig: 'aarch64-linux-gnu.2.28' },
  'linux-x64-musl': { dir: 'linux-x64', libc: 'musl', zig: 'x86_64-linux-musl' },
  'linux-arm64-musl': { dir: 'linux-arm64', libc: 'musl', zig: 'aarch64-linux-musl' },
};

// node-gyp's compile flags on Linux, from Node's common.gypi (compare
// build/ioreactor.target.mk): binding.gyp's `cflags!` lists remove from these.
const NODE_GYP_FLAGS = {
  defines: ['NODE_GYP_MODULE_NAME=ioreactor', 'USING_UV_SHARED=1', 'USING_V8_SHARED=1', 'V8_DEPRECATION_WARNINGS=1',
    '_FILE_OFFSET_BITS=64', '_LARGEFILE_SOURCE', '__STDC_FORMAT_MACROS', 'OPENSSL_NO_PINSHARED', 'OPENSSL_THREADS',
    'BUILDING_NODE_EXTENSION'],
  cflags: ['-fPIC', '-pthread', '-Wall', '-Wextra', '-Wno-unused-parameter', '-fno-omit-frame-pointer', '-O3'],
  cflags_cc: ['-fno-rtti', '-fno-exceptions', '-std=gnu++17'],
};

function fail(message) {
  process.stderr.write(`prebuild-cross: FAIL: ${message}\n`);
  process.exit(1);
}

/**
 * Expands a gyp command substitution that is the whole string: <!@(cmd) gives
 * a list, <!(cmd) one string (binding.gyp uses no other form).
 */
function expand(value) {
  const run = (cmd) => execSync(cmd, { cwd: ROOT, encoding: 'utf8', shell: '/bin/sh' }).trim();
  const command = /^<!(@?)\((.*)\)$/s.exec(value);
  if (!command) return [value];
  const out = run(command[2]);
  return command[1] === '@' ? out.split(/\s+/).filter(Boolean) : [out];
}

/** The ioreactor target of binding.gyp, its lists expanded (variables run for their checks). */
function readBinding() {
  const gyp = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8'));
  const target = gyp.targets.find((t) => t.target_name === 'ioreactor');
  if (!target) fail('binding.gyp has no ioreactor target');
  for (const value of Object.values(target.variables || {})) expand(value);
  const list = (key) => (target[key] || []).flatMap(expand);
  const without = (base, key) => base.filter((flag) => !list(`${key}!`).includes(flag));
  return {
    sources: list('sources'),
    includes: list('include_dirs').map((dir) => path.resolve(ROOT, dir)),
    defines: [...NODE_GYP_FLAGS.defines, ...list('defines')],
    cflags: [...without(NODE_GYP_FLAGS.cflags, 'cflags'), ...list('cflags')],
    cflagsCc: [...without(NODE_GYP_FLAGS.cflags_cc, 'cflags_cc'), ...list('cflags_cc')],
  };
}

/** Runs zig with args, passing on what it prints (warnings); rejects when it fails. */
function zig(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(env.ZIG, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`zig ${args.join(' ')}\n${out}`));
      process.stderr.write(out);
      resolve();
    });
  });
}

/** Runs jobs (functions returning promises) at most `width` at a time. */
async function pool(jobs, width) {
  const queue = [...jobs];
  const worker = async () => {
    while (queue.length > 0) await queue.shift()();
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** Compiles every source for one target and links the stripped .node; returns its path. */
async function buildTarget(name, binding, env) {
  const target = TARGETS[name];
  const objDir = path.join(ROOT, '.cache', 'prebuild', name);
  fs.rmSync(objDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  const common = ['-target', target.zig, ...binding.cflags, ...binding.cflagsCc,
    ...binding.defines.map((d) => `-D${d}`), '-I', env.NODE_HEADERS, ...binding.includes.flatMap((i) => ['-I', i])];
  const objects = binding.sources.map((src) => path.join(objDir, `${path.basename(src, '.cc')}.o`));
  await pool(binding.sources.map((src, i) => () => zig(['c++', ...common, '-c', path.join(ROOT, src), '-o', objects[i]], env)),
    Number(process.env.JOBS || 2));
  const uv = process.versions.uv.split('.')[0];
  const file = `ioreactor.uv${uv}${target.libc === 'musl' ? '.musl' : ''}.node`;
  const out = path.join(ROOT, 'prebuilds', target.dir, file);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // -shared without -z defs: Node's symbols stay undefined until load. -s strips.
  await zig(['c++', '-target', target.zig, '-shared', '-s', '-pthread', '-Wl,-soname=ioreactor.node',
    '-o', out, ...objects], env);
  return out;
}

async function main() {
  const names = process.argv.slice(2);
  for (const name of names) if (!TARGETS[name]) fail(`unknown target ${name} (known: ${Object.keys(TARGETS).join(', ')})`);
  const cache = process.env.ZIG_GLOBAL_CACHE_DIR || path.join(ROOT, '.cache', 'zig');
  const env = {
    ...process.env,
    ZIG: process.env.ZIG || path.join(ROOT, 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig'),
    NODE_HEADERS: process.env.NODE_HEADERS || path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    ZIG_GLOBAL_CACHE_DIR: cache,
    ZIG_LOCAL_CACHE_DIR: cache,
  };
  if (!fs.existsSync(env.ZIG)) fail(`zig not found at ${env.ZIG} (npm install, or set ZIG)`);
  if (!fs.existsSync(path.join(env.NODE_HEADERS, 'node_api.h'))) fail(`no Node headers in ${env.NODE_HEADERS} (set NODE_HEADERS)`);
  const binding = readBinding();
  for (const name of names.length > 0 ? names : Object.keys(TARGETS)) {
    const started = Date.now();
    const out = await buildTarget(name, binding, env);
    const size = fs.statSync(out).size;
    process.stdout.write(`prebuild-cross: ${name}: ${path.relative(ROOT, out)} (${size} bytes, ${((Date.now() - started) / 1000).toFixed(0)}s)\n`);
  }
}

main().catch((err) => fail(err.message));
