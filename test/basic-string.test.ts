/** Int32/16/8StringReceiver and NetstringReceiver: framing, limits, errors, pausing. */
import { NetstringParseError, StringTooLongError } from '../lib/errors';
import { log } from '../lib/log';
import type { LogEvent } from '../lib/log';
import { Int16StringReceiver, Int32StringReceiver, Int8StringReceiver } from '../lib/protocols/int-string';
import { NetstringReceiver } from '../lib/protocols/netstring';
import { Int16Recorder, Int32Recorder, Int8Recorder, NetstringRecorder, chunk, feed } from './helpers/recorders';
import { StringTransport } from './helpers/string-transport';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (s: string): string => `string:${b(s).toString('hex')}`;

describe.each([
  ['Int32', Int32StringReceiver, Int32Recorder, 4],
  ['Int16', Int16StringReceiver, Int16Recorder, 2],
  ['Int8', Int8StringReceiver, Int8Recorder, 1],
] as const)('%sStringReceiver', (_name, Receiver: typeof Int32StringReceiver, Recorder, prefix) => {
  const encode = (...strings: string[]): Buffer => {
    const t = new StringTransport();
    const s = new Receiver();
    s.makeConnection(t);
    for (const x of strings) s.sendString(x);
    return t.value();
  };

  test('sendString writes a big-endian length prefix, then the bytes, in one write', () => {
    const t = new StringTransport();
    const s = new Receiver();
    s.makeConnection(t);
    s.sendString('abc');
    expect(t.writes).toHaveLength(1);
    const expected = Buffer.alloc(prefix + 3);
    expected.writeUIntBE(3, 0, prefix);
    expected.write('abc', prefix);
    expect(t.value()).toEqual(expected);
  });

  test('receives what sendString wrote, in any chunking', () => {
    const strings = ['', 'a', 'hello world', 'x'.repeat(200)];
    const wire = encode(...strings);
    for (const size of [1, 2, 3, 5, 64, wire.length]) {
      const r = new Recorder();
      feed(r, chunk(wire, [size]));
      expect(r.events).toEqual(strings.map(hex));
      expect(r.bufferedSize).toBe(0);
    }
  });

  test('a length over MAX_LENGTH calls lengthLimitExceeded and drops the connection', () => {
    for (const size of [1, 100]) {
      const r = new Recorder();
      r.MAX_LENGTH = 10;
      const t = feed(r, chunk(Buffer.concat([encode('ok'), encode('y'.repeat(11)), encode('never')]), [size]));
      expect(r.events).toEqual([hex('ok'), 'exceeded:11']);
      expect(t.disconnecting).toBe(true);
      expect(r.bufferedSize).toBe(0);
    }
  });

  test('sendString of a string the prefix cannot describe throws StringTooLongError', () => {
    const s = new Receiver();
    const t = new StringTransport();
    s.makeConnection(t);
    if (prefix === 4) return; // 4 GiB strings are not worth allocating in a test
    expect(() => s.sendString(Buffer.alloc(2 ** (8 * prefix)))).toThrow(StringTooLongError);
    expect(t.writes).toHaveLength(0);
    expect(() => s.sendString(Buffer.alloc(2 ** (8 * prefix) - 1))).not.toThrow();
  });

  test('pausing in stringReceived holds the rest until resumeProducing', () => {
    const got: string[] = [];
    class R extends Receiver {
      override stringReceived(s: Buffer): void {
        got.push(s.toString());
        if (s.toString() === 'pause') this.pauseProducing();
      }
    }
    const r = new R();
    const t = new StringTransport();
    r.makeConnection(t);
    const wire = encode('a', 'pause', 'b', 'c');
    r.dataReceived(wire.subarray(0, wire.length - 1));
    expect(got).toEqual(['a', 'pause']);
    expect(t.producerState).toBe('paused');
    r.dataReceived(wire.subarray(wire.length - 1));
    expect(got).toEqual(['a', 'pause']);
    r.resumeProducing();
    expect(got).toEqual(['a', 'pause', 'b', 'c']);
  });

  test('strings kept by the protocol are never overwritten by later input', () => {
    const kept: Buffer[] = [];
    class R extends Receiver {
      override stringReceived(s: Buffer): void {
        kept.push(s);
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    const expected = Array.from({ length: 100 }, (_, i) => `s${i}-${'z'.repeat(i % 29)}`);
    for (const piece of chunk(encode(...expected), [1, 7, 3, 11])) r.dataReceived(piece);
    expect(kept.map((k) => k.toString())).toEqual(expected);
  });
});

describe('NetstringReceiver', () => {
  let events: LogEvent[];
  const observer = (e: LogEvent): void => {
    events.push(e);
  };
  beforeEach(() => {
    events = [];
    log.addObserver(observer);
  });
  afterEach(() => log.removeObserver(observer));

  test('sendString writes <length>:<bytes>, and the receiver reads it back in any chunking', () => {
    const t = new StringTransport();
    const s = new NetstringReceiver();
    s.makeConnection(t);
    for (const x of ['hello', '', 'a,b:c']) s.sendString(x);
    expect(t.value().toString()).toBe('5:hello,0:,5:a,b:c,');
    for (const size of [1, 2, 4, 100]) {
      const r = new NetstringRecorder();
      feed(r, chunk(t.value(), [size]));
      expect(r.events).toEqual([hex('hello'), hex(''), hex('a,b:c')]);
    }
  });

  test.each([
    ['a missing comma', '3:abcX', /not terminated by a comma/],
    ['no length', ':abc,', /does not start with a length/],
    ['a non-digit in the length', '1x:a,', /bad character/],
    ['a leading zero', '01:a,', /leading zero/],
    ['a length over MAX_LENGTH', '100000:', /over the maximum of 99999/],
    ['plain text', 'GET / HTTP/1.0\r\n', /does not start with a length/],
  ])('%s drops the connection with a NetstringParseError', (_what, wire, message) => {
    for (const size of [1, 100]) {
      events = [];
      const r = new NetstringRecorder();
      const t = feed(r, chunk(Buffer.concat([b('2:ok,'), b(wire), b('2:no,')]), [size]));
      expect(r.events).toEqual([hex('ok')]);
      expect(t.disconnecting).toBe(true);
      expect(r.brokenPeer).toBe(true);
      expect(r.parseError).toBeInstanceOf(NetstringParseError);
      expect(r.parseError?.message).toMatch(message);
      expect(events.some((e) => e.level === 'warn' && message.test(e.message))).toBe(true);
    }
  });

  test('a string up to MAX_LENGTH is accepted, buffered no more than MAX_LENGTH', () => {
    const r = new NetstringRecorder();
    r.MAX_LENGTH = 5;
    const t = feed(r, []);
    for (const piece of chunk(b('5:abcde,'), [1])) {
      r.dataReceived(piece);
      expect(r.bufferedSize).toBeLessThanOrEqual(5);
    }
    expect(r.events).toEqual([hex('abcde')]);
    expect(t.disconnecting).toBe(false);
  });
});
