/**
 * Failure: an error travelling down a Deferred's errback chain
 * (twisted.python.failure.Failure). Wraps anything thrown, Error or not.
 */
import type { LoggableFailure } from './log';

/** A class a Failure's value can be checked against (abstract classes too). */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** The text form of any thrown value's message. */
function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return String(value);
}

/** Wraps a thrown value with its stack so errbacks can inspect and re-raise it. */
export class Failure implements LoggableFailure {
  /** The wrapped error or value, exactly as thrown. */
  readonly value: unknown;
  /** The class of `value` (its constructor), or null for null/undefined. */
  readonly type: Function | null;
  /** Stack captured where the Failure was made, used when `value` has none. */
  private readonly ownStack: string | undefined;

  /** Wraps `err`; a Failure passed in is unwrapped, so `value` stays the thrown value. */
  constructor(err?: unknown) {
    const value = err instanceof Failure ? err.value : err;
    this.value = value;
    this.type = value === null || value === undefined ? null : (Object(value) as { constructor: Function }).constructor;
    if (value instanceof Error && typeof value.stack === 'string') {
      this.ownStack = undefined;
    } else {
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder, Failure);
      this.ownStack = holder.stack;
    }
  }

  /** Returns the first class in `types` that `value` is an instance of, or null. */
  check<C extends ErrorClass>(...types: C[]): C | null {
    for (const t of types) {
      if (this.value instanceof (t as unknown as Function)) return t;
    }
    return null;
  }

  /** Returns the matching class like `check`; re-throws the wrapped value when none matches. */
  trap<C extends ErrorClass>(...types: C[]): C {
    const found = this.check(...types);
    if (found === null) this.raiseException();
    return found as C;
  }

  /** The bare message of the wrapped value (`err.message`, or `String(value)`). */
  getErrorMessage(): string {
    return messageOf(this.value);
  }

  /** Throws the wrapped value (not the Failure). */
  raiseException(): never {
    throw this.value;
  }

  /** The stack text of the wrapped error, or `Type: message` plus where the Failure was made. */
  getTraceback(): string {
    if (this.value instanceof Error && typeof this.value.stack === 'string') return this.value.stack;
    const name = this.type?.name ?? String(this.value);
    const where = (this.ownStack ?? '').split('\n').slice(1).join('\n');
    return where ? `${name}: ${this.getErrorMessage()}\n${where}` : `${name}: ${this.getErrorMessage()}`;
  }

  /** Kept for Twisted compatibility; a JS Failure holds no frames to clean. */
  cleanFailure(): void {}

  /** `[Failure instance: Traceback: <Type>: <message>]`, as Twisted prints it. */
  toString(): string {
    return `[Failure instance: ${this.type?.name ?? 'None'}: ${this.getErrorMessage()}]`;
  }
}
