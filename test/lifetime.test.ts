/**
 * Native object lifetime, on every backend, each scenario in a child process
 * so an abort shows up as a signal instead of killing jest: gc() forced
 * continually while fds are registered and traffic flows; Workers holding a
 * reactor with live connections terminated mid-traffic (no abort, the fds of
 * the process back to the baseline); and Node stays alive exactly as long as
 * a handle is open, for each kind of handle.
 */
import { forEachBackend } from './helpers/backends';
import type { ChildResult } from './helpers/child';
import { runFixture } from './fixtures/run-fixture';

jest.setTimeout(60000);

/** The child ended on its own, cleanly. */
function expectCleanExit(res: ChildResult): void {
  expect({ timedOut: res.timedOut, signal: res.signal, code: res.code, stderr: res.stderr }).toEqual({
    timedOut: false,
    signal: null,
    code: 0,
    stderr: '',
  });
}

/** Handle kinds that keep Node alive until released. */
const HELD = ['port', 'connection', 'timer', 'poller', 'process', 'udp'];
/** Kinds that must not keep Node alive at all. */
const UNHELD = ['none', 'poller-unref'];

forEachBackend('Lifetime', (backend) => {
  it('forced GC while fds are registered and traffic flows: no crash, every round trip completes', async () => {
    const res = await runFixture('gc-traffic.js', [backend], 50000, ['--expose-gc']);
    expectCleanExit(res);
    const out = JSON.parse(res.stdout) as { trips: number; lost: number; garbage: boolean; gcs: number };
    expect(out).toMatchObject({ trips: 20 * 300, lost: 20, garbage: true });
    expect(out.gcs).toBeGreaterThanOrEqual(10); // collections really ran during the traffic
  });

  it('terminating Workers that hold a reactor with live connections: no abort, fds back to the baseline', async () => {
    const rounds = 8;
    const res = await runFixture('worker-reactor.js', [backend, String(rounds)], 50000);
    expectCleanExit(res);
    const out = JSON.parse(res.stdout) as { baseline: number; after: number; trips: number };
    expect(out.trips).toBe(rounds * 20 * 20);
    expect(out.after).toBe(out.baseline);
  });

  it.each(HELD)('a %s keeps the process alive until released, then it exits on its own', async (kind) => {
    const res = await runFixture('lifetime-handle.js', [kind, backend], 15000);
    expectCleanExit(res);
    expect(res.stdout).toBe('released\nexit\n');
  });

  it.each(UNHELD)('with %s the process exits at once', async (kind) => {
    const res = await runFixture('lifetime-handle.js', [kind, backend], 15000);
    expectCleanExit(res);
    expect(res.stdout).toBe('exit\n');
  });
});
