/**
 * The reactor's own error path cannot throw, every backend: a dataReceived
 * that throws a value whose inspection throws (a revoked Proxy, an Error with
 * throwing getters) is logged and drops that connection only. The process
 * lives on without an uncaughtException handler, and with one nothing is
 * reported there; every other connection's data in the same batch arrives.
 * Runs in a child process (test/fixtures/hostile-throw.js), since the failure
 * it guards against ends the process.
 */
import { runFixture } from './fixtures/run-fixture';
import { forEachBackend } from './helpers/backends';

// Child processes load lib/ through a TypeScript require hook: slow on a busy machine.
const CHILD_MS = 30000;
jest.setTimeout(CHILD_MS + 5000);

forEachBackend("The reactor's error path", (backend) => {
  for (const kind of ['proxy', 'getter']) {
    for (const handler of ['none', 'handler']) {
      const value = kind === 'proxy' ? 'a revoked Proxy' : 'an Error whose getters throw';
      const how = handler === 'none' ? 'without' : 'with';
      it(`${value} thrown by dataReceived, ${how} an uncaughtException handler: logged, 40 of 40 others delivered`, async () => {
        const res = await runFixture('hostile-throw.js', [backend, kind, handler], CHILD_MS);
        expect(res.timedOut).toBe(false);
        expect(res.stderr).toBe('');
        expect(res.code).toBe(0);
        expect(JSON.parse(res.stdout)).toEqual({ delivered: 40, logged: 10, uncaught: 0 });
      });
    }
  }
});
