/** Protocols for TLS tests: a Recorder that also records handshakeCompleted, and an echo. */
import { Recorder, signal } from './tcp';

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
