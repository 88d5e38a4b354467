/**
 * What the senders of the framing protocols do with something that is not
 * bytes: a TypeError naming the method and what it got (as
 * transport.write does), never Buffer.from's "Received undefined" or a
 * property read of null, and nothing written.
 */
import { Int32StringReceiver } from '../lib/protocols/int-string';
import { LineReceiver } from '../lib/protocols/line';
import { LineOnlyReceiver } from '../lib/protocols/line-only';
import { NetstringReceiver } from '../lib/protocols/netstring';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { FunctionResource, Site } from '../lib/web';
import { PreparedMessage, WebSocketServerProtocol } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { StringTransport } from './helpers/string-transport';
import { raw, responses } from './web-raw';

jest.setTimeout(15000);

type Sender = { transport: unknown; makeConnection(t: StringTransport): void };

function connected<P extends Sender>(p: P): [P, StringTransport] {
  const t = new StringTransport();
  p.makeConnection(t);
  return [p, t];
}

const notBytes: [string, unknown][] = [['number', 42], ['null', null], ['undefined', undefined], ['object', {}]];

describe('senders refuse what is not bytes', () => {
  it.each(notBytes)('LineReceiver.sendLine(%s)', (what, value) => {
    const [p, t] = connected(new LineReceiver());
    expect(() => p.sendLine(value as string)).toThrow(new TypeError(`sendLine: data must be a Buffer, Uint8Array or string, got ${what}`));
    expect(t.writes).toHaveLength(0);
  });

  it.each(notBytes)('LineOnlyReceiver.sendLine(%s)', (what, value) => {
    const [p, t] = connected(new LineOnlyReceiver());
    expect(() => p.sendLine(value as string)).toThrow(new TypeError(`sendLine: data must be a Buffer, Uint8Array or string, got ${what}`));
    expect(t.writes).toHaveLength(0);
  });

  it.each(notBytes)('Int32StringReceiver and NetstringReceiver sendString(%s)', (what, value) => {
    for (const make of [() => new Int32StringReceiver(), () => new NetstringReceiver()]) {
      const [p, t] = connected(make());
      expect(() => p.sendString(value as string)).toThrow(new TypeError(`sendString: data must be a Buffer, Uint8Array or string, got ${what}`));
      expect(t.writes).toHaveLength(0);
    }
  });

  it('a LineReceiver delimiter that is not bytes is refused when it is used', () => {
    const [p] = connected(new LineReceiver());
    p.delimiter = 7 as unknown as string;
    expect(() => p.sendLine('x')).toThrow(new TypeError('delimiter: data must be a Buffer, Uint8Array or string, got number'));
  });

  it.each(notBytes)('WebSocket sendMessage, sendPing, sendPong and PreparedMessage(%s)', (what, value) => {
    class Ws extends WebSocketServerProtocol {}
    const ws = new Ws();
    // (sendPing() and sendPong() with undefined send an empty payload: their default)
    for (const m of value === undefined ? (['sendMessage'] as const) : (['sendMessage', 'sendPing', 'sendPong'] as const)) {
      expect(() => ws[m](value as string)).toThrow(new TypeError(`${m}: data must be a Buffer, Uint8Array or string, got ${what}`));
    }
    expect(() => new PreparedMessage(value as string)).toThrow(new TypeError(`prepareMessage: data must be a Buffer, Uint8Array or string, got ${what}`));
  });

  it('bytes of every kind still go out as before', () => {
    const [p, t] = connected(new LineReceiver());
    p.sendLine('a');
    p.sendLine(Buffer.from('b'));
    p.sendLine(new Uint8Array([0x63]));
    expect(Buffer.concat(t.writes).toString()).toBe('a\r\nb\r\nc\r\n');
  });
});

forEachBackend('Request.write refuses what is not bytes', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('with a TypeError naming it, and the response goes on', async () => {
    const errors: string[] = [];
    const site = new Site(
      new FunctionResource((req) => {
        for (const [, value] of notBytes) {
          try {
            req.write(value as string);
          } catch (e) {
            errors.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
        return 'fine';
      }),
      { reactor: r },
    );
    const port = (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const [res] = responses((await raw(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')).data);
    expect(errors).toEqual(notBytes.map(([what]) => `TypeError: Request.write: data must be a Buffer, Uint8Array or string, got ${what}`));
    expect(res.status).toBe(200);
    expect(res.body).toBe('fine');
  });
});
