/**
 * The state bits of a StreamTransport, in one number so the dispatch path
 * tests several with one AND. A const enum: the compiler inlines each value.
 */

/** @internal StreamTransport.state bits. */
export const enum StreamState {
  /** The slot is gone; connectionLost is queued or done. */
  Closed = 0x1,
  /** loseConnection(): flush, then close. */
  Disconnecting = 0x2,
  /** pauseProducing(): reading stopped by the application (only its resumeProducing lifts it). */
  Paused = 0x4,
  /** Resumed, but data held while paused is not delivered yet. */
  Holding = 0x8,
  /** The peer shut down its write side. */
  ReadEof = 0x10,
  /** loseWriteConnection() called. */
  WriteShutAsked = 0x20,
  /** The write side is shut down. */
  WriteShut = 0x40,
  /** The registered producer is a push producer. */
  Streaming = 0x80,
  /** We paused it at the high-water mark. */
  ProducerPaused = 0x100,
  /** A pull producer's resumeProducing is scheduled. */
  PullQueued = 0x200,
  /** No protocol was attached: close without connectionLost. */
  Silent = 0x400,
  /** EOF arrived while paused: handled after the held data. */
  EofHeld = 0x800,
  /** Reading stopped while the write buffer is past the high-water mark (WriteFullListener); lifted at the drain. */
  ReadGated = 0x1000,
  /**
   * loseConnection() came while a producer was registered: writes are still
   * taken, and close_notify and the close wait until it unregisters (as
   * Twisted's FileDescriptor, which refuses writes only once not connected).
   */
  ProducerWait = 0x2000,
  /** The reactor's text cork holds strings this transport wrote (lib/reactor/text-cork.ts): one bit to test, not the cork. */
  TextHeld = 0x4000,
  /** Any of these set: write() looks closer (writesRefused) before taking bytes. */
  WriteGuard = 0x23,
  /** Either stops reading. */
  ReadStopped = 0x1004,
  /** Any of these set: received data is held, not handed to the protocol now (the low four bits, and the gate). */
  NoDeliver = 0x100f,
}
