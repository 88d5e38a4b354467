/**
 * The coalescing window (ReactorOptions.coalesceMicros, native/bridge_wait.cc):
 * when a wake-up's work is done and nothing more is ready, the reactor
 * sleeps the window before it waits again, so that what arrives meanwhile is
 * served in one wake-up. What it must do: take fewer kernel waits per
 * request than one each when many connections keep sending, and keep serving
 * everything else (Node's timers and sockets, queued JS) as the own-set wait
 * does. On poll (a waiter thread, no own-set wait) the option does nothing.
 */
import * as net from 'net';
import * as fs from 'fs';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { withTimeout } from './helpers/checks';
import { runNode } from './helpers/child';
import { queuedEchoFactory } from './helpers/queued-echo';

jest.setTimeout(90000);

const linux = process.platform === 'linux';

/** The clients of waitsFor: `conns` connections to PORT, each making `rounds` one-byte round trips one after another, all at once; prints the bytes echoed. */
function clientScript(conns: number, rounds: number): string {
  return `
    const net = require('net');
    let done = 0, total = 0;
    for (let i = 0; i < ${conns}; i++) {
      const c = net.connect(Number(process.argv[1]), '127.0.0.1', () => c.write('x'));
      let n = 0;
      c.on('data', (d) => { n += d.length; total += d.length; if (n >= ${rounds}) c.end(); else c.write('x'); });
      c.on('close', () => { if (++done === ${conns}) console.log(total); });
      c.on('error', () => {});
    }`;
}

/**
 * What waitsFor saw: bytes echoed, kernel waits, and timer slacks in ns
 * (Linux): the main thread's while the reactor was open and after it closed,
 * and that of a process spawned while the window was set.
 */
interface Served {
  echoed: number;
  waits: number;
  slack: [number | null, number | null, number | null];
}

/**
 * In a fresh process (nothing else of Node's busy on its loop: in jest's own
 * process other work makes libuv's fd ready and ends windows early), an echo
 * reactor with window `us`, served by clients in a process of their own (see
 * clientScript, 20 connections x 50 round trips): the round trips made and
 * the reactor's kernel waits over them.
 */
async function waitsFor(backend: string, us: number): Promise<Served> {
  const lib = path.join(__dirname, '..', 'lib', 'index.ts');
  const script = `
    const { spawn } = require('child_process');
    const { createReactor, Factory, Protocol } = require(${JSON.stringify(lib)});
    class Echo extends Protocol { dataReceived(d) { this.transport.write(d); } }
    const r = createReactor({ backend: ${JSON.stringify(backend)}, exactLoopUtilization: false, coalesceMicros: ${us} });
    const port = r.listenTCP(0, Factory.forProtocol(Echo), { interface: '127.0.0.1' }).getHost().port;
    const before = r.stats().kernelWaits;
    const slackOf = "console.log(process.platform === 'linux' ? require('fs').readFileSync('/proc/self/timerslack_ns', 'utf8').trim() : 'null')";
    const child = JSON.parse(require('child_process').execFileSync(process.execPath, ['-e', slackOf], { encoding: 'utf8' }));
    const c = spawn(process.execPath, ['-e', ${JSON.stringify(clientScript(20, 50))}, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    const slack = () => (process.platform === 'linux' ? Number(require('fs').readFileSync('/proc/self/timerslack_ns', 'utf8')) : null);
    c.on('close', () => {
      const during = slack();
      r.close();
      console.log(JSON.stringify({ echoed: Number(out.trim()), waits: r.stats().kernelWaits - before, slack: [during, slack(), child] }));
    });`;
  const res = await runNode(script, [], 60000);
  if (res.code !== 0 || res.timedOut) throw new Error(`child failed (timed out: ${String(res.timedOut)}): ${res.stderr}`);
  return JSON.parse(res.stdout.trim()) as Served;
}

