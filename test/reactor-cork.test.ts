/**
 * ReactorOptions.corkWrites (default true; native/loop_cork.cc): what
 * protocols write while the reactor delivers a wake-up's events leaves when
 * that delivery ends, one send per connection. Against a Node `net` client:
 * sixteen writes in one dataReceived are one send (stats) and arrive whole
 * and in order (sixteen strings one native write: lib/reactor/text-cork.ts); a write followed by loseConnection loses nothing; a write
 * from a timer (outside any delivery) is not gathered; with corkWrites:
 * false nothing is; a value that is not a boolean is a TypeError.
 */
import * as net from 'net';
import { ConnectionLost } from '../lib/errors';
import type { Failure } from '../lib/failure';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor } from '../lib/reactor';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';

jest.setTimeout(15000);

/** Answers each read with sixteen writes, `i:` and what it read (strings; Buffers when it read `bytes`). */
class Sixteen extends Protocol {
  override dataReceived(data: Buffer): void {
    const text = data.toString();
    for (let i = 0; i < 16; i++) {
      const piece = `${i}:${text};`;
      this.transport!.write(text === 'bytes' ? Buffer.from(piece) : piece);
    }
  }
}

/** Answers its first read with a write and loseConnection, in the same callback. */
class LastWords extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(`bye ${data.toString()}`);
    this.transport!.loseConnection();
  }
}

/** Answers its read and closes in the same callback; says how the connection ended. */
class ReplyThenClose extends Protocol {
  static ended: ((reason: Failure) => void) | null = null;
  override dataReceived(): void {
    this.transport!.write('too late');
    this.transport!.loseConnection();
  }
  override connectionLost(reason: Failure): void {
    ReplyThenClose.ended?.(reason);
  }
}

/** Answers from a Node timer, after the delivery that brought the read is over. */
class Later extends Protocol {
  override dataReceived(data: Buffer): void {
    const text = data.toString();
    setTimeout(() => this.transport!.write(`later ${text}`), 0);
  }
}

/** Connects, sends `what`, and resolves with everything read until `want` bytes came (or the peer closed). */
function exchange(port: number, what: string, want: number): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(what));
    let text = '';
    const done = (ended: boolean): void => {
      s.destroy();
      resolve({ text, ended });
    };
    s.on('data', (d) => {
      text += d.toString();
      if (text.length >= want) done(false);
    });
    s.on('end', () => done(true));
    s.on('error', reject);
  });
}

function expected(what: string): string {
  return Array.from({ length: 16 }, (_, i) => `${i}:${what};`).join('');
}

forEachBackend('corkWrites (default)', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  // Sixteen Buffers are sixteen gathered writes; sixteen strings are joined before the native call, one.
  it.each([
    ['Buffers', 'bytes', 16],
    ['strings', 'ping', 1],
  ])('sends what one callback wrote to a connection (%s) as one send, whole and in order', async (_kind, what, nativeWrites) => {
    const port = r.listenTCP(0, Factory.forProtocol(Sixteen), { interface: '127.0.0.1' }).getHost().port;
    const before = r.stats();
    const want = expected(what);
    const got = await exchange(port, what, want.length);
    expect(got.text).toBe(want);
    const after = r.stats();
    expect(after.corkedWrites - before.corkedWrites).toBe(nativeWrites);
    expect(after.corkedSends - before.corkedSends).toBe(1);
  });

  it('sends what was written before loseConnection, then closes', async () => {
    const port = r.listenTCP(0, Factory.forProtocol(LastWords), { interface: '127.0.0.1' }).getHost().port;
    const got = await exchange(port, 'now', 1 << 20);
    expect(got).toEqual({ text: 'bye now', ended: true });
  });

  it('a gathered send that fails at the close ends the connection with ConnectionLost, as the write would have', async () => {
    const port = r.listenTCP(0, Factory.forProtocol(ReplyThenClose), { interface: '127.0.0.1' }).getHost().port;
    const ended = new Promise<Failure>((resolve) => (ReplyThenClose.ended = resolve));
    // The request and then a reset, both on the wire before the server reads: its reply's send fails.
    const s = net.connect(port, '127.0.0.1', () => {
      s.write('x', () => s.resetAndDestroy());
    });
    s.on('error', () => {});
    const reason = await ended;
    ReplyThenClose.ended = null;
    expect(reason.check(ConnectionLost)).toBe(ConnectionLost);
  });

  it('does not gather a write made outside a delivery (a timer)', async () => {
    const port = r.listenTCP(0, Factory.forProtocol(Later), { interface: '127.0.0.1' }).getHost().port;
    const before = r.stats().corkedWrites;
    const got = await exchange(port, 'x', 'later x'.length);
    expect(got.text).toBe('later x');
    expect(r.stats().corkedWrites).toBe(before);
  });
});

forEachBackend('corkWrites: false', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r, { corkWrites: false });

  it('gathers nothing, and every byte still arrives in order', async () => {
    const port = r.listenTCP(0, Factory.forProtocol(Sixteen), { interface: '127.0.0.1' }).getHost().port;
    const want = expected('pong');
    const got = await exchange(port, 'pong', want.length);
    expect(got.text).toBe(want);
    expect(r.stats().corkedWrites).toBe(0);
    expect(r.stats().corkedSends).toBe(0);
  });
});

it('refuses a corkWrites that is not a boolean', () => {
  expect(() => createReactor({ corkWrites: 1 as unknown as boolean })).toThrow(new TypeError('createReactor: corkWrites must be a boolean, got 1'));
});
