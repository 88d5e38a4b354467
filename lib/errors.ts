/**
 * Error classes, named and arranged as in `twisted.internet.error` and
 * `twisted.internet.defer`. Every class sets `name`, so logs and
 * `Failure.check` read the same as in Twisted.
 */

/**
 * Names a subclass of a built-in Error after itself, once: `name` goes on
 * the class's prototype (non-enumerable, as Error.prototype.name is), so an
 * error made costs no property definition of its own. Defining it on each
 * instance was ~2,300 instructions, paid by every connection's end reason
 * (bench/PERFORMANCE.md). A prototype that has its own `name` keeps it.
 */
function named(proto: object, name: string): void {
  // Only our own classes' prototypes: Reflect.construct with another newTarget must not rename Object.prototype.
  if (proto !== IOReactorError.prototype && !(proto instanceof IOReactorError)) return;
  if (Object.prototype.hasOwnProperty.call(proto, 'name')) return;
  Object.defineProperty(proto, 'name', { value: name, enumerable: false, configurable: true, writable: true });
}

/** Base of every error ioreactor raises on its own account. */
export class IOReactorError extends Error {
  constructor(message?: string) {
    super(message ?? 'An ioreactor error occurred');
    named(new.target.prototype as object, new.target.name);
  }
}

// ---- twisted.internet.defer ----

/** A Deferred was fired (callback or errback) a second time. */
export class AlreadyCalledError extends IOReactorError {
  constructor(message = 'The Deferred was already fired: callback or errback may be called only once') {
    super(message);
  }
}

/** The Deferred was cancelled; its errbacks receive a Failure of this. */
export class CancelledError extends IOReactorError {
  constructor(message = 'The Deferred was cancelled') {
    super(message);
  }
}

/**
 * An operation took too long: `Deferred.addTimeout`, a connect timeout.
 * One class serves both, so a caller catches one type for every timeout.
 */
export class TimeoutError extends IOReactorError {
  constructor(message = 'The operation timed out') {
    super(message);
  }
}

/** `gatherResults` / `DeferredList(fireOnOneErrback)`: the first failure and its index. */
export class FirstError extends IOReactorError {
  /** The Failure that failed first. */
  readonly subFailure: unknown;
  /** Index of the Deferred that failed in the list passed in. */
  readonly index: number;
  constructor(subFailure: unknown, index: number) {
    const msg = (subFailure as { getErrorMessage?: () => string })?.getErrorMessage?.() ?? String(subFailure);
    super(`FirstError[#${index}, ${msg}]`);
    this.subFailure = subFailure;
    this.index = index;
  }
}

/** `ensureDeferred` got something that is neither a Promise nor a coroutine. */
export class NotACoroutineError extends IOReactorError {
  constructor(message = 'Expected a Promise, a Deferred or a generator') {
    super(message);
  }
}

/** `race`: every Deferred failed; `failures` holds their Failures in the order passed in. */
export class FailureGroup extends IOReactorError {
  /** One Failure per Deferred raced, by index. */
  readonly failures: readonly unknown[];
  constructor(failures: readonly unknown[]) {
    const msgs = failures.map((f) => (f as { getErrorMessage?: () => string })?.getErrorMessage?.() ?? String(f));
    super(failures.length === 0 ? 'race: nothing to race' : `race: all ${failures.length} failed: ${msgs.join('; ')}`);
    this.failures = failures;
  }
}

/** `DeferredQueue.put` on a queue already holding `size` items. */
export class QueueOverflow extends IOReactorError {
  constructor(message = 'The DeferredQueue is full') {
    super(message);
  }
}

/** `DeferredQueue.get` with `backlog` getters already waiting. */
export class QueueUnderflow extends IOReactorError {
  constructor(message = 'Too many getters are already waiting on the DeferredQueue') {
    super(message);
  }
}

// ---- twisted.internet.error: timers ----

/** A DelayedCall that already ran was cancelled, reset or delayed. */
export class AlreadyCalled extends IOReactorError {
  constructor(message = 'The DelayedCall has already run') {
    super(message);
  }
}

/** A DelayedCall that was cancelled was cancelled, reset or delayed again. */
export class AlreadyCancelled extends IOReactorError {
  constructor(message = 'The DelayedCall was already cancelled') {
    super(message);
  }
}

// ---- twisted.internet.task: cooperative tasks ----

/** Base of the Cooperator's errors: the scheduler or a task was in the wrong state. */
export class SchedulerError extends IOReactorError {
  constructor(message = 'The Cooperator cannot do that') {
    super(message);
  }
}

