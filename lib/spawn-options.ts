/**
 * Options of spawnProcess and their checks, as tcp/options.ts is for TCP:
 * user arguments become the plan the native spawn takes, or a TypeError
 * naming what was wrong; a failed spawn's errno becomes a SpawnError that
 * says why in words. Also the signal-name check of signalProcess.
 */
import * as os from 'os';
import { SpawnError } from './errors';
import { errnoName } from './native';

/** How a child fd is set up: 'r' a pipe we read, 'w' a pipe we write, or one of our fds passed through. */
export type ChildFDSpec = 'r' | 'w' | number;

/** Options of spawnProcess, as Twisted's keyword arguments. */
export interface SpawnProcessOptions {
  /**
   * The child's complete environment. Omitted: an empty one (Twisted on
   * POSIX); null: this process's `process.env`. A bare executable name is
   * looked up in this environment's PATH (default `/bin:/usr/bin`).
   */
  env?: Record<string, string | undefined> | null;
  /** Working directory of the child; the current one when omitted. */
  path?: string | null;
  /** Child fd -> 'r' | 'w' | our fd number. Default `{0: 'w', 1: 'r', 2: 'r'}`. */
  childFDs?: Record<number, ChildFDSpec>;
  /** User id to run the child as (needs privileges). */
  uid?: number | null;
  /** Group id to run the child as (needs privileges). */
  gid?: number | null;
  /** Not supported: a pseudo-terminal. Passing a truthy value throws. */
  usePTY?: boolean;
}

/** A spawn's checked arguments, as the native spawn takes them. */
export interface SpawnPlan {
  /** argv for the child (`[executable]` when args was empty). */
  argv: string[];
  /** The environment as NAME=value strings. */
  env: string[];
  /** Working directory, or null for ours. */
  cwd: string | null;
  /** Child fd and how it is set up, in the order given. */
  fds: [number, ChildFDSpec][];
  /** (child fd, how, our fd) triples for the native spawn. */
  triples: number[];
  /** User and group id, -1 to keep ours. */
  uid: number;
  gid: number;
}

const HOW_READ = 0;
const HOW_WRITE = 1;
const HOW_INHERIT = 2;

/** The signal number for 'TERM', 'SIGTERM', 15, ...; TypeError when unknown. */
export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') {
    if (Number.isInteger(signal) && signal >= 0 && signal <= 64) return signal;
    throw new TypeError(`signalProcess: signal number must be an integer in 0..64, got ${signal}`);
  }
  if (typeof signal !== 'string') throw new TypeError(`signalProcess: signal must be a name or a number, got ${String(signal)}`);
  const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
  const num = (os.constants.signals as Record<string, number | undefined>)[name];
  if (num === undefined) throw new TypeError(`signalProcess: unknown signal ${JSON.stringify(signal)}`);
  return num;
}

function checkString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TypeError(`spawnProcess: ${what} must be a string, got ${v === null ? 'null' : typeof v}`);
  if (v.includes('\0')) throw new TypeError(`spawnProcess: ${what} must not contain a NUL byte`);
  return v;
}

function envList(env: SpawnProcessOptions['env']): string[] {
  if (env === undefined) return [];
  const source = env === null ? process.env : env;
  if (typeof source !== 'object' || Array.isArray(source)) throw new TypeError('spawnProcess: env must be an object of strings, or null');
  const out: string[] = [];
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    checkString(key, 'an env name');
    if (key === '' || key.includes('=')) throw new TypeError(`spawnProcess: env name ${JSON.stringify(key)} is empty or contains '='`);
    out.push(`${key}=${checkString(value, `env ${key}`)}`);
  }
  return out;
}

function fdSpecs(childFDs: SpawnProcessOptions['childFDs']): [number, ChildFDSpec][] {
  const spec = childFDs ?? { 0: 'w', 1: 'r', 2: 'r' };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('spawnProcess: childFDs must be an object such as {0: "w", 1: "r", 2: "r"}');
  const out: [number, ChildFDSpec][] = [];
  for (const [key, how] of Object.entries(spec)) {
    const fd = Number(key);
    if (!Number.isInteger(fd) || fd < 0 || fd > 1023) throw new TypeError(`spawnProcess: childFDs key ${JSON.stringify(key)} is not a child fd in 0..1023`);
    const ok = how === 'r' || how === 'w' || (typeof how === 'number' && Number.isInteger(how) && how >= 0 && how <= 0x7fffffff);
    if (!ok) throw new TypeError(`spawnProcess: childFDs[${fd}] must be 'r', 'w' or one of our fd numbers, got ${JSON.stringify(how)}`);
    out.push([fd, how]);
  }
  return out;
}

function optionalId(v: unknown, what: string): number {
  if (v === undefined || v === null) return -1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xfffffffe) throw new TypeError(`spawnProcess: ${what} must be a non-negative integer, got ${String(v)}`);
  return v;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOEXEC: 'not an executable format',
  ENOTDIR: 'a path component is not a directory',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  EAGAIN: 'too many processes',
  ENOSYS: 'pidfd_open is not available (Linux 5.3 or later is needed)',
};

/** The SpawnError for a failed spawn's errno, in words (what an fd passed through or a working directory has to do with it). */
export function spawnError(ret: number, executable: string, cwd: string | null, fds: [number, ChildFDSpec][]): Error {
  const code = errnoName(ret);
  let detail = ERRNO_TEXT[code] ?? code;
  if (code === 'EBADF') {
    const passed = fds.filter(([, how]) => typeof how === 'number').map(([fd, how]) => `child fd ${fd} <- our fd ${String(how)}`);
    detail = `an fd passed through is not open (${passed.join(', ')})`;
  } else if (code === 'ENOENT' && cwd !== null) {
    detail += ` (executable, or the working directory ${JSON.stringify(cwd)})`;
  }
  return new SpawnError(executable, code, detail);
}

/** Checks spawnProcess's executable, args and options; returns the plan, or throws a TypeError naming what is wrong. */
export function spawnPlan(executable: unknown, args: unknown, opts: SpawnProcessOptions): SpawnPlan {
  checkString(executable, 'executable');
  if (executable === '') throw new TypeError('spawnProcess: executable must not be empty');
  if (!Array.isArray(args)) throw new TypeError('spawnProcess: args must be an array of strings');
  const argv = args.map((a, i) => checkString(a, `args[${i}]`));
  if (opts === null || typeof opts !== 'object') throw new TypeError('spawnProcess: options must be an object');
  if (opts.usePTY) throw new TypeError('spawnProcess: usePTY is not supported');
  const cwd = opts.path === undefined || opts.path === null ? null : checkString(opts.path, 'path');
  const env = envList(opts.env);
  const fds = fdSpecs(opts.childFDs);
  const triples: number[] = [];
  for (const [fd, how] of fds) {
    if (how === 'r') triples.push(fd, HOW_READ, -1);
    else if (how === 'w') triples.push(fd, HOW_WRITE, -1);
    else triples.push(fd, HOW_INHERIT, how);
  }
  const uid = optionalId(opts.uid, 'uid');
  const gid = optionalId(opts.gid, 'gid');
  return { argv: argv.length > 0 ? argv : [executable as string], env, cwd, fds, triples, uid, gid };
}
