/**
 * Closing a reactor while its children still run (issue: an abort at close).
 * The children are handed to the process-wide reaper (native/reaper.h): one
 * thread at most, however many children, and when no thread can be created
 * at all (RLIMIT_NPROC) nothing aborts and the children are reaped later.
 * Each case runs test/fixtures/close-children.js in a child process, on
 * every backend.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { backendNames } from './helpers/backends';
import { ROOT } from './helpers/child';

jest.setTimeout(30000);

const FIXTURE = path.join(__dirname, 'fixtures', 'close-children.js');
const NOBODY = 65534;

interface Run {
  /** Threads close() added, as /proc/self/task counts them. */
  added: number;
  /** Children still present 5 s after they were killed. */
  left: number;
}

/** Runs the fixture; as nobody when it must feel RLIMIT_NPROC and we are root (the limit does not bind root). */
async function closeWithChildren(backend: string, limitThreads: boolean): Promise<Run> {
  const asNobody = limitThreads && process.getuid?.() === 0;
  const child = spawn(process.execPath, [FIXTURE, backend, ...(limitThreads ? ['nproc'] : [])], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 25000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  return JSON.parse(stdout) as Run;
}

for (const backend of backendNames()) {
  describe(`closing with children running [${backend}]`, () => {
    it('hands 100 children to one reaper thread, which reaps them once killed', async () => {
      const run = await closeWithChildren(backend, false);
      expect(run.added).toBeGreaterThanOrEqual(0);
      expect(run.added).toBeLessThanOrEqual(1);
      expect(run.left).toBe(0);
    });

    it('does not abort when no thread can be created (RLIMIT_NPROC), and reaps later', async () => {
      const run = await closeWithChildren(backend, true);
      // The limit held: no thread started (the poll backend's waiter thread ends with its loop).
      expect(run.added).toBeLessThanOrEqual(0);
      expect(run.left).toBe(0);
    });
  });
}
