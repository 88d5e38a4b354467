/** Protocols for TLS tests: a Recorder that also records handshakeCompleted, and an echo. */
import type { IPv4Address } from '../../lib/address';
import type { Reactor } from '../../lib/reactor';
import { CertificateOptions } from '../../lib/tls';
import type { Identity } from './certs';
import { keeping, Recorder, signal } from './tcp';

/** Records handshakeCompleted too (with a promise for it). */
export class TLSRecorder extends Recorder {
  handshakes = 0;
  private readonly hs = signal();

  /** Resolves once handshakeCompleted ran. */
  get handshaken(): Promise<void> {
    return this.hs.promise;
  }

  handshakeCompleted(): void {
    this.handshakes++;
    this.hs.resolve();
  }
}

/** Echoes what it receives (a TLSRecorder). */
export class TLSEcho extends TLSRecorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    this.transport!.write(data);
  }
}

/**
 * A TLSEcho server on 127.0.0.1, port 0, presenting `id` (and `extra`
 * options): its factory, its port and the port's number.
 */
export function listenTLSEcho(r: Reactor, id: Identity, extra: ConstructorParameters<typeof CertificateOptions>[0] = {}) {
  const f = keeping(TLSEcho);
  const opts = new CertificateOptions({ privateKey: id.key, certificate: id.cert, ...extra });
  const port = r.listenSSL(0, f, opts, { interface: '127.0.0.1' });
  return { f, port, num: (port.getHost() as IPv4Address).port };
}
