/**
 * The `ioreactor` command: `ioreactor serve APP [options] [-- args]` runs
 * the supervisor (lib/runner/supervisor.ts). Exit status: 0 after a
 * requested stop, 2 for a usage error, 1 when the sockets cannot be opened.
 */
import { UsageError } from '../errors';
import { resolveBackend } from '../poller';
import { parseServeArgs, USAGE } from './options';
import { Supervisor } from './supervisor';

/** Runs the command line `argv` (without node and the script); resolves with the exit status. */
export async function cli(argv: readonly string[]): Promise<number> {
  if (argv[0] !== 'serve') {
    process.stderr.write(`${argv[0] === undefined ? 'ioreactor: a command is needed' : `ioreactor: unknown command ${argv[0]}`}\n${USAGE}\n`);
    return 2;
  }
  let supervisor: Supervisor;
  try {
    const opts = parseServeArgs(argv.slice(1));
    if (opts.backend !== undefined) resolveBackend(opts.backend);
    supervisor = new Supervisor(opts);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof Error && e.name === 'BackendUnavailableError')) throw e;
    process.stderr.write(`ioreactor serve: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  try {
    await supervisor.run();
  } catch (e) {
    process.stderr.write(`ioreactor serve: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}
