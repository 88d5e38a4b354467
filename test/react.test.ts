/**
 * task.react in child processes, every backend: the process lives until
 * main's Deferred or Promise fires, then exits 0, or 1 with the failure
 * logged (also when main throws); SIGTERM still ends it as a signal does.
 */
import { forEachBackend } from './helpers/backends';
import { runFixture } from './fixtures/run-fixture';

jest.setTimeout(30000);

forEachBackend('react', (backend) => {
  it('main fires: its argv came through, the process exits 0 although an hour-long call is pending', async () => {
    const res = await runFixture('react-main.js', ['succeed', backend], 10000);
    expect({ timedOut: res.timedOut, code: res.code }).toEqual({ timedOut: false, code: 0 });
    expect(res.stdout).toBe('main ran with x y\nexit 0\n');
  });

  it('an async main: exits 0 once its Promise resolves', async () => {
    const res = await runFixture('react-main.js', ['async', backend], 10000);
    expect({ timedOut: res.timedOut, code: res.code }).toEqual({ timedOut: false, code: 0 });
    expect(res.stdout).toBe('async main done\nexit 0\n');
  });

  it.each([
    ['fail', 'main failed'],
    ['throws', 'main threw'],
  ])('main %s: the failure is logged and the process exits 1', async (how, message) => {
    const res = await runFixture('react-main.js', [how, backend], 10000);
    expect({ timedOut: res.timedOut, code: res.code }).toEqual({ timedOut: false, code: 1 });
    expect(res.stdout).toBe(`log error: main function encountered error (${message})\nexit 1\n`);
  });

  it('SIGTERM while main is pending: the reactor shuts down and the process exits 143', async () => {
    let sent = false;
    const res = await runFixture('react-main.js', ['never', backend], 10000, [], (out, child) => {
      if (!sent && out.includes('ready\n')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    expect({ timedOut: res.timedOut, code: res.code }).toEqual({ timedOut: false, code: 143 });
    expect(res.stdout).toBe('ready\nlog info: Received SIGTERM, shutting down.\nexit 143\n');
  });
});
