/** The StringTransport test helper behaves like Twisted's: records writes, closes and producers. */
import { ConnectionDone } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { Protocol } from '../lib/protocol';
import { StringTransport, StringTransportWithDisconnection, connectedTransport } from './helpers/string-transport';

describe('StringTransport', () => {
  test('records writes of strings, Buffers and sequences, in order', () => {
    const t = new StringTransport();
    t.write('a');
    t.write(Buffer.from('b'));
    t.writeSequence([new Uint8Array([0x63]), 'd']);
    expect(t.value().toString()).toBe('abcd');
    t.clear();
    expect(t.value()).toHaveLength(0);
  });

  test('copies what is written, so later changes to the caller\'s buffer do not show', () => {
    const t = new StringTransport();
    const buf = Buffer.from('xy');
    t.write(buf);
    buf[0] = 0x7a;
    expect(t.value().toString()).toBe('xy');
  });

  test('loseConnection and abortConnection mark it disconnecting', () => {
    const t = new StringTransport();
    t.loseConnection();
    expect([t.disconnecting, t.aborted, t.loseConnectionCalls]).toEqual([true, false, 1]);
    const u = new StringTransport();
    u.abortConnection();
    expect([u.disconnecting, u.aborted]).toEqual([true, true]);
  });

  test('one producer at a time, as Twisted insists', () => {
    const t = new StringTransport();
    const producer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };
    t.registerProducer(producer, true);
    expect([t.producer, t.streaming]).toEqual([producer, true]);
    expect(() => t.registerProducer(producer, true)).toThrow(/two producers/);
    t.unregisterProducer();
    expect(t.producer).toBeNull();
    expect(() => t.unregisterProducer()).toThrow(/unless one is registered/);
  });

  test('tracks its own producer state; a stopped transport cannot be paused or resumed', () => {
    const t = new StringTransport();
    t.pauseProducing();
    expect(t.producerState).toBe('paused');
    t.resumeProducing();
    expect(t.producerState).toBe('producing');
    t.stopProducing();
    expect(() => t.resumeProducing()).toThrow(/stopped/);
  });

  test('WithDisconnection tells the protocol once, with ConnectionDone', () => {
    const reasons: Failure[] = [];
    class P extends Protocol {
      override connectionLost(reason: Failure): void {
        reasons.push(reason);
      }
    }
    const p = new P();
    const t = connectedTransport(p, new StringTransportWithDisconnection());
    expect(p.transport).toBe(t);
    t.loseConnection();
    t.loseConnection();
    expect(reasons).toHaveLength(1);
    expect(reasons[0].check(ConnectionDone)).toBe(ConnectionDone);
    expect(p.connected).toBe(false);
  });
});
