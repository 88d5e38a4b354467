/** Failure: wrapping, check, trap, messages, tracebacks (twisted/test/test_failure.py). */
import { Failure } from '../lib/failure';
import { CancelledError, IOReactorError, TimeoutError } from '../lib/errors';

class Base extends Error {}
class Derived extends Base {}

describe('Failure', () => {
  test('wraps an Error: value, type, stack', () => {
    const err = new Derived('oops');
    const f = new Failure(err);
    expect(f.value).toBe(err);
    expect(f.type).toBe(Derived);
    expect(f.getTraceback()).toBe(err.stack);
  });

  test('wraps non-Errors and keeps a stack of where it was made', () => {
    const f = new Failure('just a string');
    expect(f.value).toBe('just a string');
    expect(f.type).toBe(String);
    expect(f.getErrorMessage()).toBe('just a string');
    expect(f.getTraceback()).toMatch(/^String: just a string\n\s+at /);
    const n = new Failure(undefined);
    expect(n.type).toBeNull();
    const o = new Failure({ message: 'objmsg' });
    expect(o.getErrorMessage()).toBe('objmsg');
  });

  test('a Failure of a Failure wraps the same value', () => {
    const err = new Error('x');
    expect(new Failure(new Failure(err)).value).toBe(err);
  });

  test('check returns the matching class or null, honouring subclasses', () => {
    const f = new Failure(new Derived('d'));
    expect(f.check(CancelledError, Base)).toBe(Base);
    expect(f.check(Derived)).toBe(Derived);
    expect(f.check(CancelledError, TimeoutError)).toBeNull();
    expect(new Failure(new CancelledError()).check(IOReactorError)).toBe(IOReactorError);
  });

  test('trap returns the match, else re-throws the wrapped error itself', () => {
    const err = new Derived('d');
    const f = new Failure(err);
    expect(f.trap(Base)).toBe(Base);
    let thrown: unknown;
    try {
      f.trap(CancelledError);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(err);
  });

  test('getErrorMessage is the bare message; raiseException throws the value', () => {
    const err = new TimeoutError('too slow');
    const f = new Failure(err);
    expect(f.getErrorMessage()).toBe('too slow');
    expect(() => f.raiseException()).toThrow(err);
    expect(String(f)).toBe('[Failure instance: TimeoutError: too slow]');
  });
});