/** Queued-JS replies to `conns` x `rounds` round trips from a client process; resolves with the bytes echoed. */
async function manyClients(port: number, conns: number, rounds: number): Promise<number> {
  const script = clientScript(conns, rounds);
  const res = await runNode(script, [String(port)], 20000);
  if (res.code !== 0 || res.timedOut) throw new Error(`client failed (timed out: ${String(res.timedOut)}): ${res.stderr}`);
  return Number(res.stdout.trim());
}

/** This thread's timer slack in ns (Linux), and what it was before this file made any reactor (a Node thread's own: 50 µs unless changed). */
const readSlack = (): number | null => (linux ? Number(fs.readFileSync('/proc/self/timerslack_ns', 'utf8')) : null);
const SLACK_AT_LOAD = readSlack();

describe('createReactor coalesceMicros', () => {
  it('refuses a window that is not a whole number of microseconds from 0 to 1000', () => {
    for (const bad of [-1, 1.5, 1001, Number.NaN, '20']) {
      expect(() => createReactor({ exactLoopUtilization: false, coalesceMicros: bad as number })).toThrow(TypeError);
    }
  });

  it('refuses a window without exactLoopUtilization: false (it is part of the reactor\'s own wait)', () => {
    expect(() => createReactor({ coalesceMicros: 20 })).toThrow(/exactLoopUtilization: false/);
    expect(() => createReactor({ exactLoopUtilization: true, coalesceMicros: 20 })).toThrow(TypeError);
    createReactor({ coalesceMicros: 0 }).close(); // 0 is off: allowed anywhere
  });

  it('is checked by new Reactor() too, at construction rather than at first I/O', () => {
    expect(() => new Reactor({ exactLoopUtilization: false, coalesceMicros: 5000 })).toThrow(/new Reactor: coalesceMicros/);
    expect(() => new Reactor({ coalesceMicros: 20 })).toThrow(/exactLoopUtilization: false/);
    expect(() => new Reactor({ shutdownTimeout: -1 })).toThrow(TypeError);
    expect(() => new Reactor({ backend: 'no-such-backend' })).toThrow(/no-such-backend/);
  });
});

forEachBackend('the coalescing window', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r, { exactLoopUtilization: false, coalesceMicros: 1000 });

  it('20 connections sending at once are served in fewer kernel waits than round trips (epoll: under half)', async () => {
    // 1 ms: long beside a loopback round trip, so a wake-up after a sleep finds
    // what every connection sent meanwhile (~20 bytes) however slow the machine.
    // Without the window each wake-up takes what is ready at that instant: one
    // round trip's worth when the server keeps up. poll keeps its waiter thread.
    const { echoed, waits } = await waitsFor(backend, 1000);
    expect(echoed).toBe(1000);
    if (backend === 'epoll') expect(waits).toBeLessThan(500);
  });

  (linux ? it : it.skip)('the 1 µs timer slack is for the window\'s sleep only: JS, a spawned process and the thread after close see the thread\'s own', async () => {
    const { slack } = await waitsFor(backend, 20);
    expect(slack).toEqual([SLACK_AT_LOAD, SLACK_AT_LOAD, SLACK_AT_LOAD]);
    expect(readSlack()).toBe(SLACK_AT_LOAD); // this process, with a reactor of ours open (r, which has a window)
  });

  it('a Node timer, a Node socket and queued JS (nextTick, promise, setImmediate) are still served', async () => {
    const port = (r.listenTCP(0, queuedEchoFactory(), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    expect(await manyClients(port, 3, 30)).toBe(90);
    await withTimeout(new Promise((res) => setTimeout(res, 20)), 5000, 'a 20 ms timer');
    const reply = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('p'));
        c.on('data', (d) => {
          c.destroy();
          resolve(d.toString());
        });
        c.on('error', reject);
      }),
      5000,
      'a Node client',
    );
    expect(reply).toBe('p');
  });
});
