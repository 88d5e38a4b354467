/**
 * The kqueue backend cannot run on Linux, but it must keep compiling:
 * scripts/check-kqueue.sh builds it for macOS on Intel and Apple silicon with
 * zig. These tests run that check, and prove it can fail by feeding it a copy
 * with a misspelt constant, and a file that breaks on one architecture only.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const script = path.join(root, 'scripts', 'check-kqueue.sh');
const nativeDir = path.join(root, 'native');
// zig's first run fills its cache; allow for a busy two-core machine.
const TIMEOUT_MS = 120_000;
/** The macOS targets the README promises are compile-checked. */
const TARGETS = ['x86_64-macos', 'aarch64-macos'];

function runCheck(...files: string[]): { status: number | null; output: string } {
  return runCheckWith(process.env, files);
}

function runCheckWith(
  env: NodeJS.ProcessEnv,
  files: string[],
): { status: number | null; output: string } {
  const result = spawnSync('bash', [script, ...files], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: TIMEOUT_MS - 5_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('kqueue compile check', () => {
  let tmp: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kqueue-check-'));
  });

  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('poller_kqueue.cc and poller.cc compile for x86_64 and aarch64 macOS', () => {
    const { status, output } = runCheck();
    for (const file of ['poller_kqueue.cc', 'poller.cc']) {
      for (const target of TARGETS) {
        expect(output).toContain(`ok   ${path.join(nativeDir, file)} (${target})`);
      }
    }
    expect(status).toBe(0);
  }, TIMEOUT_MS);

  test('a file that breaks on aarch64 alone fails the check', () => {
    const copy = path.join(tmp, 'arm-only.cc');
    fs.writeFileSync(copy, '#if defined(__aarch64__)\n#error broken on arm64\n#endif\nint arm_only_probe;\n');
    const { status, output } = runCheck(copy);
    expect(status).not.toBe(0);
    expect(output).toContain(`ok   ${copy} (x86_64-macos)`);
    expect(output).toContain(`FAIL ${copy} does not compile for aarch64-macos`);
    expect(output).toContain('broken on arm64');
  }, TIMEOUT_MS);

  test('a misspelt kqueue constant fails the check', () => {
    const source = fs.readFileSync(path.join(nativeDir, 'poller_kqueue.cc'), 'utf8');
    const broken = source.replace(/EVFILT_READ/g, 'EVFILT_REED');
    expect(broken).not.toBe(source);
    for (const header of ['poller.h', 'poller_internal.h']) {
      fs.copyFileSync(path.join(nativeDir, header), path.join(tmp, header));
    }
    const copy = path.join(tmp, 'poller_kqueue.cc');
    fs.writeFileSync(copy, broken);

    const { status, output } = runCheck(copy);
    expect(status).not.toBe(0);
    expect(output).toContain('EVFILT_REED');
    for (const target of TARGETS) expect(output).toContain(`FAIL ${copy} does not compile for ${target}`);
  }, TIMEOUT_MS);

  test('a missing zig fails the check loudly', () => {
    const { status, output } = runCheckWith({ ...process.env, ZIG: path.join(tmp, 'zig') }, []);
    expect(status).not.toBe(0);
    expect(output).toContain('zig not found');
  }, TIMEOUT_MS);

  test('a missing file fails the check', () => {
    const { status, output } = runCheck(path.join(tmp, 'nope.cc'));
    expect(status).not.toBe(0);
    expect(output).toContain('no such file');
  }, TIMEOUT_MS);
});
