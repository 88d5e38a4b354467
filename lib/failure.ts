/**
 * Failure: an error travelling down a Deferred's errback chain
 * (twisted.python.failure.Failure). Wraps anything thrown, Error or not.
 */
import type { LoggableFailure } from './log';
import { attempt, safeString } from './total';

/** A class a Failure's value can be checked against (abstract classes too). */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** The text form of any thrown value's message; never throws (see lib/total.ts). */
function messageOf(value: unknown): string {
  return attempt(() => {
    if (value instanceof Error) return safeString(value.message);
    if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
      return (value as { message: string }).message;
    }
    return safeString(value);
  }, '<unprintable value>');
}

/** The stack of an Error value, or null (also when reading it throws). */
function stackOf(value: unknown): string | null {
  return attempt(() => (value instanceof Error && typeof value.stack === 'string' ? value.stack : null), null);
}

/** Wraps a thrown value with its stack so errbacks can inspect and re-raise it. */
export class Failure implements LoggableFailure {
  /** The wrapped error or value, exactly as thrown. */
  readonly value: unknown;
  /** The class of `value` (its constructor), or null for null/undefined. */
  readonly type: Function | null;
  /** Stack captured where the Failure was made, used when `value` has none. */
  private readonly ownStack: string | undefined;

  /**
   * Wraps `err`; a Failure passed in is unwrapped, so `value` stays the thrown
   * value. Never throws, whatever `err` is (a revoked Proxy, throwing getters).
   */
  constructor(err?: unknown) {
    const value = attempt(() => (err instanceof Failure ? err.value : err), err);
    this.value = value;
    this.type = attempt(() => (value === null || value === undefined ? null : (Object(value) as { constructor: Function }).constructor), null);
    if (stackOf(value) !== null) {
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
      if (attempt(() => this.value instanceof (t as unknown as Function), false)) return t;
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
    const stack = stackOf(this.value);
    if (stack !== null) return stack;
    const name = this.typeName() ?? safeString(this.value);
    const where = (this.ownStack ?? '').split('\n').slice(1).join('\n');
    return where ? `${name}: ${this.getErrorMessage()}\n${where}` : `${name}: ${this.getErrorMessage()}`;
  }

  /** Kept for Twisted compatibility; a JS Failure holds no frames to clean. */
  cleanFailure(): void {}

  /** `[Failure instance: Traceback: <Type>: <message>]`, as Twisted prints it. */
  toString(): string {
    return `[Failure instance: ${this.typeName() ?? 'None'}: ${this.getErrorMessage()}]`;
  }

  /** The name of `type`, or null when there is none or it cannot be read. */
  private typeName(): string | null {
    return attempt(() => {
      const name: unknown = this.type?.name;
      return name === undefined || name === null ? null : safeString(name);
    }, null);
  }
}
