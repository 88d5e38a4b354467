/** TextLineReceiver: lines as strings, one decode per read, the same limits as LineOnlyReceiver. */
import { TextLineReceiver } from '../lib/protocols/line-text';
import type { Recorder } from './helpers/recorders';
import { chunk, feed } from './helpers/recorders';
import { rng } from './helpers/rng';
import { StringTransport } from './helpers/string-transport';

const b = (s: string, enc: BufferEncoding = 'latin1'): Buffer => Buffer.from(s, enc);

/** Records every line (as received) and every length error (with the bytes handed over). */
class TextRecorder extends TextLineReceiver implements Recorder {
  events: string[] = [];

  override lineReceived(line: string): void {
    this.events.push(`line:${line}`);
  }

  override lineLengthExceeded(line: Buffer): void {
    this.events.push(`exceeded:${line.toString(this.encoding)}`);
    super.lineLengthExceeded(line);
  }
}

/** A TextRecorder decoding UTF-8, with an optional delimiter and MAX_LENGTH. */
function utf8Recorder(delimiter = '\r\n', max = 16384): TextRecorder {
  const r = new TextRecorder();
  r.encoding = 'utf8';
  r.delimiter = delimiter;
  r.MAX_LENGTH = max;
  return r;
}

/**
 * Byte sequences to mix: valid characters of every length, invalid and
 * overlong sequences, truncated ones, encoded surrogates, the UTF-8 of
 * U+FFFD itself, and delimiters right after a lead byte.
 */
const UTF8_PIECES: number[][] = [
  [0x61], [0x62, 0x63], [0x0d, 0x0a], [0x0d], [0x0a], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80],
  [0xff], [0xfe], [0x80], [0xbf, 0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80],
  [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbf, 0xbd], [0xc3, 0x0d, 0x0a], [0xe2, 0xe2, 0x82, 0xac],
];

/** About n bytes of UTF8_PIECES, valid and invalid mixed. */
function utf8Mix(rand: () => number, n: number): Buffer {
  const bytes: number[] = [];
  while (bytes.length < n) bytes.push(...UTF8_PIECES[Math.floor(rand() * UTF8_PIECES.length)]);
  return Buffer.from(bytes);
}

/** The oracle: each range of input ended by delim, decoded on its own, and how many bytes follow the last. */
function utf8Lines(input: Buffer, delim: Buffer): { lines: string[]; rest: number } {
  const lines: string[] = [];
  let at = 0;
  for (let idx = input.indexOf(delim); idx >= 0; idx = input.indexOf(delim, at)) {
    lines.push(`line:${input.toString('utf8', at, idx)}`);
    at = idx + delim.length;
  }
  return { lines, rest: input.length - at };
}

