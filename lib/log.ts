/**
 * The one logger everything in ioreactor reports through (Twisted's
 * `twisted.logger` in miniature): observers receive structured events; the
 * default observer writes one readable line plus the stack to stderr.
 *
 * Logging is total: an event whose failure or message cannot be read, or an
 * observer that throws, costs a line of text, never an exception (the
 * reactor logs from its own error path, which must not fail in turn).
 */
import { attempt, safeString } from './total';

/** Severity of a log event. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical';

/** The smallest shape of a Failure the logger needs (avoids an import cycle). */
export interface LoggableFailure {
  /** The wrapped error or value. */
  readonly value: unknown;
  /** The stack text, or a message when there is no stack. */
  getTraceback(): string;
}

/** One structured log event. */
export interface LogEvent {
  /** How serious the event is. */
  level: LogLevel;
  /** What happened, in one line. */
  message: string;
  /** The failure being reported, when there is one. */
  failure?: LoggableFailure;
  /** Epoch seconds. */
  time: number;
  /** Extra fields a caller attached (fd, port, errno, ...). */
  [key: string]: unknown;
}

/** Receives every log event. */
export type LogObserver = (event: LogEvent) => void;

/** Writes one line (and the failure's traceback) to stderr. */
export function stderrObserver(event: LogEvent): void {
  const stamp = attempt(() => new Date(event.time * 1000).toISOString(), 'unknown time');
  let text = `${stamp} [ioreactor] ${safeString(event.level)}: ${safeString(event.message)}\n`;
  const failure = event.failure;
  if (failure) text += attempt(() => safeString(failure.getTraceback()), '<failure with an unreadable traceback>').replace(/\n?$/, '\n');
  attempt(() => process.stderr.write(text), false);
}

/** The type of `log`: where the reactor and user code report events; observers receive them. */
export class Logger {
  private observers: LogObserver[] = [stderrObserver];
  private defaultRemoved = false;

  /** Adds an observer; the first one added replaces the stderr default. */
  addObserver(fn: LogObserver): void {
    if (typeof fn !== 'function') throw new TypeError('log.addObserver: observer must be a function');
    if (!this.defaultRemoved) {
      this.observers = this.observers.filter((o) => o !== stderrObserver);
      this.defaultRemoved = true;
    }
    this.observers.push(fn);
  }

  /** Removes an observer; when none is left the stderr default returns. */
  removeObserver(fn: LogObserver): void {
    this.observers = this.observers.filter((o) => o !== fn);
    if (this.observers.length === 0) {
      this.observers.push(stderrObserver);
      this.defaultRemoved = false;
    }
  }

  /** Sends an event to every observer; an observer that throws is dropped from that event only. */
  emit(level: LogLevel, message: string, fields: Partial<LogEvent> = {}): void {
    const time = Date.now() / 1000;
    const event: LogEvent = attempt(() => ({ ...fields, level, message, time }), { level, message, time, failure: attempt(() => fields.failure, undefined) });
    for (const obs of this.observers.slice()) {
      try {
        obs(event);
      } catch (e) {
        if (obs !== stderrObserver) stderrObserver({ level: 'error', message: `log observer threw: ${safeString(e)}`, time });
      }
    }
  }

  /** Logs a message at level `info`. */
  msg(message: string, fields?: Partial<LogEvent>): void {
    this.emit('info', message, fields);
  }

  /** Logs a Failure (or any error) at level `error` with its traceback. */
  failure(message: string, failure: LoggableFailure, fields?: Partial<LogEvent>): void {
    this.emit('error', message, { ...fields, failure });
  }
}

/** The process-wide logger: `log.addObserver(fn)`, `log.removeObserver(fn)`. */
export const log = new Logger();
