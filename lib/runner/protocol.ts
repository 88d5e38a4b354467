/**
 * What the supervisor and its workers tell each other over the IPC channel
 * (child_process 'ipc'), and the environment a worker starts with.
 */

/** Worker to supervisor. */
export type WorkerMessage =
  /** main() has run and the reactor is running: the worker's listeners accept. */
  | { t: 'ready' }
  /** The answer to a stats request: connections open on its listening ports, and accepted so far. */
  | { t: 'stats'; connections: number; accepts: number };

/** Supervisor to worker. */
export type SupervisorMessage = { t: 'stats' };

/** A listening socket the supervisor holds, as the worker sees it (its fd in the worker). */
export interface HeldSocket {
  fd: number;
  family: 4 | 6;
  host: string;
  port: number;
}

/** Environment variables the supervisor sets for a worker (with systemd's LISTEN_FDS and LISTEN_FDNAMES). */
export const ENV = {
  /** The module path. */
  app: 'IOREACTOR_SERVE_APP',
  /** JSON array of the app's arguments. */
  args: 'IOREACTOR_SERVE_ARGS',
  /** The worker's index, 0..N-1 (kept by its replacements). */
  id: 'IOREACTOR_WORKER_ID',
  /** N. */
  count: 'IOREACTOR_WORKERS',
  /** Grace seconds. */
  grace: 'IOREACTOR_SERVE_GRACE',
  /** Poller backend ('' for the default). */
  backend: 'IOREACTOR_SERVE_BACKEND',
  /** JSON array of HeldSocket. */
  listen: 'IOREACTOR_SERVE_LISTEN',
} as const;

/** True when `m` is a WorkerMessage. */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'ready' || (t === 'stats' && typeof (m as { connections?: unknown }).connections === 'number');
}
