/**
 * Prebuild, pack and install: `npm run prebuildify:all` makes the linux-x64
 * prebuild with node-gyp and cross-builds linux-arm64 and the musl ones with
 * zig (link-checking those), `npm pack` ships them with dist/, lib/, the
 * native sources and the bench harness (and nothing a user does not need), and
 * installing the tarball into an empty folder with a PATH holding only node and
 * npm (no compiler, no make) works without compiling and loads the addon from
 * the prebuild. The same tarball installs on arm64: scripts/test-arm64.sh runs
 * its arm64 prebuild under qemu with Debian's arm64 Node. A tarball without
 * the prebuilds fails to install the same way, which proves the first install
 * really compiled nothing, and installs on a machine with a compiler by
 * building the addon from source. Neither install prints a warning of ours.
 *
 * Everything runs in a private copy under the temp dir, so the shared build/
 * and prebuilds/ of the working tree are never touched.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './helpers/child';

const ROOT_FILES = ['package.json', 'README.md', 'binding.gyp', 'tsconfig.json', '.gitignore'];
const TREES = ['lib/', 'native/', 'scripts/', 'bench/', 'bin/'];

/** Runs a command with a hard timeout; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 240000): string {
  const res = spawnSync(cmd, args, { cwd, env, timeout, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) {
    const why = res.error ? String(res.error) : `exit ${res.status} signal ${res.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} failed (${why}):\n${res.stdout}\n${res.stderr}`);
  }
  return res.stdout;
}

/** Copies the files a package build needs (tracked or new, not ignored) into dir. */
function copySources(dir: string): void {
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
  const wanted = listed.filter((f) => ROOT_FILES.includes(f) || TREES.some((t) => f.startsWith(t)));
  for (const file of wanted) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, file));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}

/** A bin dir with only node and npm, and the environment that uses it. */
function bareEnv(tmp: string): NodeJS.ProcessEnv {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  fs.symlinkSync(fs.realpathSync(npmCli), path.join(bin, 'npm'));
  // npm runs scripts through `sh`; give it by absolute path so PATH stays bare.
  return { PATH: bin, HOME: os.homedir(), npm_config_script_shell: '/bin/sh', npm_config_update_notifier: 'false' };
}

/**
 * Lines of an install's output that warn about this package: npm's own notice
 * that a dependency has an install script (npm 11's allowScripts review, which
 * every native addon gets) is not one of ours.
 */
function ourWarnings(out: string): string[] {
  return out.split('\n').filter((line) => /warn/i.test(line) && !/^npm warn install-scripts\b/i.test(line));
}

/** Packs dir into tmp without running scripts; the tarball's path and file list. */
function pack(dir: string, tmp: string): { tarball: string; files: string[] } {
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], dir)) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { tarball: path.join(tmp, packed[0].filename), files: packed[0].files.map((f) => f.path) };
}

/** Loads the installed package in app: a Poller opens, and the addon file node-gyp-build picked. */
function probe(app: string, env: NodeJS.ProcessEnv): { backend: string; addon: string } {
  const script = `
    const path = require('path');
    const m = require('ioreactor');
    const p = new m.Poller();
    p.close();
    const dir = path.dirname(require.resolve('ioreactor/package.json'));
    console.log(JSON.stringify({ backend: p.backend, addon: require('node-gyp-build').path(dir) }));`;
  return JSON.parse(run('node', ['-e', script], app, env, 30000)) as { backend: string; addon: string };
}

function installInto(tmp: string, name: string, tarball: string, env: NodeJS.ProcessEnv): { ok: boolean; out: string; dir: string } {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  const res = spawnSync('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
    cwd: dir,
    env,
    timeout: 120000,
    encoding: 'utf8',
  });
  return { ok: res.status === 0, out: `${res.stdout}\n${res.stderr}`, dir };
}

