/**
 * Stopping stops (Twisted's reactor.stop ends run() and pending calls never
 * run): each scenario runs in a child process that must exit by itself with
 * a server, a connection, an hour-long callLater and a LoopingCall pending.
 * The child is killed at a generous bound; the assertions are on how it
 * ended, never on how long it took.
 */
import { forEachBackend } from './helpers/backends';
import type { ChildResult } from './helpers/child';
import { runFixture } from './fixtures/run-fixture';

jest.setTimeout(30000);

/** Runs stop-exits.js SCENARIO; sends `signal` once the child says "ready". */
function run(scenario: string, backend: string, signal?: NodeJS.Signals): Promise<ChildResult> {
  let sent = false;
  return runFixture('stop-exits.js', [scenario, backend], 10000, [], (out, child) => {
    if (signal !== undefined && !sent && out.includes('ready\n')) {
      sent = true;
      child.kill(signal);
    }
  });
}

/** The parts of a child's ending the tests assert on. */
function ending(res: ChildResult): { timedOut: boolean; code: number | null; signal: NodeJS.Signals | null } {
  return { timedOut: res.timedOut, code: res.code, signal: res.signal };
}

forEachBackend('reactor.stop() ends the process', (backend) => {
  it('stop() with a listener, a connection, a one-hour callLater and a LoopingCall pending: exits 0 by itself', async () => {
    const res = await run('stop', backend);
    expect(ending(res)).toEqual({ timedOut: false, code: 0, signal: null });
    expect(res.stdout).toBe('exit 0\n');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s: the shutdown triggers run (a Deferred one is waited for), then the process exits %i', async (sig, code) => {
    const res = await run('signal', backend, sig);
    expect(ending(res)).toEqual({ timedOut: false, code, signal: null });
    expect(res.stdout).toBe(`ready\ntrigger done\nrun ended\nexit ${code}\n`);
    expect(res.stderr).toContain(`Received ${sig}, shutting down.`);
  });

  it('a shutdown trigger whose Deferred never fires is given up on after shutdownTimeout, and that is logged', async () => {
    const res = await run('trigger-hangs', backend, 'SIGTERM');
    expect(ending(res)).toEqual({ timedOut: false, code: 143, signal: null });
    expect(res.stderr).toContain('did not finish within 0.5 s');
  });

  it('a second SIGINT while the shutdown triggers hang exits at once with 130', async () => {
    const sent: string[] = [];
    const res = await runFixture('stop-exits.js', ['second-signal', backend], 10000, [], (out, child) => {
      for (const [cue, n] of [['ready\n', 1], ['stopping\n', 2]] as const) {
        if (out.includes(cue) && sent.length < n) {
          sent.push(cue);
          child.kill('SIGINT');
        }
      }
    });
    expect(ending(res)).toEqual({ timedOut: false, code: 130, signal: null });
    expect(res.stdout).toBe('ready\nstopping\nexit 130\n');
    expect(res.stderr).toContain('Received SIGINT again, exiting now.');
  });

  it('stop() leaves a running child alone: the process exits 0 once the child has ended, not before', async () => {
    const res = await run('child-runs', backend);
    expect(ending(res)).toEqual({ timedOut: false, code: 0, signal: null });
    expect(res.stdout).toBe('child ended\nexit 0\n');
  });

  it('a shutdown trigger that signals the child lets the process exit by itself', async () => {
    const res = await run('child-signalled', backend);
    expect(ending(res)).toEqual({ timedOut: false, code: 0, signal: null });
    expect(res.stdout).toBe('exit 0\n');
  });

  it('LoopingCall.stop() on the reactor leaves nothing armed: exits 0 by itself', async () => {
    const res = await run('looping-stop', backend);
    expect(ending(res)).toEqual({ timedOut: false, code: 0, signal: null });
    expect(res.stdout).toBe('exit 0\n');
  });
});
