/**
 * The errors connectionLost receives (lib/transport/end-reasons.ts): no
 * captured frames, and a `stack` that is already the text V8 would format
 * for such an error, so a Failure made of it (which reads `stack`) needs no
 * formatting and reports the same traceback.
 */
import { ConnectionDone, ConnectionLost, IOReactorError } from '../lib/errors';
import { Failure } from '../lib/failure';
import { endReason, lostReason } from '../lib/transport/end-reasons';

/** What V8 itself formats for a Type(message) made with no frames. */
function formatted<E extends Error>(Type: new (message?: string) => E, message?: string): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Type(message).stack as string;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

describe('end reasons', () => {
  it.each([
    ['ConnectionDone', ConnectionDone, undefined],
    ['ConnectionLost', ConnectionLost, 'lost: ECONNRESET.'],
  ] as const)('%s carries the stack V8 would format, with no frames', (name, Type, message) => {
    const err = endReason(Type as new (m?: string) => IOReactorError, message);
    expect(err).toBeInstanceOf(Type);
    expect(err.name).toBe(name);
    expect(err.stack).toBe(formatted(Type as new (m?: string) => IOReactorError, message));
    expect(err.stack).toBe(`${name}: ${err.message}`);
    expect(err.stack).not.toMatch(/\n\s+at /);
  });

  it('a Failure of one reports that text as its traceback', () => {
    const f = new Failure(lostReason(104));
    expect(f.getTraceback()).toBe(`ConnectionLost: ${f.getErrorMessage()}`);
    expect(f.getErrorMessage()).toMatch(/ECONNRESET/);
  });

  it('neither it nor its Failure formats a stack (no prepareStackTrace call)', () => {
    const calls: unknown[] = [];
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = (err: Error, frames: NodeJS.CallSite[]): string => {
      calls.push(err);
      return `formatted with ${frames.length} frames`;
    };
    try {
      const f = new Failure(endReason(ConnectionDone));
      expect(f.getTraceback()).toBe('ConnectionDone: Connection was closed cleanly.');
    } finally {
      Error.prepareStackTrace = saved;
    }
    expect(calls).toEqual([]);
  });

  it('leaves Error.stackTraceLimit as it was', () => {
    const before = Error.stackTraceLimit;
    endReason(ConnectionDone);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