/** Base of the reasons a CooperativeTask is finished; raised by pause/stop on a finished task. */
export class TaskFinished extends SchedulerError {
  constructor(message = 'The task has finished') {
    super(message);
  }
}

/** The task's iterator was exhausted. */
export class TaskDone extends TaskFinished {
  constructor(message = 'The task is done: its iterator is exhausted') {
    super(message);
  }
}

/** The task was stopped with `stop()`; `whenDone()` fails with this. */
export class TaskStopped extends TaskFinished {
  constructor(message = 'The task was stopped') {
    super(message);
  }
}

/** The task's iterator threw (or a Deferred it yielded failed). */
export class TaskFailed extends TaskFinished {
  constructor(message = 'The task failed: its iterator raised') {
    super(message);
  }
}

/** The Cooperator was stopped; its unfinished tasks fail with this. */
export class SchedulerStopped extends SchedulerError {
  constructor(message = 'The Cooperator was stopped') {
    super(message);
  }
}

/** `resume()` on a task that is not paused. */
export class NotPaused extends SchedulerError {
  constructor(message = 'The task is not paused') {
    super(message);
  }
}

// ---- twisted.internet.error: connecting ----

/** Base of every failure to connect. */
export class ConnectError extends IOReactorError {
  /** The OS error (errno name or message), when there is one. */
  readonly osError?: string;
  constructor(message?: string, osError?: string) {
    super(osError ? `${message ?? 'An error occurred while connecting'}: ${osError}` : message ?? 'An error occurred while connecting');
    this.osError = osError;
  }
}

/** A user-level connect failure (Twisted's UserError). */
export class UserError extends ConnectError {
  constructor(message = 'User aborted the connection', osError?: string) {
    super(message, osError);
  }
}

/** The peer refused the connection (ECONNREFUSED). */
export class ConnectionRefusedError extends ConnectError {
  constructor(message = 'Connection was refused by the other side', osError?: string) {
    super(message, osError);
  }
}

/** The host name could not be resolved. */
export class DNSLookupError extends IOReactorError {
  constructor(message = 'The host name could not be resolved') {
    super(message);
  }
}

/** `stopConnecting()` or cancelling an endpoint's connect Deferred. */
export class ConnectingCancelledError extends IOReactorError {
  /** Where the cancelled connection was going. */
  readonly address: unknown;
  constructor(address: unknown) {
    super('Connecting was cancelled');
    this.address = address;
  }
}

/** `listenTCP`/`listenUNIX`/`listenUDP` could not bind or listen. */
export class CannotListenError extends IOReactorError {
  /** The interface (host address or path) the listen asked for; '' for all. */
  readonly interface: string;
  /** The port (or UNIX path) the listen asked for. */
  readonly port: number | string;
  /** The OS error code, such as `EADDRINUSE`. */
  readonly code?: string;
  constructor(iface: string, port: number | string, reason: string, code?: string) {
    // A UNIX path comes as both: named once, not `path:path`.
    super(`Couldn't listen on ${iface !== '' && iface === port ? iface : `${iface || 'any'}:${port}`}: ${reason}`);
    this.interface = iface;
    this.port = port;
    this.code = code;
  }
}

/** Why adoptStreamPort/adoptStreamConnection refused an fd (CannotAdoptError.reason). */
export type AdoptRefusal = 'closed' | 'not-socket' | 'not-stream' | 'wrong-family' | 'not-listening' | 'not-connected' | 'other';

/**
 * `adoptStreamPort` / `adoptStreamConnection` (or the `systemd:` endpoint)
 * was given an fd it cannot take: closed, not a socket, not a stream socket,
 * of another family than the one named, not listening (a port) or without a
 * peer (a connection). The caller's fd is left as it was.
 */
export class CannotAdoptError extends IOReactorError {
  /** The fd that was offered. */
  readonly fd: number;
  /** What was wrong with it. */
  readonly reason: AdoptRefusal;
  /** The OS error code behind it, such as `ENOTSOCK`. */
  readonly code: string;
  constructor(fd: number, reason: AdoptRefusal, code: string, message: string) {
    super(`Cannot adopt fd ${fd}: ${message} (${code})`);
    this.fd = fd;
    this.reason = reason;
    this.code = code;
  }
}

// ---- protocols ----

/** A protocol's `transport` was read before makeConnection() gave it one. */
export class NotConnectedError extends IOReactorError {}

/** A protocol's `factory` was read, but no factory built it (Factory.buildProtocol sets it). */
export class NoFactoryError extends IOReactorError {}

// ---- twisted.internet.error: connections ----

