/**
 * The contract between the reactor's dispatch loop and whatever owns a
 * native slot (a transport, a listening port, a UDP port, a child process, a
 * raw fd entry): one typed hook per record type the native loop delivers
 * (native/loop.h), plus the two things the reactor asks of every handler,
 * failed() and disconnect().
 *
 * A new handler kind extends Handler and overrides the hooks for the records
 * its slot gets; nothing in the reactor changes. A new record type (a TLS
 * handshake finishing, say) adds one hook here, a no-op by default, and one
 * case in ReactorCore's dispatch; handlers that never get it need no change.
 */
import type { Failure } from '../failure';
import type { NativeLoop } from '../native';
import { remaskFrame } from './frame-kept';
import { SlabView } from './received';

/**
 * Whatever owns a native slot. The dispatch loop calls the hook that matches
 * each record's type. Every member is internal: lib/'s own handler kinds
 * use it, and the published types leave it out (stripInternal).
 */
export abstract class Handler {
  /** @internal Generation of the slot this handler owns; records with another gen are stale. */
  gen = 0;
  /** @internal The native slot, -1 when not registered. */
  slot = -1;
  /**
   * @internal The native loop the slot belongs to: every command goes there
   * with (slot, gen), never to a loop opened after it closed. Null before the
   * first registration.
   */
  loop: NativeLoop | null = null;

  /** @internal Takes slot `slot` of `loop`, at generation `gen` (the slot's current one by default). */
  takeSlot(loop: NativeLoop, slot: number, gen: number = loop.generation(slot)): void {
    this.loop = loop;
    this.slot = slot;
    this.gen = gen;
  }

  /** @internal Listener: a connection was accepted into stream slot `slot` (generation `gen`). */
  onAccepted(_slot: number, _gen: number): void {}
  /** @internal Listener: accepting failed with errno and is paused until resumed. */
  onAcceptError(_errno: number): void {}
  /** @internal Stream: bytes were read; `data` is the handler's to keep. */
  onData(_data: Buffer): void {}
  /**
   * @internal Stream: a short read the native bridge copied into a keep
   * chunk, as the `length` bytes at `offset` of `memory` (the handler's to
   * keep, never written again). By default a Buffer of them goes to onData;
   * a transport may hand the range on as it is (StreamTransport).
   */
  onDataKept(memory: ArrayBuffer, offset: number, length: number): void {
    this.onData(new SlabView(memory, offset, length) as unknown as Buffer);
  }
  /**
   * @internal Stream: as onDataKept, for a read the bridge unmasked as one
   * whole WebSocket frame (Rec.FrameKept; the slot asked for it). By
   * default the mask is put back, so the range holds the peer's bytes
   * again, and it goes to onDataKept; a transport may hand it on as it is.
   */
  onFrameKept(memory: ArrayBuffer, offset: number, length: number): void {
    remaskFrame(memory, offset, length);
    this.onDataKept(memory, offset, length);
  }
  /** @internal Stream: the peer shut down its write side. */
  onEof(): void {}
  /** @internal Stream or datagram socket: an error with errno; a stream's slot waits for remove(). */
  onError(_errno: number): void {}
  /** @internal Stream: the write buffer became empty. */
  onDrained(): void {}
  /** @internal Stream: a non-blocking connect finished with errno (0 = connected). */
  onConnected(_errno: number): void {}
  /** @internal Raw fd: the poller reported `events`. */
  onRaw(_events: number): void {}
  /** @internal Datagram socket: one datagram, its sender header at `slab[at]`, then `length` payload bytes. */
  onDatagram(_slab: Buffer, _at: number, _length: number): void {}
  /** @internal Child process: it exited with `code` (-1 when killed by `signal`). */
  onExited(_code: number, _signal: number): void {}
  /** @internal TLS stream: the handshake completed; `flags` what it settled, `more` 1 when tlsSettled has more (see NativeLoop.tlsSettled). */
  onHandshake(_flags: number, _more: number): void {}
  /** @internal TLS stream: TLS failed (the reason is on the native stream); its slot waits for remove(). */
  onTlsError(): void {}
  /** @internal TLS stream: the end-of-step flush of what it wrote left `r` (bytes still buffered, or -errno; never 0). */
  onTlsFlushed(_r: number): void {}

  /** @internal A user callback threw while this handler ran (already logged): drop what it belongs to. */
  abstract failed(failure: Failure): void;
  /** @internal The reactor is shutting down (disconnectAll): stop listening, or drop the connection with ConnectionLost. */
  abstract disconnect(): void;
}
