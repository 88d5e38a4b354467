/**
 * Receivers that record what they deliver, and ways to feed one a stream in
 * pieces: shared by the basic-protocol tests and property tests.
 */
import type { Protocol } from '../../lib/protocol';
import { LineReceiver } from '../../lib/protocols/line';
import { LineOnlyReceiver } from '../../lib/protocols/line-only';
import { Int16StringReceiver, Int32StringReceiver, Int8StringReceiver } from '../../lib/protocols/int-string';
import { NetstringReceiver } from '../../lib/protocols/netstring';
import { StringTransport } from './string-transport';

/** One thing a receiver reported, as a comparable string. */
export type Event = string;

/** Something with recorded events and a buffered-size probe. */
export interface Recorder extends Protocol {
  events: Event[];
  readonly bufferedSize: number;
}

/**
 * A LineReceiver like Twisted's LineTester: `len N` reads N raw bytes,
 * `pause` pauses, `clear` clears the buffer; every line is recorded.
 */
export class LineRecorder extends LineReceiver implements Recorder {
  events: Event[] = [];
  /** Whether the `clear` command is obeyed (its result depends on how input was split). */
  clearCommand = false;
  private rawWanted = 0;
  private raw: Buffer[] = [];

  override lineReceived(line: Buffer): void {
    this.events.push(`line:${line.toString('latin1')}`);
    const text = line.toString('latin1');
    const m = /^len (\d+)$/.exec(text);
    if (m) {
      this.rawWanted = Number(m[1]);
      this.raw = [];
      if (this.rawWanted > 0) this.setRawMode();
    } else if (text === 'pause') {
      this.pauseProducing();
    } else if (text === 'clear' && this.clearCommand) {
      this.events.push(`cleared:${this.clearLineBuffer().toString('latin1')}`);
    }
  }

  override rawDataReceived(data: Buffer): void {
    this.raw.push(data);
    const all = Buffer.concat(this.raw);
    if (all.length < this.rawWanted) return;
    this.events.push(`raw:${all.subarray(0, this.rawWanted).toString('latin1')}`);
    this.raw = [];
    this.setLineMode(all.subarray(this.rawWanted));
  }

  override lineLengthExceeded(line: Buffer): void {
    this.events.push('exceeded');
    super.lineLengthExceeded(line);
  }
}

/** A LineOnlyReceiver that records lines and length errors. */
export class LineOnlyRecorder extends LineOnlyReceiver implements Recorder {
  events: Event[] = [];

  override lineReceived(line: Buffer): void {
    this.events.push(`line:${line.toString('latin1')}`);
  }

  override lineLengthExceeded(line: Buffer): void {
    this.events.push('exceeded');
    super.lineLengthExceeded(line);
  }
}

/** Records strings and length errors for any IntNStringReceiver subclass. */
// A mixin's base must take `...args: any[]` (TypeScript's rule for mixins).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type IntNClass = new (...args: any[]) => Int32StringReceiver;

function intRecorder<B extends IntNClass>(Base: B) {
  return class extends Base implements Recorder {
    events: Event[] = [];

    override stringReceived(s: Buffer): void {
      this.events.push(`string:${s.toString('hex')}`);
    }

    override lengthLimitExceeded(length: number): void {
      this.events.push(`exceeded:${length}`);
      super.lengthLimitExceeded(length);
    }
  };
}

/** A recording Int*StringReceiver class (named, so declarations need not spell out the class). */
export type IntRecorderClass = new () => Int32StringReceiver & Recorder;

/** Int32StringReceiver that records. */
export const Int32Recorder: IntRecorderClass = intRecorder(Int32StringReceiver);
/** Int16StringReceiver that records. */
export const Int16Recorder: IntRecorderClass = intRecorder(Int16StringReceiver);
/** Int8StringReceiver that records. */
export const Int8Recorder: IntRecorderClass = intRecorder(Int8StringReceiver);

/** A NetstringReceiver that records strings and the parse error. */
export class NetstringRecorder extends NetstringReceiver implements Recorder {
  events: Event[] = [];

  override stringReceived(s: Buffer): void {
    this.events.push(`string:${s.toString('hex')}`);
  }
}

/** Cuts data into pieces of the given sizes (cycled); the last piece takes the rest. */
export function chunk(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; pos < data.length; i++) {
    const n = sizes.length === 0 ? data.length : Math.max(1, sizes[i % sizes.length]);
    out.push(Buffer.from(data.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

/** Connects r to a StringTransport and feeds it the chunks; resumes after each if it paused itself. */
export function feed<R extends Recorder>(r: R, chunks: Buffer[], afterEach?: (r: R) => void): StringTransport {
  const t = new StringTransport();
  r.makeConnection(t);
  for (const c of chunks) {
    r.dataReceived(c);
    afterEach?.(r);
    const p = r as unknown as { paused?: boolean; resumeProducing?: () => void };
    while (p.paused === true && !t.disconnecting) p.resumeProducing?.();
  }
  return t;
}
