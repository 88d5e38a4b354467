/**
 * The reactor core without sockets: callLater on real time, seconds(),
 * system event triggers, run/stop, signals, and the lazily created default.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Deferred } from '../lib/defer';
import { AlreadyCancelled, ReactorAlreadyRunning, ReactorNotRunning } from '../lib/errors';
import { createReactor, reactor, Reactor } from '../lib/reactor';
import { LoopingCall } from '../lib/task';
import { captureLog, signal } from './helpers/tcp';

// Child processes load lib/ through a TypeScript require hook: slow on a busy machine.
const CHILD_MS = 30000;
jest.setTimeout(CHILD_MS + 5000);

describe('Reactor time', () => {
  let r: Reactor;
  beforeEach(() => {
    r = new Reactor();
  });

  it('seconds() is epoch seconds and never goes back', () => {
    const a = r.seconds();
    expect(Math.abs(a - Date.now() / 1000)).toBeLessThan(1);
    let last = a;
    for (let i = 0; i < 1000; i++) {
      const t = r.seconds();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });

  it('callLater runs calls in deadline order, equal deadlines in scheduling order, never early', async () => {
    const order: string[] = [];
    const done = signal();
    const start = r.seconds();
    const times: number[] = [];
    r.callLater(0.03, () => {
      order.push('c');
      times.push(r.seconds() - start);
      done.resolve();
    });
    r.callLater(0.01, (x: string) => order.push(x), 'a1');
    r.callLater(0.01, (x: string) => order.push(x), 'a2');
    r.callLater(0, () => order.push('zero'));
    await done.promise;
    expect(order).toEqual(['zero', 'a1', 'a2', 'c']);
    expect(times[0]).toBeGreaterThanOrEqual(0.03);
  });

  it('refuses non-finite delays: delay(Infinity) then delay(-Infinity) cannot freeze the queue', async () => {
    const stuck = r.callLater(10, () => undefined);
    expect(() => stuck.delay(Infinity)).toThrow(RangeError);
    expect(() => stuck.delay(-Infinity)).toThrow(RangeError);
    expect(() => stuck.reset(NaN)).toThrow(RangeError);
    expect(() => r.callLater(Infinity, () => undefined)).toThrow(RangeError);
    expect(Number.isFinite(stuck.getTime())).toBe(true);
    const ran = signal();
    r.callLater(0, () => ran.resolve());
    await ran.promise;
    stuck.cancel();
  });

  it('cancel, reset and delay move or remove a call', async () => {
    const order: string[] = [];
    const done = signal();
    const cancelled = r.callLater(0.005, () => order.push('cancelled'));
    cancelled.cancel();
    expect(cancelled.active()).toBe(false);
    expect(() => cancelled.cancel()).toThrow(AlreadyCancelled);
    // Margins of 100+ ms: under the sanitizers the lines between two calls
    // have taken over 18 ms, which reordered deadlines 18 ms apart.
    const moved = r.callLater(0.001, () => order.push('moved'));
    moved.reset(0.3);
    const delayed = r.callLater(0.002, () => order.push('delayed'));
    delayed.delay(0.1);
    r.callLater(0.5, () => done.resolve());
    await done.promise;
    expect(order).toEqual(['delayed', 'moved']);
    expect(r.getDelayedCalls()).toHaveLength(0);
  });

  it('a throwing call is logged and later calls still run', async () => {
    const cap = captureLog();
    try {
      const done = signal();
      r.callLater(0, () => {
        throw new Error('timer boom');
      });
      r.callLater(0, () => done.resolve());
      await done.promise;
      expect(cap.events.some((e) => (e.failure?.value as Error)?.message === 'timer boom')).toBe(true);
    } finally {
      cap.stop();
    }
  });

  it('a pending callLater keeps the process alive; nothing pending lets it exit', () => {
    const reg = path.join(__dirname, 'helpers', 'ts-register.js');
    const lib = path.join(__dirname, '..', 'lib', 'reactor', 'index.ts');
    const script = `const {reactor}=require(${JSON.stringify(lib)});
      const t0=Date.now(); reactor.callLater(0.2,()=>console.log('fired', Date.now()-t0>=200));
      const c=reactor.callLater(30,()=>{}); c.cancel();`;
    const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: CHILD_MS });
    expect(res.stdout.trim()).toBe('fired true');
    expect(res.status).toBe(0);
  });

  it('a process exits by itself once its ports and connections are closed', () => {
    const reg = path.join(__dirname, 'helpers', 'ts-register.js');
    const lib = path.join(__dirname, '..', 'lib', 'index.ts');
    const script = `const {reactor,Factory,Protocol}=require(${JSON.stringify(lib)});
      class Echo extends Protocol { dataReceived(d){ this.transport.write(d); } }
      class Client extends Protocol {
        connectionMade(){ this.transport.write('hi'); }
        dataReceived(){ this.transport.loseConnection(); }
        connectionLost(){ port.stopListening().addCallback(()=>console.log('done')); }
      }
      const port=reactor.listenTCP(0, Factory.forProtocol(Echo), {interface:'127.0.0.1'});
      reactor.connectTCP('127.0.0.1', port.getHost().port, Factory.forProtocol(Client));`;
    const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: CHILD_MS });
    expect(res.stdout.trim()).toBe('done');
    expect(res.signal).toBeNull();
    expect(res.status).toBe(0);
  });

  it('importing the package and using timers does not load the addon', () => {
    const reg = path.join(__dirname, 'helpers', 'ts-register.js');
    const lib = path.join(__dirname, '..', 'lib', 'index.ts');
    const script = `const m=require(${JSON.stringify(lib)});
      m.reactor.callLater(0,()=>{ console.log(Object.keys(require.cache).some(k=>k.endsWith('.node'))); });`;
    const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: CHILD_MS });
    expect(res.stdout.trim()).toBe('false');
  });
});

describe('Reactor run/stop and triggers', () => {
  it('runs startup triggers by phase, waits for Deferreds, and shutdown resolves run()', async () => {
    const r = createReactor();
    const order: string[] = [];
    const d = new Deferred<void>();
    r.addSystemEventTrigger('after', 'startup', () => order.push('startup after'));
    r.addSystemEventTrigger('before', 'startup', () => {
      order.push('startup before');
      setTimeout(() => {
        order.push('deferred fired');
        d.callback(undefined);
      }, 10);
      return d;
    });
    r.addSystemEventTrigger('during', 'startup', () => order.push('startup during'));
    const removed = r.addSystemEventTrigger('during', 'startup', () => order.push('removed'));
    r.removeSystemEventTrigger(removed);
    expect(() => r.removeSystemEventTrigger(removed)).toThrow();
    r.callWhenRunning(() => order.push('callWhenRunning'));
    r.addSystemEventTrigger('before', 'shutdown', () => order.push(`shutdown before running=${r.running}`));
    r.addSystemEventTrigger('after', 'shutdown', () => order.push(`shutdown after running=${r.running}`));
    const ran = r.run();
    expect(r.running).toBe(true);
    expect(() => r.run()).toThrow(ReactorAlreadyRunning);
    r.callWhenRunning(() => order.push('called at once'));
    r.stop();
    expect(() => r.stop()).toThrow(ReactorNotRunning);
    await ran;
    expect(r.running).toBe(false);
    expect(order).toEqual([
      'startup before',
      'called at once',
      'deferred fired',
      'startup during',
      'startup after',
      'callWhenRunning',
      'shutdown before running=true',
      'shutdown after running=false',
    ]);
  });

  it('stop() on a reactor that is not running throws ReactorNotRunning', () => {
    expect(() => createReactor().stop()).toThrow(ReactorNotRunning);
  });

  it('SIGINT stops a running reactor gracefully (ports closed, handlers removed, process exits)', () => {
    const reg = path.join(__dirname, 'helpers', 'ts-register.js');
    const lib = path.join(__dirname, '..', 'lib', 'index.ts');
    const script = `const {createReactor,Factory,Protocol}=require(${JSON.stringify(lib)});
      const r=createReactor(); r.listenTCP(0, Factory.forProtocol(Protocol), {interface:'127.0.0.1'});
      r.callWhenRunning(()=>process.kill(process.pid,'SIGINT'));
      r.run().then(()=>console.log('stopped', process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')));`;
    const res = spawnSync(process.execPath, ['-r', reg, '-e', script], { encoding: 'utf8', timeout: CHILD_MS });
    expect(res.stdout.trim()).toBe('stopped 0 0');
    expect(res.stderr).toContain('Received SIGINT');
    expect(res.status).toBe(130); // 128 + SIGINT, as Node's own handling would end it
  });

  it("LoopingCall's default clock is the reactor: its calls show in getDelayedCalls()", () => {
    const lc = new LoopingCall(() => undefined);
    expect(lc.clock).toBe(reactor);
    void lc.start(3600, false);
    expect(reactor.getDelayedCalls()).toContain(lc.call);
    lc.stop();
    expect(reactor.getDelayedCalls()).toEqual([]);
  });

  it('stop() cancels every pending call, a LoopingCall\'s too; the LoopingCall can still be stopped', async () => {
    const r = createReactor();
    const lc = new LoopingCall(() => undefined);
    lc.clock = r;
    const stopped = lc.start(3600, false);
    const later = r.callLater(3600, () => undefined);
    const loopCall = lc.call!;
    expect(r.getDelayedCalls()).toEqual([loopCall, later]);
    const ran = r.run();
    r.stop();
    await ran;
    expect(r.getDelayedCalls()).toEqual([]);
    expect([later.active(), loopCall.active()]).toEqual([false, false]);
    lc.stop();
    await expect(stopped.asPromise()).resolves.toBe(lc);
  });

  it('shutdown closes ports and connections', async () => {
    const r = createReactor();
    const { Factory, Protocol } = await import('../lib/protocol');
    const p = r.listenTCP(0, Factory.forProtocol(Protocol), { interface: '127.0.0.1' });
    const ran = r.run();
    r.stop();
    await ran;
    expect(r.stats().handlers).toBe(0);
    await p.stopListening();
    r.close();
  });
});
