/**
 * Runs examples/<name> as written, as a child process (lib/ loaded through
 * dist-alias.js), collecting its output; every child still running after a
 * test is killed by the afterEach this module registers.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const PRELOAD = path.join(__dirname, 'dist-alias.js');

/** A started example: its output so far and a promise of its exit code. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

/** Starts examples/<name> with the given args and env; output is collected. */
export function run(name: string, args: string[] = [], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['-r', PRELOAD, path.join(ROOT, 'examples', name), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
