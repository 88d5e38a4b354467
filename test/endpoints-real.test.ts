/** Endpoints, line receivers and reconnecting clients over real loopback sockets, on every backend. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import { clientFromString, serverFromString } from '../lib/endpoints';
import { ConnectingCancelledError, ConnectionRefusedError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import type { IConnector, IListeningPort } from '../lib/interfaces';
import { Factory } from '../lib/protocol';
import { LineReceiver } from '../lib/protocols/line';
import { createReactor, Reactor } from '../lib/reactor';
import { ReconnectingClientFactory } from '../lib/reconnect';
import { forEachBackend } from './helpers/backends';
import { signal } from './helpers/tcp';

jest.setTimeout(15000);

/** Echoes each line back, upper-cased. */
class Shout extends LineReceiver {
  override lineReceived(line: Buffer): void {
    this.sendLine(line.toString().toUpperCase());
  }
}

/** Collects lines; resolves `next` per line. */
class Listener extends LineReceiver {
  lines: string[] = [];
  private waiting: ((line: string) => void)[] = [];
  next(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  override lineReceived(line: Buffer): void {
    this.lines.push(line.toString());
    this.waiting.shift()?.(line.toString());
  }
}

const portOf = (p: IListeningPort): number => (p.getHost() as IPv4Address).port;

forEachBackend('endpoints over real sockets', (backend) => {
  let r: Reactor;
  let dir: string;
  const ports: IListeningPort[] = [];

  beforeEach(() => {
    r = createReactor({ backend });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-ep-'));
  });

  afterEach(async () => {
    for (const p of ports.splice(0)) await p.stopListening();
    r.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('tcp: server and client from strings exchange lines', async () => {
    const port = await serverFromString(r, 'tcp:0:interface=127.0.0.1').listen(Factory.forProtocol(Shout));
    ports.push(port);
    const client = (await clientFromString(r, `tcp:host=127.0.0.1:port=${portOf(port)}:timeout=5`).connect(Factory.forProtocol(Listener))) as Listener;
    expect(client.connected).toBe(true);
    const reply = client.next();
    client.sendLine('hello endpoints');
    expect(await reply).toBe('HELLO ENDPOINTS');
    client.transport?.loseConnection();
  });

  test('tcp6: server and client on ::1 (skipped when the host has no IPv6 loopback)', async () => {
    let port: IListeningPort;
    try {
      port = await serverFromString(r, 'tcp6:0:interface=\\:\\:1').listen(Factory.forProtocol(Shout));
    } catch {
      return;
    }
    ports.push(port);
    const client = (await clientFromString(r, `tcp6:\\:\\:1:${portOf(port)}`).connect(Factory.forProtocol(Listener))) as Listener;
    const reply = client.next();
    client.sendLine('six');
    expect(await reply).toBe('SIX');
    client.transport?.loseConnection();
  });

  test('unix: server (with lockfile) and client from strings exchange lines', async () => {
    const address = path.join(dir, 'sock');
    const port = await serverFromString(r, `unix:${address}:mode=600:lockfile=1`).listen(Factory.forProtocol(Shout));
    ports.push(port);
    expect(fs.readFileSync(`${address}.lock`, 'utf8')).toBe(String(process.pid));
    expect(fs.statSync(address).mode & 0o777).toBe(0o600);
    const client = (await clientFromString(r, `unix:path=${address}:timeout=5`).connect(Factory.forProtocol(Listener))) as Listener;
    const reply = client.next();
    client.sendLine('over unix');
    expect(await reply).toBe('OVER UNIX');
    client.transport?.loseConnection();
    await ports.pop()?.stopListening();
    expect(fs.existsSync(`${address}.lock`)).toBe(false);
  });

  test('a LineReceiver that pauses its real transport gets no lines until it resumes, then all of them in order', async () => {
    const done = signal<string[]>();
    let linesWhenResumed = -1;
    class Pausing extends LineReceiver {
      lines: string[] = [];
      override lineReceived(line: Buffer): void {
        this.lines.push(line.toString());
        if (line.toString() === 'pause') {
          this.pauseProducing();
          r.callLater(0.05, () => {
            linesWhenResumed = this.lines.length;
            this.resumeProducing();
          });
        }
        if (line.toString() === 'end') done.resolve(this.lines);
      }
    }
    const port = await serverFromString(r, 'tcp:0:interface=127.0.0.1').listen(Factory.forProtocol(Pausing));
    ports.push(port);
    const client = (await clientFromString(r, `tcp:127.0.0.1:${portOf(port)}`).connect(Factory.forProtocol(Listener))) as Listener;
    const expected = ['first', 'pause', ...Array.from({ length: 500 }, (_, i) => `line ${i}`), 'end'];
    client.transport?.write(expected.map((l) => `${l}\r\n`).join(''));
    expect(await done.promise).toEqual(expected);
    expect(linesWhenResumed).toBe(2);
    client.transport?.loseConnection();
  });

  test('connecting to a closed port fails with ConnectionRefusedError', async () => {
    const port = await serverFromString(r, 'tcp:0:interface=127.0.0.1').listen(new Factory());
    const closed = portOf(port);
    await port.stopListening();
    const err: unknown = await clientFromString(r, `tcp:127.0.0.1:${closed}`)
      .connect(Factory.forProtocol(Listener))
      .asPromise()
      .then(
        () => new Error('connected'),
        (e: unknown) => e,
      );
    // The message is in the comparison so that a different errno shows up in the failure.
    expect([err instanceof ConnectionRefusedError, String(err)]).toEqual([true, expect.stringMatching(/refused/)]);
  });

  test('cancelling a connect fails it with ConnectingCancelledError and builds no protocol', async () => {
    const port = await serverFromString(r, 'tcp:0:interface=127.0.0.1').listen(Factory.forProtocol(Shout));
    ports.push(port);
    const f = Factory.forProtocol(Listener);
    let built = 0;
    const build = f.buildProtocol.bind(f);
    f.buildProtocol = (addr) => (built++, build(addr));
    const d = clientFromString(r, `tcp:127.0.0.1:${portOf(port)}`).connect(f);
    d.cancel();
    await expect(d.asPromise()).rejects.toBeInstanceOf(ConnectingCancelledError);
    await new Promise((ok) => setImmediate(ok));
    expect(built).toBe(0);
  });

  test('ReconnectingClientFactory keeps trying until the server comes back', async () => {
    const first = await serverFromString(r, 'tcp:0:interface=127.0.0.1').listen(new Factory());
    const target = portOf(first);
    await first.stopListening();

    const failures: string[] = [];
    const connected = signal<Listener>();
    class Client extends Listener {
      override connectionMade(): void {
        (this.factory as ReconnectingClientFactory).resetDelay();
        connected.resolve(this);
      }
    }
    class F extends ReconnectingClientFactory {
      override clientConnectionFailed(c: IConnector, reason: Failure): void {
        failures.push(reason.type?.name ?? '?');
        if (failures.length === 2) {
          ports.push(r.listenTCP(target, Factory.forProtocol(Shout), { interface: '127.0.0.1' }));
        }
        super.clientConnectionFailed(c, reason);
      }
    }
    const f = F.forProtocol(Client) as F;
    f.clock = r;
    f.initialDelay = 0.01;
    f.factor = 1.5;
    f.jitter = 0;
    r.connectTCP('127.0.0.1', target, f);
    const client = await connected.promise;
    expect(failures).toEqual(['ConnectionRefusedError', 'ConnectionRefusedError']);
    expect(f.retries).toBe(0);
    const reply = client.next();
    client.sendLine('back');
    expect(await reply).toBe('BACK');
    f.stopTrying();
    client.transport?.loseConnection();
  });
});
