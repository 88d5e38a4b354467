/**
 * The errors a transport's connectionLost receives, made without a stack
 * trace. The stack would show only the reactor's own frames (Twisted's
 * connectionDone carries no traceback either), and capturing it from
 * optimized code, then formatting it when the Failure is made, was ~75,000
 * instructions per connection: most of the CPU a short-lived connection costs.
 */
import { ConnectionDone, ConnectionLost } from '../errors';
import { errnoName } from '../native';

/**
 * A `Type(message)` error without a captured stack. Its `stack` is set to
 * the text V8 would format for it (`Name: message`, no frames): the Failure
 * made of it reads `stack`, and V8 formats a stack on first read by calling
 * Node's prepareStackTrace hook in JS, about half of what making the
 * error and its Failure cost per connection (bench/PERFORMANCE.md).
 */
export function endReason<E extends Error>(Type: new (message?: string) => E, message?: string): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let err: E;
  try {
    err = new Type(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
  err.stack = `${err.name}: ${err.message}`;
  return err;
}

let done: ConnectionDone | null = null;

/**
 * The one ConnectionDone every cleanly closed connection's Failure wraps,
 * as Twisted's `main.CONNECTION_DONE` is one exception for all of them
 * (each connectionLost still gets a Failure of its own). Making an error,
 * even with no frames, and setting its `stack` were ~5,000 instructions per
 * connection: a sixth of what a short TCP connection costs us in JS
 * (bench/PERFORMANCE.md). Failures do not change what they wrap.
 */
export function connectionDone(): ConnectionDone {
  return (done ??= endReason(ConnectionDone));
}

/** ConnectionLost naming errno (either sign), for a connection that failed. */
export function lostReason(errno: number): ConnectionLost {
  return endReason(ConnectionLost, `Connection to the other side was lost in a non-clean fashion: ${errnoName(-Math.abs(errno))}.`);
}
