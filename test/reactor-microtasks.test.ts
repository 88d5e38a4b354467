/**
 * What protocol code queues during a record batch runs before the reactor's
 * next I/O wake-up, on every backend: process.nextTick callbacks, promise
 * reactions (an async dataReceived awaiting something) and Deferreds fired
 * from them. The bridge enters JS once per batch; whatever way it enters, it
 * must drain these queues on the way out (bench/PERFORMANCE.md, the lighter
 * crossings tried). Client and server are both on the reactor, so no other
 * Node callback drains the queues for it: a missed drain leaves the reply
 * unsent and the round trip below times out.
 */
import { Deferred } from '../lib/defer';
import { Protocol } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { withTimeout } from './helpers/checks';
import { connectedPair, tcpOf } from './helpers/tcp';

jest.setTimeout(15000);

/** Every reply is written from a queue: one byte from a nextTick, one after an await, one from a Deferred fired by a promise. */
class Deferring extends Protocol {
  readonly log: string[] = [];
  override connectionMade(): void {
    tcpOf(this).setTcpNoDelay(true); // three writes per reply: no Nagle wait for the ACK
  }
  override dataReceived(data: Buffer): void {
    const n = data.length;
    this.log.push(`data ${n}`);
    process.nextTick(() => {
      this.log.push('tick');
      this.transport!.write('t');
    });
    void this.afterAwait();
    const d = new Deferred<null>();
    d.addCallback(() => {
      this.log.push('deferred');
      this.transport!.write('d');
      return null;
    });
    void Promise.resolve().then(() => d.callback(null));
  }

  private async afterAwait(): Promise<void> {
    await Promise.resolve();
    this.log.push('await');
    this.transport!.write('a');
  }
}

forEachBackend('work queued by protocol code during a batch', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('nextTick, await and Deferred callbacks run before the next wake-up, every round trip', async () => {
    const { port, server, client } = await connectedPair(r, Deferring);
    const rounds = 20;
    for (let i = 1; i <= rounds; i++) {
      client.transport!.write('x');
      // Each reply byte is written only from a queue the batch's exit must drain.
      await withTimeout(client.waitForBytes(3 * i), 2000, `reply ${i}`);
    }
    expect(server.log).toEqual(Array.from({ length: rounds }, () => ['data 1', 'tick', 'await', 'deferred']).flat());
    expect(client.bytes.toString()).toBe('tad'.repeat(rounds));
    await port.stopListening();
  });
});
