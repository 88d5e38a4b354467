/**
 * Runs one test body against every backend this build offers (Twisted's
 * ReactorBuilder): `forEachBackend('Poller', (backend) => { it(...) })`.
 */
import { loadNative } from '../../lib/native';

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
