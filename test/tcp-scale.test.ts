/**
 * Scale, every backend: one server holds 5000 concurrent connections from
 * connectTCP clients in the same process, every one echoing its own message;
 * memory per idle connection is reported.
 */
import { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { openFdCount } from './helpers/fds';
import { signal, until } from './helpers/tcp';

jest.setTimeout(30000);

const N = 5000;
const WAVE = 500;

class EchoServer extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

forEachBackend('Scale', (backend) => {
  let r: Reactor;
  beforeEach(() => {
    r = createReactor({ backend });
  });
  afterEach(() => r.close());

  it(`holds ${N} concurrent connections, all echoing correctly`, async () => {
    r.backend; // open the native loop before counting fds
    const fds0 = openFdCount();
    const port = r.listenTCP(0, Factory.forProtocol(EchoServer), { interface: '127.0.0.1', backlog: 4096 });
    const portNo = (port.getHost() as IPv4Address).port;
    let connected = 0;
    let echoed = 0;
    let wrong = 0;
    let lost = 0;
    let waveDone = signal();
    let waveTarget = 0;
    const allEchoed = signal();
    const clients: Protocol[] = [];

    class Client extends Protocol {
      msg = '';
      got = '';
      override connectionMade(): void {
        clients.push(this);
        if (++connected === waveTarget) waveDone.resolve();
      }
      say(i: number): void {
        this.msg = `hello from client ${i}\n`;
        this.transport!.write(this.msg);
      }
      override dataReceived(data: Buffer): void {
        this.got += data.toString();
        if (this.got.length < this.msg.length) return;
        if (this.got === this.msg) echoed++;
        else wrong++;
        if (echoed + wrong === N) allEchoed.resolve();
      }
      override connectionLost(): void {
        lost++;
      }
    }
    const cf = Factory.forProtocol(Client);
    const heap0 = process.memoryUsage();
    // Connect in waves so the listen backlog never overflows.
    for (let w = 0; w < N; w += WAVE) {
      waveTarget = w + WAVE;
      waveDone = signal();
      for (let i = 0; i < WAVE; i++) r.connectTCP('127.0.0.1', portNo, cf);
      await waveDone.promise;
    }
    await until(() => port.stats().connections === N, 10000, 'server side of every connection');
    expect(port.stats().connections).toBe(N);
    const heap1 = process.memoryUsage();
    // Client and server side of each connection both live in this process.
    const perConn = (heap1.heapUsed - heap0.heapUsed + heap1.external - heap0.external) / (2 * N);
    if (process.env.IOREACTOR_TEST_VERBOSE) console.log(`${backend}: ~${Math.round(perConn)} B of JS heap+external per connection end`);
    expect(perConn).toBeLessThan(4096);
    clients.forEach((c, i) => (c as Client).say(i));
    await allEchoed.promise;
    expect(wrong).toBe(0);
    expect(echoed).toBe(N);
    expect(lost).toBe(0);
    for (const c of clients) c.transport!.loseConnection();
    await until(() => lost === N && port.stats().connections === 0, 15000, 'every connection to close');
    await port.stopListening();
    expect(openFdCount()).toBeLessThanOrEqual(fds0);
  });
});
