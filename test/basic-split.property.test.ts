/**
 * Property: every parser gives the same events for the same stream fed whole,
 * in random chunks and one byte at a time; garbage never throws or piles up.
 */
import fc from 'fast-check';
import { log } from '../lib/log';
import { Int16Recorder, Int32Recorder, Int8Recorder, LineOnlyRecorder, LineRecorder, NetstringRecorder, chunk, feed } from './helpers/recorders';
import type { Recorder } from './helpers/recorders';

const RUNS = 300;

/** Feeds the stream three ways and checks the events agree and the buffer stays bounded. */
function checkSplits(make: () => Recorder, stream: Buffer, sizes: number[], bound: number): void {
  const bounded = (r: Recorder): void => {
    const paused = (r as { paused?: boolean }).paused === true;
    if (!paused) expect(r.bufferedSize).toBeLessThanOrEqual(bound);
  };
  const outcome = (splits: Buffer[]): unknown[] => {
    const r = make();
    const t = feed(r, splits, bounded);
    return [r.events, t.disconnecting, (r as { parseError?: Error | null }).parseError?.message];
  };
  const whole = outcome([stream]);
  expect(outcome(chunk(stream, sizes))).toEqual(whole);
  expect(outcome(chunk(stream, [1]))).toEqual(whole);
}

const quiet = (): void => {};
beforeAll(() => log.addObserver(quiet));
afterAll(() => log.removeObserver(quiet));

const sizesArb = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 });
const garbage = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

/** Text from a small alphabet rich in delimiter bytes and commands, so lines, raw runs and overflows all happen. */
const lineText = fc
  .array(fc.constantFrom('a', 'b', 'x', '\r', '\n', '\r\n', '\xff', '\xff\r', 'len 3\r\n', 'len 0\r\n', 'pause\r\n', 'aab', 'zzzzzzzz'), { maxLength: 60 })
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));

/** A LineRecorder whose lines are read with lineText first, so a read's later lines are found in its decoded text. */
class TextLineRecorder extends LineRecorder {
  override lineReceived(line: Buffer): void {
    expect(this.lineText(line)).toBe(line.toString('latin1'));
    super.lineReceived(line);
  }
}

describe('parsers give the same events in any split', () => {
  test.each([
    ['LineReceiver', '\r\n', 16, LineRecorder],
    ['LineReceiver', '\n', 8, LineRecorder],
    ['LineReceiver', 'aab', 12, LineRecorder],
    ['LineReceiver with lineText', '\r\n', 16, TextLineRecorder],
    ['LineReceiver with lineText', 'aab', 12, TextLineRecorder],
    ['LineReceiver with lineText', Buffer.from([0xff, 0x0d]), 8, TextLineRecorder],
    ['LineOnlyReceiver', '\r\n', 16, LineOnlyRecorder],
    ['LineOnlyReceiver', 'aab', 5, LineOnlyRecorder],
  ] as const)('%s (delimiter %j, MAX_LENGTH %d)', (_name, delimiter, max, Recorder) => {
    const make = (): Recorder => {
      const r = new Recorder();
      r.delimiter = delimiter;
      r.MAX_LENGTH = max;
      return r;
    };
    fc.assert(
      fc.property(fc.oneof(lineText, garbage), sizesArb, (stream, sizes) => checkSplits(make, stream, sizes, max + delimiter.length)),
      { numRuns: RUNS },
    );
  });

  test('LineReceiver gives the same events whether its handler reads lines with lineText or not', () => {
    const events = (R: typeof LineRecorder, stream: Buffer, sizes: number[]): unknown[] => {
      const r = new R();
      r.MAX_LENGTH = 16;
      feed(r, chunk(stream, sizes));
      return r.events;
    };
    fc.assert(
      fc.property(fc.oneof(lineText, garbage), sizesArb, (stream, sizes) => {
        expect(events(TextLineRecorder, stream, sizes)).toEqual(events(LineRecorder, stream, sizes));
      }),
      { numRuns: RUNS },
    );
  });

  test.each([
    ['Int32', Int32Recorder, 4],
    ['Int16', Int16Recorder, 2],
    ['Int8', Int8Recorder, 1],
  ] as const)('%sStringReceiver', (_name, Recorder, prefix) => {
    const max = 40;
    const frame = fc.uint8Array({ maxLength: 50 }).map((body) => {
      const out = Buffer.alloc(prefix + body.length);
      out.writeUIntBE(body.length, 0, prefix);
      out.set(body, prefix);
      return out;
    });
    const stream = fc.tuple(fc.array(frame, { maxLength: 12 }), fc.oneof(garbage, fc.constant(Buffer.alloc(0)))).map(([frames, junk]) => Buffer.concat([...frames, junk]));
    const make = (): Recorder => {
      const r = new Recorder();
      r.MAX_LENGTH = max;
      return r;
    };
    fc.assert(fc.property(stream, sizesArb, (s, sizes) => checkSplits(make, s, sizes, max + prefix)), { numRuns: RUNS });
  });

  test('NetstringReceiver', () => {
    const max = 30;
    const good = fc.uint8Array({ maxLength: 40 }).map((body) => Buffer.concat([Buffer.from(`${body.length}:`), Buffer.from(body), Buffer.from(',')]));
    const nearMiss = fc.constantFrom('0:,', '01:a,', '3:ab', ':', '1x:', '31:', '2:abc,', '9999999999:').map((s) => Buffer.from(s));
    const stream = fc.array(fc.oneof(good, good, nearMiss, garbage), { maxLength: 8 }).map((parts) => Buffer.concat(parts));
    const make = (): Recorder => {
      const r = new NetstringRecorder();
      r.MAX_LENGTH = max;
      return r;
    };
    fc.assert(fc.property(stream, sizesArb, (s, sizes) => checkSplits(make, s, sizes, max)), { numRuns: RUNS });
  });
});
