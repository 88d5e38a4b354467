/**
 * The command line of `ioreactor serve`: turns argv into ServeOptions, or
 * throws UsageError naming what was wrong.
 */
import * as net from 'net';
import * as os from 'os';
import { UsageError } from '../errors';

/** One address the supervisor listens on and hands to every worker. */
export interface ListenSpec {
  /** 4 or 6. */
  family: 4 | 6;
  /** Numeric host: '0.0.0.0' for every IPv4 address, '::' for IPv6 (and IPv4). */
  host: string;
  /** The port (0: the kernel picks one, the same for every worker). */
  port: number;
}

/** What `ioreactor serve` was asked to do. */
export interface ServeOptions {
  /** The module exporting main(reactor, argv). */
  app: string;
  /** Arguments after `--`, passed to main as argv. */
  appArgs: string[];
  /** Worker processes (default: os.availableParallelism()). */
  workers: number;
  /** Seconds a stopping worker gets to finish its connections (10). */
  grace: number;
  /** Addresses the supervisor holds and passes down (none: workers listen themselves). */
  listen: ListenSpec[];
  /** listen() backlog of the held sockets (1024). */
  backlog: number;
  /** Poller backend of the workers' reactors (the platform's best when omitted). */
  backend?: string;
}

/** The usage text printed with a UsageError. */
export const USAGE = `usage: ioreactor serve APP [--workers N] [--grace SECONDS] [--listen [HOST:]PORT]...
                       [--backlog N] [--backend NAME] [-- APP_ARGS...]

Runs APP's main(reactor, argv) in N worker processes (default: one per core).
  --listen [HOST:]PORT  the supervisor holds the listening sockets (one SO_REUSEPORT
                        socket per worker) and passes them down: zero-loss restarts.
                        Workers get them as LISTEN_FDS (systemd's convention), and a
                        listenTCP(PORT, ...) in a worker takes the held socket.
  --grace SECONDS       how long a stopping worker may take to close its connections (10)
Signals: SIGTERM/SIGINT stop gracefully, SIGHUP restarts the workers one at a time,
SIGUSR2 logs each worker's open connections.`;

function defaultWorkers(): number {
  const o = os as { availableParallelism?: () => number };
  return typeof o.availableParallelism === 'function' ? o.availableParallelism() : os.cpus().length || 1;
}

function integer(flag: string, text: string | undefined, min: number, max: number): number {
  const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} wants an integer in ${min}..${max}, got ${String(text)}`);
  return n;
}

/** Parses `[HOST:]PORT`, `[IPv6]:PORT`. */
export function parseListen(text: string | undefined): ListenSpec {
  if (text === undefined || text === '') throw new UsageError('--listen wants [HOST:]PORT');
  const m = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`--listen wants [HOST:]PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  const host = m[1] ?? (m[2] === undefined || m[2] === '' ? '0.0.0.0' : m[2] === 'localhost' ? '127.0.0.1' : m[2]);
  const v = net.isIP(host);
  if (v === 0) throw new UsageError(`--listen wants a numeric host, got ${JSON.stringify(host)}`);
  return { family: v === 6 ? 6 : 4, host, port: integer('--listen', m[3], 0, 65535) };
}

/** Parses the arguments after `serve`. */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  let app: string | undefined;
  const opts: Omit<ServeOptions, 'app' | 'appArgs'> = { workers: defaultWorkers(), grace: 10, listen: [], backlog: 1024 };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--workers') opts.workers = integer('--workers', value(), 1, 1024);
    else if (flag === '--grace') opts.grace = integer('--grace', value(), 0, 86400);
    else if (flag === '--backlog') opts.backlog = integer('--backlog', value(), 1, 65535);
    else if (flag === '--listen') opts.listen.push(parseListen(value()));
    else if (flag === '--backend') opts.backend = value();
    else if (flag.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (app === undefined) app = a;
    else throw new UsageError(`one app only (got ${JSON.stringify(app)} and ${JSON.stringify(a)}); put the app's own arguments after --`);
  }
  if (app === undefined) throw new UsageError('serve wants the app module: ioreactor serve ./app.js');
  return { app, appArgs: argv.slice(i), ...opts };
}
