/** Failure: wrapping, check, trap, messages, tracebacks (twisted/test/test_failure.py). */
import { Failure } from '../lib/failure';
import { CancelledError, IOReactorError, TimeoutError } from '../lib/errors';
import { log, stderrObserver } from '../lib/log';

/** Values whose every inspection throws: a revoked Proxy, and an Error whose getters throw. */
function hostileValues(): Array<[string, unknown]> {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const boom = (): never => {
    throw new Error('getter threw');
  };
  const getters = Object.create(Error.prototype, {
    message: { get: boom },
    stack: { get: boom },
    constructor: { get: boom },
    toString: { get: boom },
  });
  const noPrimitive = { [Symbol.toPrimitive]: boom, get message() { return boom(); } };
  return [['a revoked Proxy', proxy], ['an Error with throwing getters', getters], ['an object that cannot become text', noPrimitive]];
}

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

  for (const [name, value] of hostileValues()) {
    test(`wrapping and reading ${name} never throws`, () => {
      const f = new Failure(value);
      expect(f.value).toBe(value);
      expect(typeof f.getErrorMessage()).toBe('string');
      expect(typeof f.getTraceback()).toBe('string');
      expect(typeof f.toString()).toBe('string');
      expect(f.check(Error, TimeoutError) === null || f.check(Error) === Error).toBe(true);
      expect(new Failure(f).value).toBe(value);
    });

    test(`logging ${name} never throws, to observers or to stderr`, () => {
      const seen: string[] = [];
      const observer = (e: { failure?: { getTraceback(): string } }): void => {
        seen.push(e.failure!.getTraceback());
        throw value; // an observer that throws the same hostile value
      };
      const written: string[] = [];
      const write = jest.spyOn(process.stderr, 'write').mockImplementation((text) => written.push(String(text)) > 0);
      log.addObserver(observer);
      try {
        expect(() => log.failure('hostile', new Failure(value))).not.toThrow();
        expect(() => stderrObserver({ level: 'error', message: value as string, time: NaN, failure: new Failure(value) })).not.toThrow();
        expect(() => stderrObserver({ level: 'error', message: 'x', time: 0, failure: { value, getTraceback: () => value as string } })).not.toThrow();
      } finally {
        log.removeObserver(observer);
        write.mockRestore();
      }
      expect(seen).toHaveLength(1);
      // The observer's own throw is reported, then the two direct events: three lines, each with a traceback.
      expect(written).toHaveLength(3);
      expect(written[0]).toContain('log observer threw');
    });
  }
});