describe('TextLineReceiver', () => {
  test('splits lines on CRLF whatever the chunk size, as strings', () => {
    const input = b('first\r\nsecond line\r\n\r\nlast\r\npartial');
    for (let size = 1; size <= input.length; size++) {
      const r = new TextRecorder();
      feed(r, chunk(input, [size]));
      expect([size, r.events]).toEqual([size, ['line:first', 'line:second line', 'line:', 'line:last']]);
      expect(r.bufferedSize).toBe(7);
    }
  });

  test('latin1 hands over one character a byte; utf8 decodes characters split across reads', () => {
    const lat = new TextRecorder();
    feed(lat, [Buffer.from([0x61, 0xe9, 0xff, 13, 10])]);
    expect(lat.events).toEqual(['line:a\u00e9\u00ff']);

    const input = b('h\u00e9llo w\u00f6rld \u20ac\r\n\u{1f600} two\r\n', 'utf8');
    for (let size = 1; size <= input.length; size++) {
      const r = new TextRecorder();
      r.encoding = 'utf8';
      feed(r, chunk(input, [size]));
      expect([size, r.events]).toEqual([size, ['line:h\u00e9llo w\u00f6rld \u20ac', 'line:\u{1f600} two']]);
    }
  });

  test('a delimiter split across reads, or one that overlaps itself, splits left to right', () => {
    const r = new TextRecorder();
    r.delimiter = 'aab';
    feed(r, [b('xaa'), b('ab'), b('ya'), b('a'), b('bz')]);
    expect(r.events).toEqual(['line:xa', 'line:y']);
    for (let size = 1; size <= 5; size++) {
      const s = new TextRecorder();
      s.delimiter = 'aa';
      feed(s, chunk(b('xaaaby'), [size]));
      expect([size, s.events, s.bufferedSize]).toEqual([size, ['line:x'], 3]);
    }
  });

  test('a delimiter set on the instance is used from the next read on', () => {
    const r = new TextRecorder();
    r.delimiter = '\n';
    feed(r, [b('a\nb\r\nc')]);
    expect(r.events).toEqual(['line:a', 'line:b\r']);
    r.delimiter = 'XY';
    r.dataReceived(b('dXYe'));
    expect(r.events).toEqual(['line:a', 'line:b\r', 'line:cd']);
    r.delimiter = '';
    expect(() => r.dataReceived(b('f'))).toThrow(TypeError);
  });

  test('a latin1 delimiter with a character latin1 cannot encode is refused; in utf8 it is a delimiter like any', () => {
    const r = new TextRecorder();
    r.delimiter = '\u20ac';
    expect(() => r.dataReceived(b('a\xacb'))).toThrow(/latin1 cannot encode/);
    expect(r.events).toEqual([]);
    const u = utf8Recorder('\u20ac');
    feed(u, [b('a\u20acb', 'utf8'), b('\u20ac', 'utf8')]);
    expect(u.events).toEqual(['line:a', 'line:b']);
  });

  test('a line of exactly MAX_LENGTH bytes is delivered; one byte more drops the connection', () => {
    const ok = new TextRecorder();
    ok.MAX_LENGTH = 8;
    expect(feed(ok, [b('12345678\r\n')]).disconnecting).toBe(false);
    expect(ok.events).toEqual(['line:12345678']);

    for (const sizes of [[100], [1], [3]]) {
      const bad = new TextRecorder();
      bad.MAX_LENGTH = 8;
      const t = feed(bad, chunk(b('ok\r\n123456789\r\nnever\r\n'), sizes));
      expect([sizes, bad.events.slice(0, 2), t.disconnecting]).toEqual([sizes, ['line:ok', expect.stringMatching(/^exceeded:1234/)], true]);
      expect(bad.events.length).toBe(2);
    }
  });

  test('MAX_LENGTH counts encoded bytes: three-byte characters reach it three times sooner', () => {
    const r = new TextRecorder();
    r.encoding = 'utf8';
    r.MAX_LENGTH = 9;
    const t = feed(r, [b('\u20ac\u20ac\u20ac\r\n\u20ac\u20ac\u20acx\r\nafter\r\n', 'utf8')]);
    expect(r.events).toEqual(['line:\u20ac\u20ac\u20ac', 'exceeded:\u20ac\u20ac\u20acx\r\nafter\r\n']);
    expect(t.disconnecting).toBe(true);
  });

  test('utf8 finds line ends in the bytes: invalid bytes before a delimiter lose nothing after it', () => {
    const r = utf8Recorder();
    feed(r, [b('\xff\r\nABCDEF'), b('GH\r\n')]);
    expect(r.events).toEqual(['line:\ufffd', 'line:ABCDEFGH']);

    const overlong = utf8Recorder();
    feed(overlong, [b('\xc0\x80\xc0\x80\r\nKEEPME'), b('\r\n')]);
    expect(overlong.events).toEqual([`line:${b('\xc0\x80\xc0\x80').toString('utf8')}`, 'line:KEEPME']);
    expect(overlong.bufferedSize).toBe(0);
  });

  test('utf8 MAX_LENGTH counts the bytes received, not those of the decoded text', () => {
    const r = utf8Recorder('\r\n', 30);
    const t = feed(r, [b(`${'\xff'.repeat(20)}\r\nnext\r\n`)]);
    expect(r.events).toEqual([`line:${'\ufffd'.repeat(20)}`, 'line:next']);
    expect(t.disconnecting).toBe(false);

    const exact = utf8Recorder('\r\n', 20);
    feed(exact, [b(`${'\xff'.repeat(20)}\r\n`)]);
    expect(exact.events).toEqual([`line:${'\ufffd'.repeat(20)}`]);

    const over = utf8Recorder('\r\n', 20);
    expect(feed(over, [b(`${'\xff'.repeat(21)}\r\n`)]).disconnecting).toBe(true);
    expect(over.events).toEqual([expect.stringMatching(/^exceeded:/)]);
  });

  test('utf8 lines are the delimited byte ranges decoded, for any mix of valid and invalid UTF-8 in two reads', () => {
    for (const [seed, delimiter] of [[1, '\r\n'], [2, '\n'], [3, '\u20ac'], [4, '\r\n'], [5, '\u00e9']] as const) {
      const input = utf8Mix(rng(seed), 160);
      const want = utf8Lines(input, Buffer.from(delimiter, 'utf8'));
      for (let cut = 0; cut <= input.length; cut++) {
        const r = utf8Recorder(delimiter);
        feed(r, [input.subarray(0, cut), input.subarray(cut)]);
        expect([seed, cut, r.events, r.bufferedSize]).toEqual([seed, cut, want.lines, want.rest]);
      }
    }
  });

  test('an endless line without delimiter is cut off at MAX_LENGTH + delimiter length, whatever the reads', () => {
    for (const sizes of [[1], [7], [1000]]) {
      const r = new TextRecorder();
      r.MAX_LENGTH = 16;
      const t = feed(r, chunk(b('y'.repeat(40)), sizes));
      expect([sizes, r.events.length, t.disconnecting]).toEqual([sizes, 1, true]);
      expect(r.events[0]).toMatch(/^exceeded:y{18,}$/);
    }
  });

  test('stops delivering lines once the protocol drops the connection', () => {
    const got: string[] = [];
    class R extends TextLineReceiver {
      override lineReceived(line: string): void {
        got.push(line);
        if (line === 'quit') this.transport.loseConnection();
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('a\r\nquit\r\nb\r\n'));
    r.dataReceived(b('c\r\n'));
    expect(got).toEqual(['a', 'quit']);
  });

  test('sendLine writes the line and the delimiter, encoded, in one write', () => {
    const r = new TextLineReceiver();
    const t = new StringTransport();
    r.makeConnection(t);
    r.sendLine('hi \u00e9');
    r.encoding = 'utf8';
    r.delimiter = '\n';
    r.sendLine('\u20ac');
    expect(t.writes).toEqual([b('hi \u00e9\r\n'), b('\u20ac\n', 'utf8')]);
  });

  test('sendLine hands the transport a string where its UTF-8 is the encoded line, bytes otherwise', () => {
    const written: (string | Uint8Array)[] = [];
    class Recording extends StringTransport {
      override write(data: Buffer | Uint8Array | string): void {
        written.push(data);
        super.write(data);
      }
    }
    const r = new TextLineReceiver();
    const t = new Recording();
    r.makeConnection(t);
    r.sendLine('GET a'); // latin1, ASCII: the same bytes as UTF-8
    r.sendLine('caf\u00e9'); // latin1, not ASCII: one byte for the e-acute, two in UTF-8
    r.encoding = 'utf8';
    r.sendLine('caf\u00e9 \u20ac \ud83d\ude00 \ud800'); // UTF-8: a lone surrogate is U+FFFD either way
    expect(written.map((w) => typeof w)).toEqual(['string', 'object', 'string']);
    expect(t.writes).toEqual([b('GET a\r\n'), b('caf\u00e9\r\n'), Buffer.from('caf\u00e9 \u20ac \ud83d\ude00 \ud800\r\n', 'utf8')]);
    expect(t.writes[1]).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]));
  });

  test('sendLine refuses anything but a string with a TypeError, and writes nothing', () => {
    const r = new TextLineReceiver();
    const t = new StringTransport();
    r.makeConnection(t);
    expect(() => r.sendLine(42 as unknown as string)).toThrow(new TypeError('sendLine: line must be a string, got number'));
    expect(() => r.sendLine(null as unknown as string)).toThrow(new TypeError('sendLine: line must be a string, got null'));
    expect(() => r.sendLine(Buffer.from('x') as unknown as string)).toThrow(TypeError);
    expect(t.writes).toEqual([]);
  });
});
