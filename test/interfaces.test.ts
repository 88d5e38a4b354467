/**
 * The reactor provides every IReactor* interface of lib/interfaces.ts. The
 * compiler checks the signatures (Reactor `implements` them, and each list
 * below must name exactly an interface's members); this checks at run time
 * that every member is there on a real reactor, as Twisted's verifyObject does.
 */
import type {
  IReactorCore,
  IReactorFDSet,
  IReactorProcess,
  IReactorSocket,
  IReactorTCP,
  IReactorTime,
  IReactorUDP,
  IReactorUNIX,
} from '../lib/interfaces';
import { createReactor, Reactor } from '../lib/reactor';

/** Every member name of T, each once: the compiler rejects a missing or an extra one. */
type Members<T> = Record<keyof T, true>;

const core: Members<IReactorCore> = {
  running: true,
  run: true,
  stop: true,
  callWhenRunning: true,
  addSystemEventTrigger: true,
  removeSystemEventTrigger: true,
  fireSystemEvent: true,
};
const time: Members<IReactorTime> = { callLater: true, seconds: true, getDelayedCalls: true };
const tcp: Members<IReactorTCP> = { listenTCP: true, connectTCP: true };
const unix: Members<IReactorUNIX> = { listenUNIX: true, connectUNIX: true };
const udp: Members<IReactorUDP> = { listenUDP: true };
const proc: Members<IReactorProcess> = { spawnProcess: true };
const socket: Members<IReactorSocket> = { adoptStreamPort: true, adoptStreamConnection: true };
const fdset: Members<IReactorFDSet> = {
  addReader: true,
  addWriter: true,
  removeReader: true,
  removeWriter: true,
  removeAll: true,
  getReaders: true,
  getWriters: true,
};

describe('Reactor provides the IReactor* interfaces', () => {
  const provided: [string, object][] = [
    ['IReactorCore', core],
    ['IReactorTime', time],
    ['IReactorTCP', tcp],
    ['IReactorUNIX', unix],
    ['IReactorUDP', udp],
    ['IReactorProcess', proc],
    ['IReactorSocket', socket],
    ['IReactorFDSet', fdset],
  ];

  it.each(provided)('%s: every member is on a reactor', (_name, members) => {
    const r: Reactor = createReactor();
    for (const m of Object.keys(members)) {
      const value = (r as unknown as Record<string, unknown>)[m];
      if (m === 'running') expect(typeof value).toBe('boolean');
      else expect({ m, type: typeof value }).toEqual({ m, type: 'function' });
    }
  });

  it('a reactor can be passed wherever one of the interfaces is asked for', () => {
    const r = createReactor();
    const all: (IReactorCore & IReactorTime & IReactorTCP & IReactorUNIX & IReactorUDP & IReactorProcess & IReactorFDSet)[] = [r];
    expect(all[0].running).toBe(false);
    expect(all[0].getDelayedCalls()).toEqual([]);
  });
});
