/**
 * The kqueue backend cannot run on Linux, but it must keep compiling:
 * scripts/check-kqueue.sh builds it for macOS with zig. These tests run that
 * check, and prove it can fail by feeding it a copy with a misspelt constant.
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

  test('poller_kqueue.cc and poller.cc compile for macOS', () => {
    const { status, output } = runCheck();
    expect(output).toContain('ok   ' + path.join(nativeDir, 'poller_kqueue.cc'));
    expect(status).toBe(0);
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
    expect(output).toContain('FAIL');
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
