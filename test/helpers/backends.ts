/**
 * Runs one test body against every backend this build offers (Twisted's
 * ReactorBuilder): `forEachBackend('Poller', (backend) => { it(...) })`.
 */
import { loadNative } from '../../lib/native';
import { createReactor, Reactor } from '../../lib/reactor';
import { openFdCount } from './fds';

/** Backend names this build offers, best first. */
export function backendNames(): string[] {
  return loadNative().backends();
}

/** Declares `describe('<name> [<backend>]', ...)` once per available backend. */
export function forEachBackend(name: string, body: (backend: string) => void): void {
  for (const backend of backendNames()) {
    describe(`${name} [${backend}]`, () => body(backend));
  }
}

/**
 * A fresh reactor on `backend` for every test in the enclosing describe, handed
 * to `set`; after each test, on the reactor `get` returns then (a test may have
 * replaced it), every connection is dropped, the fds opened since are checked
 * to be closed again, and the reactor is closed.
 */
export function reactorPerTest(
  backend: string,
  set: (r: Reactor) => void,
  get: () => Reactor,
  opts: { exactLoopUtilization?: boolean; coalesceMicros?: number; corkWrites?: boolean } = {},
): void {
  let fdsBefore: number;

  beforeEach(() => {
    const r = createReactor({ backend, ...opts });
    r.backend; // open the native loop before counting fds
    set(r);
    fdsBefore = openFdCount();
  });

  afterEach(async () => {
    const r = get();
    r.disconnectAll();
    await new Promise((res) => setImmediate(res));
    expect(openFdCount()).toBeLessThanOrEqual(fdsBefore);
    r.close();
  });
}
