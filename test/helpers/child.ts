/**
 * Runs a short Node script in a child process that can load lib/*.ts (through
 * ts-register.js), with a hard timeout: the child is killed when it overstays,
 * and the result says so instead of hanging the test.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

/** The repository root, for require() paths inside child scripts. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** How a child run ended. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  ms: number;
  /** True when we killed it at the timeout. */
  timedOut: boolean;
}

/** Called with the child's stdout so far each time more arrives (e.g. to signal it once it is ready). */
export type OnStdout = (stdoutSoFar: string, child: ChildProcess) => void;

/** Runs `node [flags] -r ts-register -e script ...args` from the repo root; resolves when it exits. */
export function runNode(script: string, args: string[] = [], timeoutMs = 10000, flags: string[] = [], onStdout?: OnStdout): Promise<ChildResult> {
  const started = Date.now();
  const argv = [...flags, '-r', path.join(__dirname, 'ts-register.js'), '-e', script, '--', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}
