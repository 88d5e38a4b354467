/**
 * react (twisted.internet.task.react): run a main function on the reactor,
 * keep the process alive until what it returns fires, then stop the reactor
 * and exit 0, or 1 with the failure logged.
 */
import { maybeDeferred } from '../defer/helpers';
import { Failure } from '../failure';
import { log } from '../log';
import { reactor as defaultReactor } from '../reactor/index';
import type { Reactor } from '../reactor/reactor';

/**
 * Calls `main(reactor, ...argv)`, runs the reactor until the Deferred or
 * Promise it returns fires (a plain value counts as fired), then stops the
 * reactor and exits the process: 0 on success, 1 with the failure logged
 * when it fails or `main` throws. A signal that stops the reactor first
 * exits as the reactor's signal handling says (128 + the signal).
 * `reactor` is the reactor to run (the default reactor when omitted).
 */
export function react<A extends unknown[]>(
  main: (reactor: Reactor, ...argv: A) => unknown,
  argv: A = [] as unknown as A,
  reactor: Reactor = defaultReactor,
): void {
  if (typeof main !== 'function') throw new TypeError('react: main must be a function');
  let code = 0;
  let stopping = false;
  reactor.addSystemEventTrigger('before', 'shutdown', () => {
    stopping = true;
  });
  const finish = (result: unknown): void => {
    if (result instanceof Failure) {
      log.failure('main function encountered error', result);
      code = 1;
    }
    if (!stopping) reactor.callWhenRunning(() => {
      if (!stopping) reactor.stop();
    });
  };
  maybeDeferred(() => main(reactor, ...argv) as unknown).addBoth((result) => {
    finish(result);
    return undefined;
  });
  // After a turn, so the reactor's own exit after SIGINT/SIGTERM (queued as
  // run() ends, before this) comes first and keeps its 128 + signal status.
  void reactor.run().then(() => setImmediate(() => process.exit(code)));
}