describe('prebuild, pack and install', () => {
  const arch = `${process.platform}-${process.arch}`;
  let tmp: string;
  let pkg: string;
  let prebuilt: string;
  /** The release tarball (with the prebuild) and one without it. */
  let full: { tarball: string; files: string[] };
  let noPrebuild: { tarball: string; files: string[] };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-install-'));
    pkg = path.join(tmp, 'pkg');
    copySources(pkg);
    // What a working tree holds after `npm run bench`: must not be shipped.
    fs.mkdirSync(path.join(pkg, 'bench', 'out'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'bench', 'out', 'report.html'), '<html></html>');
    // And a dist/ file left by an earlier build of a source since moved: the build starts clean.
    fs.mkdirSync(path.join(pkg, 'dist', 'tcp'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'dist', 'tcp', 'moved.js'), '');
    fs.writeFileSync(path.join(pkg, 'dist', 'tcp', 'moved.js.map'), JSON.stringify({ version: 3, sources: ['../../lib/tcp/moved.ts'], mappings: '' }));

    // The package's own scripts: every prebuild (zig's cache shared with the checkout's), then tsc.
    const zigCache = path.join(ROOT, '.cache', 'zig');
    run('npm', ['run', 'prebuildify:all'], pkg, { ...process.env, ZIG_GLOBAL_CACHE_DIR: zigCache }, 1500000);
    const built = fs.readdirSync(path.join(pkg, 'prebuilds', arch)).filter((f) => f.endsWith('.node') && !f.includes('.musl.'));
    expect(built).toHaveLength(1);
    prebuilt = built[0];
    run('npm', ['run', 'build'], pkg);
    fs.rmSync(path.join(pkg, 'build'), { recursive: true, force: true });
    full = pack(pkg, tmp);
    fs.renameSync(path.join(pkg, 'prebuilds'), path.join(tmp, 'prebuilds-aside'));
    fs.mkdirSync(path.join(tmp, 'bare'));
    noPrebuild = pack(pkg, path.join(tmp, 'bare'));
  }, 1800000);

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('ships dist/, lib/, the native sources, binding.gyp, the prebuild and the bench harness, and nothing else', () => {
    const files = full.files;
    expect(files).toContain(`prebuilds/${arch}/${prebuilt}`);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'binding.gyp', 'scripts/check-node-openssl.js', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts']));
    const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard', 'native', 'bench', 'lib'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '' && fs.existsSync(path.join(ROOT, f)));
    const nativeSources = tracked.filter((f) => /^native\/[^/]+\.(cc|h)$/.test(f));
    const harness = tracked.filter((f) => f.startsWith('bench/'));
    const libSources = tracked.filter((f) => /^lib\/.*\.ts$/.test(f));
    expect(nativeSources.length).toBeGreaterThan(10);
    expect(harness).toEqual(expect.arrayContaining(['bench/cli.js', 'bench/loadgen/main.c', 'bench/cserver/c-echo.c']));
    expect(files).toEqual(expect.arrayContaining([...nativeSources, ...harness, ...libSources]));

    const allowed = /^(package\.json|README\.md|LICENSE|binding\.gyp|scripts\/check-node-openssl\.js|bin\/ioreactor\.js|dist\/.*|lib\/.*\.ts|native\/[^/]+\.(cc|h)|prebuilds\/.*|bench\/(?!out\/).*)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('bench/out/'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/tcp/moved'))).toEqual([]);
    expect(noPrebuild.files.filter((f) => f.startsWith('prebuilds/'))).toEqual([]);

    // Every source map points at a file that is in the package.
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(fs.readFileSync(path.join(pkg, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        if (!files.includes(target)) missing.push(`${map} -> ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('ships a prebuild for linux x64 and arm64, each with glibc and musl, each the one node-gyp-build picks there', () => {
    expect(full.files.filter((f) => f.startsWith('prebuilds/')).sort()).toEqual([
      'prebuilds/linux-arm64/ioreactor.uv1.musl.node',
      'prebuilds/linux-arm64/ioreactor.uv1.node',
      'prebuilds/linux-x64/ioreactor.uv1.musl.node',
      'prebuilds/linux-x64/ioreactor.uv1.node',
    ]);
    // node-gyp-build, told the arch and libc as an arm64 or Alpine machine would tell it, picks each one.
    const picker = path.join(tmp, 'picker');
    fs.mkdirSync(picker);
    fs.symlinkSync(path.join(tmp, 'prebuilds-aside'), path.join(picker, 'prebuilds'));
    const pick = (cpu: string, libc: string): string =>
      run('node', ['-p', `require('node-gyp-build').path(${JSON.stringify(picker)})`], ROOT, { ...process.env, npm_config_arch: cpu, LIBC: libc }).trim();
    for (const cpu of ['x64', 'arm64']) {
      expect(pick(cpu, 'glibc')).toBe(path.join(picker, 'prebuilds', `linux-${cpu}`, 'ioreactor.uv1.node'));
      expect(pick(cpu, 'musl')).toBe(path.join(picker, 'prebuilds', `linux-${cpu}`, 'ioreactor.uv1.musl.node'));
    }
  }, 60000);

  it('the musl prebuilds need nothing but musl and Node; the check fails on a glibc build', () => {
    const check = path.join(ROOT, 'scripts', 'check-musl-links.sh');
    const prebuilds = path.join(tmp, 'prebuilds-aside'); // moved there to pack the tarball without them
    const musl = ['linux-x64', 'linux-arm64'].map((dir) => path.join(prebuilds, dir, 'ioreactor.uv1.musl.node'));
    expect(run('bash', [check, ...musl], ROOT)).toMatch(/ok .*linux-arm64\/ioreactor\.uv1\.musl\.node/);
    const glibc = spawnSync('bash', [check, path.join(prebuilds, 'linux-arm64', 'ioreactor.uv1.node')], { encoding: 'utf8' });
    expect(glibc.status).toBe(1);
    expect(glibc.stderr).toMatch(/in neither musl nor node: fcntl64/);
    expect(glibc.stderr).toMatch(/needs a library besides libc: .*libc\.so\.6/s);
  }, 60000);

  it('the same tarball installs on arm64 and its prebuild runs there (Debian\'s Node 18 under qemu)', () => {
    const script = path.join(ROOT, 'scripts', 'test-arm64.sh');
    const out = run('bash', [script, full.tarball], ROOT, process.env, 900000);
    expect(out).toMatch(/smoke: node v18\.\d+\.\d+ arm64/);
    for (const backend of ['epoll', 'poll']) {
      expect(out).toContain(`smoke: [${backend}] TLS both ways against Node's tls`);
      expect(out).toContain(`smoke: [${backend}] UDP datagram there and back`);
    }
    expect(out).toMatch(/test-arm64: ok/);
    const without = spawnSync('bash', [script, noPrebuild.tarball], { cwd: ROOT, encoding: 'utf8', timeout: 900000 });
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/has no prebuilds\/linux-arm64\/ioreactor\.uv1\.node/);
  }, 1000000);

  it('installs from the tarball without a compiler and loads the prebuilt addon', () => {
    const env = bareEnv(tmp);
    expect(spawnSync('g++', ['--version'], { env }).error).toBeDefined(); // no compiler on this PATH
    const good = installInto(tmp, 'app', full.tarball, env);
    if (!good.ok) throw new Error(`npm install failed:\n${good.out}`);
    expect(good.out).toContain('node-gyp-build'); // the install script ran...
    expect(good.out).not.toMatch(/gyp info|CXX\(target\)/); // ...and found the prebuild
    expect(ourWarnings(good.out)).toEqual([]);
    const installed = path.join(good.dir, 'node_modules', 'ioreactor');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);

    const out = probe(good.dir, env);
    expect(out.backend).toEqual(process.platform === 'linux' ? 'epoll' : expect.any(String));
    expect(out.addon).toBe(path.join(fs.realpathSync(installed), 'prebuilds', arch, prebuilt));
    const esm = run('node', ['--input-type=module', '-e', "import { Poller } from 'ioreactor'; console.log(typeof Poller);"], good.dir, env, 30000);
    expect(esm.trim()).toBe('function');

    // The `ioreactor` command of the installed package serves an app: a worker starts, then stops it.
    fs.writeFileSync(path.join(good.dir, 'app.js'), [
      "const { Deferred, Factory, Protocol } = require('ioreactor');",
      'exports.main = (reactor) => {',
      "  reactor.listenTCP(0, Factory.forProtocol(Protocol), { interface: '127.0.0.1' });",
      "  reactor.callLater(0.1, () => process.kill(process.ppid, 'SIGTERM'));",
      '  return new Deferred();',
      '};',
    ].join('\n'));
    const served = spawnSync(path.join(good.dir, 'node_modules', '.bin', 'ioreactor'), ['serve', 'app.js', '--workers', '1'], { cwd: good.dir, env, timeout: 60000, encoding: 'utf8' });
    expect([served.status, served.stderr]).toEqual([0, expect.stringMatching(/worker 0 \(pid \d+\) ready[\s\S]*ioreactor serve: stopped/)]);

    // The same package without its prebuild cannot install here: it would have to compile.
    const bad = installInto(tmp, 'app-no-prebuild', noPrebuild.tarball, env);
    expect(bad.ok).toBe(false);
    expect(bad.out).toMatch(/command \/bin\/sh -c node-gyp-build/);
  }, 600000);

  it('installs from a tarball without a prebuild where there is a compiler, building the addon from source', () => {
    const env = { ...process.env, npm_config_update_notifier: 'false' };
    const built = installInto(tmp, 'app-compiled', noPrebuild.tarball, env);
    if (!built.ok) throw new Error(`npm install failed:\n${built.out}`);
    expect(built.out).toMatch(/CXX\(target\) Release\/obj\.target\/ioreactor\/native\/loop\.o/); // compiled here
    expect(ourWarnings(built.out)).toEqual([]); // no compiler warning, no npm warning about the package
    const installed = fs.realpathSync(path.join(built.dir, 'node_modules', 'ioreactor'));
    const out = probe(built.dir, env);
    expect(out.backend).toEqual(process.platform === 'linux' ? 'epoll' : expect.any(String));
    expect(out.addon).toBe(path.join(installed, 'build', 'Release', 'ioreactor.node'));
  }, 600000);

  it('the Node-facing files compile for macOS on x86_64 and aarch64 too (zig cross-compiler, -Werror)', () => {
    const zig = path.join(ROOT, 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig');
    expect(fs.existsSync(zig)).toBe(true);
    const out = path.join(tmp, 'macos');
    fs.mkdirSync(out);
    const cache = path.join(ROOT, '.cache', 'zig');
    const env = { ...process.env, ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache };
    const nodeInclude = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
    const addonApi = (require('node-addon-api') as { include_dir: string }).include_dir;
    const files = fs.readdirSync(path.join(ROOT, 'native')).filter((f) => /^(bridge.*|addon)\.cc$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['addon.cc', 'bridge.cc', 'bridge_waiter.cc']));
    for (const target of ['x86_64-macos', 'aarch64-macos']) {
      for (const file of files) {
        run(zig, ['c++', '-target', target, '-std=c++17', '-Wall', '-Wextra', '-Werror', '-DNAPI_VERSION=8',
          '-DNAPI_CPP_EXCEPTIONS', '-DNODE_GYP_MODULE_NAME=ioreactor', '-I', path.join(ROOT, 'native'), '-I', nodeInclude,
          '-I', path.resolve(ROOT, addonApi), '-c', path.join(ROOT, 'native', file), '-o', path.join(out, `${target}-${file}.o`)], ROOT, env);
      }
    }
  }, 600000);
});