/** Base of the reasons a connection ended. */
export class ConnectionClosed extends IOReactorError {
  constructor(message = 'The connection was closed') {
    super(message);
  }
}

/**
 * The connection was closed cleanly (what `loseConnection` reports). As
 * Twisted's `main.CONNECTION_DONE`, the transports share one instance for
 * every clean close (each connectionLost still gets a Failure of its own):
 * annotate the Failure, not its `value`, or the change shows on every
 * connection.
 */
export class ConnectionDone extends ConnectionClosed {
  constructor(message = 'Connection was closed cleanly.') {
    super(message);
  }
}

/** The connection was lost in a non-clean fashion. */
export class ConnectionLost extends ConnectionClosed {
  constructor(message = 'Connection to the other side was lost in a non-clean fashion.') {
    super(message);
  }
}

/** `abortConnection()` closed the connection at once. */
export class ConnectionAborted extends ConnectionLost {
  constructor(message = 'Connection was aborted locally using abortConnection.') {
    super(message);
  }
}

// ---- TLS (twisted.internet.ssl / OpenSSL.SSL.Error) ----

/**
 * A TLS connection failed: handshake, verification, a protocol error, or a
 * TCP close without close_notify (truncation). `code` is OpenSSL's reason
 * (`CERTIFICATE_VERIFY_FAILED`, `NO_SHARED_CIPHER`,
 * `UNEXPECTED_EOF_WHILE_READING`, ...) or `HANDSHAKE_TIMEOUT`; for a failed
 * verification `verifyCode` says what was wrong (`CERT_HAS_EXPIRED`,
 * `HOSTNAME_MISMATCH`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ...). A ConnectionLost,
 * so code that only asks "was it clean?" keeps working.
 */
export class TLSError extends ConnectionLost {
  /** OpenSSL's reason code. */
  readonly code: string;
  /** The certificate verification failure, or null. */
  readonly verifyCode: string | null;
  constructor(code: string, verifyCode: string | null = null, message?: string) {
    super(message ?? `TLS error: ${code}${verifyCode !== null ? ` (${verifyCode})` : ''}`);
    this.code = code;
    this.verifyCode = verifyCode;
  }
}

/**
 * TLS options that cannot work: a bad key or certificate, a key that does not
 * match its certificate, an unknown cipher string. Thrown when the options
 * are built. `code` is ours (`BAD_PRIVATE_KEY`, `BAD_CERTIFICATE`,
 * `KEY_MISMATCH`, `BAD_TRUST_ROOT`, `NO_CIPHER_MATCH`...), `reason` OpenSSL's.
 */
export class CertificateError extends IOReactorError {
  /** What was wrong. */
  readonly code: string;
  /** OpenSSL's reason, or ''. */
  readonly reason: string;
  constructor(code: string, reason = '') {
    super(`Bad TLS options: ${code}${reason !== '' ? ` (${reason})` : ''}`);
    this.code = code;
    this.reason = reason;
  }
}

// ---- twisted.internet.error: processes ----

/** A child process exited with status 0. */
export class ProcessDone extends ConnectionDone {
  /** Always 0. */
  readonly exitCode = 0;
  /** Always null: the process was not killed by a signal. */
  readonly signal: string | null = null;
  /** The wait status, as Twisted reports it (0). */
  readonly status: number;
  constructor(status = 0) {
    super('A process has ended without apparent errors: process finished with exit code 0.');
    this.status = status;
  }
}

/** A child process exited with a non-zero status or was killed by a signal. */
export class ProcessTerminated extends ConnectionLost {
  /** The exit code, or null when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal's name (such as `SIGTERM`), or null when the process exited. */
  readonly signal: string | null;
  /** The wait status as Twisted reports it (exit code << 8, or the signal number); null when unknown. */
  readonly status: number | null;
  constructor(exitCode: number | null, signal: string | null, status: number | null = null) {
    super(
      signal !== null
        ? `A process has ended with a probable error condition: process ended by signal ${signal}.`
        : `A process has ended with a probable error condition: process ended with exit code ${exitCode}.`,
    );
    this.exitCode = exitCode;
    this.signal = signal;
    this.status = status;
  }
}

// ---- twisted.protocols.basic ----

/** A netstring was malformed (bad length, missing comma). */
export class NetstringParseError extends IOReactorError {
  constructor(message = 'The netstring is malformed') {
    super(message);
  }
}

/** A string was longer than the receiver's MAX_LENGTH. */
export class StringTooLongError extends IOReactorError {
  constructor(message = 'The string is longer than the protocol allows') {
    super(message);
  }
}

// ---- ioreactor's own ----

