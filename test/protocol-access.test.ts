/**
 * `transport` and `factory` on a protocol: typed as present, so reading one
 * that is not there throws a clear typed error instead of handing back null;
 * `connected` and the transport's lifetime stay as in Twisted (the transport
 * stays set after connectionLost). Real sockets on every backend.
 */
import { IPv4Address } from '../lib/address';
import { NoFactoryError, NotConnectedError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { Factory, Protocol } from '../lib/protocol';
import { LineReceiver } from '../lib/protocols/basic';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { StringTransport } from './helpers/string-transport';
import { keeping, Recorder, recording, signal } from './helpers/tcp';

jest.setTimeout(15000);

class Quiet extends Protocol {}

class Lines extends LineReceiver {
  lines: string[] = [];

  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString());
  }
}

describe('a protocol before and after makeConnection', () => {
  it('reading transport before makeConnection throws NotConnectedError naming the class', () => {
    const p = new Quiet();
    expect(p.hasTransport).toBe(false);
    expect(p.connected).toBe(false);
    expect(() => p.transport).toThrow(NotConnectedError);
    expect(() => p.transport).toThrow('Quiet.transport was read before makeConnection()');
  });

  it('makeConnection gives it the transport; an assignment does too', () => {
    const p = new Quiet();
    const t = new StringTransport();
    p.makeConnection(t);
    expect(p.transport).toBe(t);
    expect(p.hasTransport).toBe(true);
    expect(p.connected).toBe(true);
    const other = new StringTransport();
    p.transport = other;
    expect(p.transport).toBe(other);
  });

  it('reading factory on a protocol no factory built throws NoFactoryError; buildProtocol sets it', () => {
    const p = new Quiet();
    expect(p.hasFactory).toBe(false);
    expect(() => p.factory).toThrow(NoFactoryError);
    expect(() => p.factory).toThrow('Quiet.factory was read, but no factory built this protocol');
    const f = Factory.forProtocol(Quiet);
    const built = f.buildProtocol(new IPv4Address('TCP', '127.0.0.1', 1));
    expect(built).toBeInstanceOf(Quiet);
    expect(built?.factory).toBe(f);
    expect(built?.hasFactory).toBe(true);
  });

  it('a line protocol parses without a transport (as Twisted: `self.transport and ...`), but cannot send', () => {
    const p = new Lines();
    p.dataReceived(Buffer.from('one\r\ntwo\r\n'));
    expect(p.lines).toEqual(['one', 'two']);
    expect(() => p.sendLine('x')).toThrow(NotConnectedError);
  });
});

forEachBackend('protocol transport on real connections', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('is the TCP transport from connectionMade on, and stays set after connectionLost', async () => {
    const seen = signal<{ noDelay: unknown; made: boolean }>();
    const lost = signal<{ connected: boolean; same: boolean }>();
    class Server extends Protocol {
      first: unknown = null;

      override connectionMade(): void {
        this.first = this.transport;
        // A TCP protocol reaches the TCP methods with no cast.
        this.transport.setTcpNoDelay(true);
        seen.resolve({ noDelay: typeof this.transport.setTcpNoDelay, made: this.connected });
        this.transport.loseConnection();
      }

      override connectionLost(_reason: Failure): void {
        lost.resolve({ connected: this.connected, same: this.transport === this.first });
      }
    }
    const sf = keeping(Server);
    const port = r.listenTCP(0, sf, { interface: '127.0.0.1' });
    const client = new Recorder();
    const cf = recording(Recorder);
    cf.buildProtocol = () => client;
    r.connectTCP('127.0.0.1', port.getHost().port, cf);
    expect(await seen.promise).toEqual({ noDelay: 'function', made: true });
    expect(await lost.promise).toEqual({ connected: false, same: true });
    await client.lost;
    expect(sf.built).toHaveLength(1);
    expect(sf.built[0].transport.getHost()).toBeInstanceOf(IPv4Address);
    await port.stopListening();
  });
});
