/** Every error class the library exports carries a message and its own name, even when made without arguments. */
import * as errors from '../lib/errors';
import * as util from 'util';
import { Deferred } from '../lib/defer';

/** Classes whose constructors take what their message is made of (tested where they are thrown). */
const NEED_ARGUMENTS = ['FirstError', 'FailureGroup', 'CannotListenError', 'CannotAdoptError', 'ProcessTerminated', 'PollerError', 'BackendUnavailableError', 'SpawnError', 'InvalidAddressError', 'ReactorLoopError', 'TLSError', 'CertificateError'];

/** A class made here without arguments (the ones that need some are left out above). */
type AnyErrorClass = new () => Error;

const classes: [string, AnyErrorClass][] = Object.entries(errors as Record<string, unknown>)
  .filter(([name, value]) => typeof value === 'function' && (value as AnyErrorClass).prototype instanceof Error && !NEED_ARGUMENTS.includes(name))
  .map(([name, value]) => [name, value as AnyErrorClass]);

describe('error classes', () => {
  it('there are error classes to check', () => {
    expect(classes.length).toBeGreaterThan(30);
  });

  it.each(classes)('%s made without arguments has a message and its name', (name, ErrorClass) => {
    const err = new ErrorClass();
    expect(err.name).toBe(name);
    expect(err.message).not.toBe('');
    expect(err.message).not.toMatch(/undefined/);
  });

  it.each(classes)('%s is named once, on its prototype: an error made defines no name of its own', (name, ErrorClass) => {
    const err = new ErrorClass();
    expect(Object.prototype.hasOwnProperty.call(err, 'name')).toBe(false);
    expect(Object.getOwnPropertyDescriptor(ErrorClass.prototype, 'name')).toEqual({ value: name, enumerable: false, configurable: true, writable: true });
    expect(String(err)).toBe(`${name}: ${err.message}`);
    expect(Object.keys(err)).not.toContain('name');
  });

  it('a subclass gets its own name, and a name its prototype defines is kept', () => {
    class Mine extends errors.ConnectionDone {}
    class Named extends errors.ConnectionDone {
      override get name(): string {
        return 'Renamed';
      }
    }
    expect([new Mine().name, new errors.ConnectionDone().name, new Named().name]).toEqual(['Mine', 'ConnectionDone', 'Renamed']);
    expect(new Mine() instanceof errors.ConnectionClosed).toBe(true);
  });

  it.each(classes)('%s reads as its name in util.inspect', (name, ErrorClass) => {
    expect(util.inspect(new ErrorClass())).toMatch(new RegExp(`^${name}: `));
  });

  it('made with another new.target, an error names no prototype outside ours', () => {
    const err = Reflect.construct(errors.ConnectionDone, [], Object) as object;
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'name')).toBe(false);
    expect(Object.getPrototypeOf(err)).toBe(Object.prototype);
  });

  it('firing a Deferred twice says what went wrong', () => {
    const d = new Deferred<number>();
    d.callback(1);
    expect(() => d.callback(2)).toThrow(/already fired/);
  });
});
