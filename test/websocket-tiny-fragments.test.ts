/**
 * A message sent as a hundred thousand 1-byte fragments, on every backend:
 * the server keeps the small pieces merged as they come (each kept alone is
 * a Buffer view of ~100 bytes that pins the read it came in: a 16 MiB
 * message in 1-byte fragments took gigabytes), and the message arrives
 * whole and in order.
 */
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(30000);

/** An echo server that keeps its protocols. */
class Kept extends EchoServer {
  static all: Kept[] = [];
  override onOpen(): void {
    super.onOpen();
    Kept.all.push(this);
  }
}

/** How many pieces the connection holds for the message being reassembled. */
function piecesOf(p: Kept): number {
  return (p as unknown as { extra: { reassembly: { pieces: unknown[] } } }).extra.reassembly.pieces.length;
}

forEachBackend('websocket: a message in tiny fragments', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let c: RawClient | null = null;
  afterEach(() => {
    c?.destroy();
    Kept.all = [];
  });

  it('100,000 one-byte fragments are held in a few hundred pieces and arrive whole', async () => {
    const { port, log, factory } = serveEcho(r);
    factory.protocol = Kept as never;
    c = new RawClient(port);
    await until(() => log.opened === 1, 5000, 'the handshake');
    const N = 100000;
    const byte = (k: number): number => k % 251;
    const frames: Buffer[] = [clientFrame(2, Buffer.from([byte(0)]), { fin: false })];
    for (let k = 1; k < N; k++) frames.push(clientFrame(0, Buffer.from([byte(k)]), { fin: false }));
    c.send(Buffer.concat(frames));
    c.send(clientFrame(9, 'sync')); // answered after every fragment before it was taken
    await until(() => c!.frames.length === 1, 20000, 'the pong');
    expect(c.frames[0].opcode).toBe(10);
    expect(piecesOf(Kept.all[0])).toBeLessThan(1000);
    c.send(clientFrame(0, Buffer.from([byte(N)])));
    await until(() => c!.frames.length === 2, 20000, 'the echo');
    const echoed = c.frames[1].payload;
    expect(echoed.length).toBe(N + 1);
    expect(echoed.every((b, k) => b === byte(k))).toBe(true);
  });
});
