/**
 * Closing a reactor while its children still run (issue: an abort at close).
 * The children are handed to the process-wide reaper (native/reaper.h): one
 * thread at most, however many children, and when no thread can be created
 * at all (RLIMIT_NPROC) nothing aborts and the children are reaped later.
 * Each case runs test/fixtures/close-children.js in a child process, on
 * every backend.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
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

/**
 * A world-readable copy of what the fixture needs (itself, dist/, the addon):
 * nobody may not be able to reach the checkout (a clone under a 0700 temp dir).
 */
function stageForNobody(): { dir: string; fixture: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-nobody-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = process.env.IOREACTOR_ADDON ?? (require('node-gyp-build') as { path(d: string): string }).path(ROOT);
  fs.copyFileSync(addon, path.join(dir, 'ioreactor.node'));
  fs.copyFileSync(FIXTURE, path.join(dir, 'close-children.js'));
  for (const f of ['ioreactor.node', 'close-children.js']) fs.chmodSync(path.join(dir, f), 0o755);
  const env = { ...process.env, IOREACTOR_ADDON: path.join(dir, 'ioreactor.node'), IOREACTOR_ENTRY: path.join(dir, 'dist', 'index.js') };
  return { dir, fixture: path.join(dir, 'close-children.js'), env };
}

/** Runs the fixture; as nobody when it must feel RLIMIT_NPROC and we are root (the limit does not bind root). */
async function closeWithChildren(backend: string, limitThreads: boolean): Promise<Run> {
  const asNobody = limitThreads && process.getuid?.() === 0;
  const staged = asNobody ? stageForNobody() : null;
  const child = spawn(process.execPath, [staged?.fixture ?? FIXTURE, backend, ...(limitThreads ? ['nproc'] : [])], {
    cwd: staged?.dir ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(staged ? { uid: NOBODY, gid: NOBODY, env: staged.env } : {}),
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
  if (staged) fs.rmSync(staged.dir, { recursive: true, force: true });
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
