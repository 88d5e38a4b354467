/** TimeoutMixin (twisted.protocols.policies) on real loopback sockets, every backend, time from task.Clock. */
import { ConnectionAborted } from '../lib/errors';
import { TimeoutMixin } from '../lib/protocols/policies';
import { LineReceiver } from '../lib/protocols/line';
import { reactor as defaultReactor, Reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { connectedPair, Recorder } from './helpers/tcp';

jest.setTimeout(15000);

/** The clock every Idle protocol of a test runs on. */
let clock: Clock;

/** A recorder that times out after 10 idle seconds; data resets the timer. */
class Idle extends TimeoutMixin(Recorder) {
  override clock = clock;
  override connectionMade(): void {
    super.connectionMade();
    this.setTimeout(10);
  }
  override dataReceived(data: Buffer): void {
    this.resetTimeout();
    super.dataReceived(data);
  }
}

forEachBackend('TimeoutMixin', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  beforeEach(() => {
    clock = new Clock();
  });

  async function pair(): Promise<{ server: Idle; client: Recorder }> {
    const { port, server, client } = await connectedPair(r, Idle);
    await server.made;
    await port.stopListening();
    return { server, client };
  }

  it('an idle connection is aborted after timeOut; activity resets the timer', async () => {
    const { server, client } = await pair();
    clock.advance(9);
    client.transport!.write('ping');
    await server.waitForBytes(4);
    clock.advance(9); // 18 s since connecting, 9 since the data: still up
    expect(server.lostCount).toBe(0);
    clock.advance(1);
    const reason = await server.lost;
    expect(reason.check(ConnectionAborted)).toBe(ConnectionAborted);
    await client.lost;
    expect(clock.getDelayedCalls()).toEqual([]);
  });

  it('losing the connection cancels the timer; setTimeout(null) clears it and returns the old period', async () => {
    const { server, client } = await pair();
    expect(server.setTimeout(null)).toBe(10);
    expect(clock.getDelayedCalls()).toEqual([]);
    expect(server.setTimeout(5)).toBeNull();
    expect(clock.getDelayedCalls()).toHaveLength(1);
    client.transport!.loseConnection();
    await server.lost;
    expect(clock.getDelayedCalls()).toEqual([]);
  });
});

describe('TimeoutMixin without a connection', () => {
  it('runs on the default reactor unless told otherwise, mixes into any protocol, refuses bad periods', () => {
    const Lines = TimeoutMixin(LineReceiver);
    const p = new Lines();
    expect(p.clock).toBe(defaultReactor);
    expect(p.delimiter).toBeDefined();
    p.clock = new Clock();
    expect(() => p.setTimeout(-1)).toThrow(RangeError);
    expect(() => p.setTimeout(Number.NaN)).toThrow(RangeError);
    p.setTimeout(1);
    (p.clock as Clock).advance(1); // not connected: timeoutConnection does nothing
    expect((p.clock as Clock).getDelayedCalls()).toEqual([]);
  });
});
