/** ReconnectingClientFactory with task.Clock and a fake connector: backoff, limits, stopTrying, resetDelay. */
import { IPv4Address } from '../lib/address';
import { ConnectionLost, ConnectionRefusedError } from '../lib/errors';
import { Failure } from '../lib/failure';
import { Protocol } from '../lib/protocol';
import { ReconnectingClientFactory } from '../lib/reconnect';
import { reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { FakeConnector } from './helpers/memory-reactor';

const E = 2.7182818284590451;

function setup(configure: (f: ReconnectingClientFactory) => void = () => {}): { clock: Clock; f: ReconnectingClientFactory; c: FakeConnector } {
  const clock = new Clock();
  const f = new ReconnectingClientFactory();
  f.clock = clock;
  f.jitter = 0;
  f.protocol = Protocol;
  configure(f);
  const c = new FakeConnector(f, new IPv4Address('TCP', '127.0.0.1', 9));
  c.connect();
  return { clock, f, c };
}

/** The delay of the one pending call on the clock. */
function pendingDelay(clock: Clock): number {
  const calls = clock.getDelayedCalls();
  expect(calls).toHaveLength(1);
  return calls[0].getTime() - clock.seconds();
}

describe('ReconnectingClientFactory', () => {
  test('has Twisted defaults', () => {
    const f = new ReconnectingClientFactory();
    expect([f.maxDelay, f.initialDelay, f.factor, f.jitter, f.maxRetries, f.delay, f.retries, f.continueTrying]).toEqual([
      3600, 1.0, E, 0.11962656472, null, 1.0, 0, true,
    ]);
  });

  test('a failed attempt is retried after a delay that grows by factor and stops at maxDelay', () => {
    const { clock, c } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      c.fail(new ConnectionRefusedError());
      const d = pendingDelay(clock);
      delays.push(d);
      clock.advance(d * 0.999);
      expect(c.connects).toBe(i + 1);
      clock.advance(d * 0.002);
      expect(c.connects).toBe(i + 2);
      expect(c.state).toBe('connecting');
    }
    for (let i = 0; i < 8; i++) expect(delays[i]).toBeCloseTo(E ** (i + 1), 6);
    expect(delays.slice(8)).toEqual([3600, 3600, 3600, 3600]);
  });

  test('a lost connection is reconnected', () => {
    const { clock, c } = setup();
    c.succeed();
    c.lose(new ConnectionLost());
    expect(pendingDelay(clock)).toBeCloseTo(E, 9);
    clock.advance(E);
    expect(c.connects).toBe(2);
  });

  test('gives up after maxRetries', () => {
    const { clock, f, c } = setup((fac) => {
      fac.maxRetries = 2;
    });
    for (let i = 0; i < 2; i++) {
      c.fail(new ConnectionRefusedError());
      clock.advance(pendingDelay(clock));
    }
    c.fail(new ConnectionRefusedError());
    expect(clock.getDelayedCalls()).toHaveLength(0);
    expect(f.retries).toBe(3);
    expect(c.connects).toBe(3);
  });

  test('stopTrying cancels the pending retry', () => {
    const { clock, f, c } = setup();
    c.fail(new ConnectionRefusedError());
    expect(f.callID?.active()).toBe(true);
    f.stopTrying();
    expect(clock.getDelayedCalls()).toHaveLength(0);
    expect(f.callID).toBeNull();
    expect(f.continueTrying).toBe(false);
    clock.advance(10_000);
    expect(c.connects).toBe(1);
  });

  test('stopTrying stops an attempt in progress and no retry follows its failure', () => {
    const { clock, f, c } = setup();
    c.fail(new ConnectionRefusedError());
    clock.advance(pendingDelay(clock));
    expect(c.state).toBe('connecting');
    f.stopTrying();
    expect(c.stopConnectingCalls).toBe(1);
    expect(c.state).toBe('disconnected');
    expect(clock.getDelayedCalls()).toHaveLength(0);
  });

  test('after stopTrying a lost connection is not reconnected', () => {
    const { clock, f, c } = setup();
    c.succeed();
    f.stopTrying();
    c.lose();
    expect(clock.getDelayedCalls()).toHaveLength(0);
  });

  test('resetDelay from connectionMade starts the backoff over', () => {
    const { clock, f, c } = setup();
    class Resetting extends Protocol {
      override connectionMade(): void {
        (this.factory as ReconnectingClientFactory).resetDelay();
      }
    }
    f.protocol = Resetting;
    for (let i = 0; i < 3; i++) {
      c.fail(new ConnectionRefusedError());
      clock.advance(pendingDelay(clock));
    }
    expect(f.retries).toBe(3);
    expect(f.delay).toBeCloseTo(E ** 3, 9);
    c.succeed();
    expect(f.retries).toBe(0);
    expect(f.delay).toBe(1.0);
    c.lose();
    expect(pendingDelay(clock)).toBeCloseTo(E, 9);
  });

  test('an initialDelay set on the instance is where the backoff starts', () => {
    const { clock, c } = setup((fac) => {
      fac.initialDelay = 0.5;
      fac.factor = 2;
    });
    c.fail(new ConnectionRefusedError());
    expect(pendingDelay(clock)).toBe(1);
  });

  test('jitter spreads the delay by a normal deviate of sd delay * jitter', () => {
    const { clock, f, c } = setup((fac) => {
      fac.jitter = 0.1;
      // Box–Muller with u1 = e^-1/2 and u2 = 0 gives exactly +1 standard deviation.
      const draws = [1 - Math.exp(-0.5), 0];
      fac.random = () => draws.shift() as number;
    });
    c.fail(new ConnectionRefusedError());
    expect(pendingDelay(clock)).toBeCloseTo(E * 1.1, 9);
    expect(f.delay).toBeCloseTo(E * 1.1, 9);
  });

  test('with real randomness the jittered delays stay positive and centred on the backoff', () => {
    const f = new ReconnectingClientFactory();
    const clock = new Clock();
    f.clock = clock;
    f.maxDelay = 10;
    f.initialDelay = 10;
    f.factor = 1;
    const c = new FakeConnector(f, new IPv4Address('TCP', '127.0.0.1', 9));
    const ratios: number[] = [];
    for (let i = 0; i < 2000; i++) {
      f.delay = 10;
      f.retry(c);
      ratios.push(f.delay / 10);
      f.callID?.cancel();
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    expect(Math.min(...ratios)).toBeGreaterThan(0);
    expect(Math.abs(mean - 1)).toBeLessThan(0.02);
    expect(Math.max(...ratios.map((r) => Math.abs(r - 1)))).toBeLessThan(f.jitter * 6);
  });

  test('without a clock it schedules on the global reactor, chosen at the first retry', () => {
    const f = new ReconnectingClientFactory();
    expect(f.clock).toBeNull();
    const c = new FakeConnector(f, new IPv4Address('TCP', '127.0.0.1', 9));
    f.retry(c);
    expect(f.clock).toBe(reactor);
    expect(f.callID?.active()).toBe(true);
    f.stopTrying();
    expect(f.callID).toBeNull();
  });

  test('retry() without any connector is an error', () => {
    const f = new ReconnectingClientFactory();
    f.clock = new Clock();
    expect(() => f.retry()).toThrow(/no connector/);
  });

  test('the factory hooks still receive the Failure they are given', () => {
    const { f, c } = setup();
    const reason = new Failure(new ConnectionRefusedError());
    expect(() => f.clientConnectionFailed(c, reason)).not.toThrow();
  });
});