/** A Poller or reactor call named an fd it cannot use (closed, unregistered, twice). */
export class PollerError extends IOReactorError {
  /** The fd the call named. */
  readonly fd: number;
  /** errno name, such as `EBADF`, or a short code such as `ENOTREGISTERED`. */
  readonly code: string;
  constructor(message: string, fd: number, code: string) {
    super(message);
    this.fd = fd;
    this.code = code;
  }
}

/** A backend was asked for that this platform or build does not offer. */
export class BackendUnavailableError extends IOReactorError {
  /** The backend that was asked for. */
  readonly backend: string;
  /** The backends this build offers, best first. */
  readonly available: string[];
  /** Always `ENOTSUP`. */
  readonly code = 'ENOTSUP';
  constructor(backend: string, platform: string, available: string[]) {
    super(`backend '${backend}' is not available on ${platform} (available: ${available.join(', ')})`);
    this.backend = backend;
    this.available = available;
  }
}

// ---- twisted.internet.error: the reactor ----

/** `reactor.stop()` on a reactor that is not running (or already stopping). */
export class ReactorNotRunning extends IOReactorError {
  constructor(message = 'The reactor is not running') {
    super(message);
  }
}

/** `reactor.run()` on a reactor that is already running. */
export class ReactorAlreadyRunning extends IOReactorError {
  constructor(message = 'The reactor is already running') {
    super(message);
  }
}

/**
 * The reactor could not create or start its native event loop (the poller's
 * fd: EMFILE or ENFILE when the fd table is full, ENOMEM). Nothing was
 * opened; a later call tries again. listenTCP/UNIX/UDP report it as
 * CannotListenError and connectTCP/UNIX through clientConnectionFailed.
 */
export class ReactorLoopError extends IOReactorError {
  /** errno name, such as `EMFILE`. */
  readonly code: string;
  /** The negative errno. */
  readonly errno: number;
  /** The backend that was being opened. */
  readonly backend: string;
  constructor(backend: string, errno: number, code: string) {
    super(`cannot create the ${backend} event loop: ${code}`);
    this.backend = backend;
    this.errno = errno;
    this.code = code;
  }
}

/**
 * An object of a reactor whose native loop was closed (`reactor.close()`)
 * was asked to act: its handle named a registration that no longer exists.
 * (ioreactor's own; Twisted's reactors are never closed and reopened.)
 */
export class ReactorClosedError extends IOReactorError {
  constructor(message = 'The reactor this object belongs to was closed.') {
    super(message);
  }
}

// ---- twisted.internet.error: processes and UDP ----

/** signalProcess() on a process that has already exited (Twisted's ProcessExitedAlready). */
export class ProcessExitedAlready extends IOReactorError {
  constructor(message = 'The process has already exited.') {
    super(message);
  }
}

/** spawnProcess could not start the child (executable missing or not executable, bad cwd, bad fd). */
export class SpawnError extends IOReactorError {
  /** errno name, such as `ENOENT` or `EACCES`. */
  readonly code: string;
  /** The executable that was asked for. */
  readonly executable: string;
  constructor(executable: string, code: string, detail: string) {
    super(`spawnProcess: cannot run ${JSON.stringify(executable)}: ${detail} (${code})`);
    this.code = code;
    this.executable = executable;
  }
}

/** A UDP address that is not a numeric IP (Twisted's InvalidAddressError: no name lookups for UDP). */
export class InvalidAddressError extends IOReactorError {
  /** The address that was given. */
  readonly address: unknown;
  constructor(address: unknown, message: string) {
    super(`Invalid address ${String(address)}: ${message}`);
    this.address = address;
  }
}

/** A port was used after it stopped listening: written to, connected (Twisted's NotListeningError). */
export class NotListeningError extends IOReactorError {}

/**
 * A UDP send the system refused for a reason other than the address or the
 * size, such as EACCES for a broadcast address (SO_BROADCAST is not set).
 */
export class DatagramSendError extends IOReactorError {
  /** errno name, such as `EACCES`. */
  readonly code: string;
  /** The address the datagram was for. */
  readonly address: unknown;
  constructor(address: unknown, code: string, message: string) {
    super(message);
    this.code = code;
    this.address = address;
  }
}

/** A datagram too long to send (EMSGSIZE; Twisted's MessageLengthError). */
export class MessageLengthError extends IOReactorError {
  constructor(message = 'message too long') {
    super(message);
  }
}

// ---- ioreactor serve (lib/runner) ----

/** `ioreactor serve` was given arguments it cannot use (Twisted's twist prints usage for these). */
export class UsageError extends IOReactorError {}
