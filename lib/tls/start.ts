/**
 * Starting TLS on a transport a port or connector has just made: a failure
 * (out of memory in OpenSSL, a bad host name) is logged and drops that
 * connection only.
 */
import { Failure } from '../failure';
import { log } from '../log';
import type { StreamTransport } from '../transport/stream';
import type { IOpenSSLContextFactory } from './options';

/**
 * Starts TLS on `t`; false (after logging and dropping it) when that fails.
 * `who` (the port) is formatted into the log line only then: its
 * description is a new string, once per connection otherwise.
 */
export function startTLSOrClose(t: StreamTransport, contextFactory: IOpenSSLContextFactory, who: { toString(): string }): boolean {
  try {
    t.startTLS(contextFactory);
    return true;
  } catch (e) {
    const f = new Failure(e);
    log.failure(`${who.toString()}: could not start TLS; connection closed`, f);
    t.dropWith(f.value instanceof Error ? f.value : new Error(String(e)));
    return false;
  }
}
