/**
 * A reactor whose loop cannot be created (the fd table is full: EMFILE)
 * reports typed errors, every backend: listenTCP/UNIX/UDP throw
 * CannotListenError, connectTCP fails through clientConnectionFailed with a
 * ConnectError, a Poller throws PollerError, each with code EMFILE; once fds
 * are free the same reactor listens. Runs test/fixtures/emfile-loop.js under
 * `ulimit -n 256` in a child process.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { forEachBackend } from './helpers/backends';

// Child processes load lib/ through a TypeScript require hook: slow on a busy machine.
const CHILD_MS = 30000;
jest.setTimeout(CHILD_MS + 5000);

function runUnderFdLimit(backend: string): Promise<{ stdout: string; stderr: string; error: Error | null }> {
  const script = path.join(__dirname, 'fixtures', 'emfile-loop.js');
  const cmd = `ulimit -n 256 && exec "${process.execPath}" "${script}" ${backend}`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', cmd], { timeout: CHILD_MS, cwd: path.join(__dirname, '..') }, (error, stdout, stderr) => resolve({ stdout, stderr, error }));
  });
}

forEachBackend('A reactor loop that cannot be created', (backend) => {
  it('gives typed errors with code EMFILE, and works once fds are free', async () => {
    const res = await runUnderFdLimit(backend);
    expect(res.error).toBeNull();
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({
      filled: 'EMFILE',
      listenTCP: 'CannotListenError EMFILE',
      listenUNIX: 'CannotListenError EMFILE',
      listenUDP: 'CannotListenError EMFILE',
      poller: 'PollerError EMFILE',
      connectTCP: 'ok',
      connectFailed: 'ConnectError EMFILE',
      listenAfter: 'ok',
    });
  });
});
