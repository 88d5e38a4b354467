/** LineReceiver and LineOnlyReceiver: splitting, limits, raw mode, pausing, views. */
import { LineReceiver } from '../lib/protocols/line';
import { LineOnlyReceiver } from '../lib/protocols/line-only';
import { Int16StringReceiver } from '../lib/protocols/int-string';
import { NetstringReceiver } from '../lib/protocols/netstring';
import { LineOnlyRecorder, LineRecorder, chunk, feed } from './helpers/recorders';
import { StringTransport } from './helpers/string-transport';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('LineReceiver', () => {
  test('splits lines on CRLF whatever the chunk size', () => {
    const input = b('first\r\nsecond line\r\n\r\nlast\r\npartial');
    for (let size = 1; size <= input.length; size++) {
      const r = new LineRecorder();
      feed(r, chunk(input, [size]));
      expect(r.events).toEqual(['line:first', 'line:second line', 'line:', 'line:last']);
      expect(r.clearLineBuffer().toString()).toBe('partial');
    }
  });

  test('a string delimiter set on the instance is used from the next line on', () => {
    const r = new LineRecorder();
    r.delimiter = '\n';
    feed(r, [b('a\nb\r\nc')]);
    expect(r.events).toEqual(['line:a', 'line:b\r']);
    r.delimiter = Buffer.from('XY');
    r.dataReceived(b('dXYe'));
    expect(r.events).toEqual(['line:a', 'line:b\r', 'line:cd']);
  });

  test('a subclass may override the delimiter', () => {
    class Semi extends LineRecorder {
      override delimiter: Buffer | string = ';';
    }
    const r = new Semi();
    feed(r, chunk(b('x;yy;zzz;'), [2]));
    expect(r.events).toEqual(['line:x', 'line:yy', 'line:zzz']);
  });

  test('a delimiter split across chunks is found', () => {
    const r = new LineRecorder();
    r.delimiter = 'aab';
    feed(r, [b('xaa'), b('ab'), b('ya'), b('a'), b('bz')]);
    expect(r.events).toEqual(['line:xa', 'line:y']);
  });

  test('a line of exactly MAX_LENGTH is delivered; one byte more drops the connection', () => {
    const ok = new LineRecorder();
    ok.MAX_LENGTH = 8;
    const t1 = feed(ok, [b('12345678\r\n')]);
    expect(ok.events).toEqual(['line:12345678']);
    expect(t1.disconnecting).toBe(false);

    for (const sizes of [[100], [1], [3]]) {
      const bad = new LineRecorder();
      bad.MAX_LENGTH = 8;
      const t2 = feed(bad, chunk(b('ok\r\n123456789\r\nnever\r\n'), sizes));
      expect(bad.events).toEqual(['line:ok', 'exceeded']);
      expect(t2.disconnecting).toBe(true);
    }
  });

  test('an endless line without delimiter is cut off at MAX_LENGTH + delimiter length', () => {
    const r = new LineRecorder();
    r.MAX_LENGTH = 10;
    const t = feed(r, []);
    for (let i = 0; i < 12 && !t.disconnecting; i++) {
      r.dataReceived(b('x'));
      expect(r.bufferedSize).toBeLessThanOrEqual(12);
    }
    expect(r.events).toEqual(['exceeded']);
    expect(t.disconnecting).toBe(true);
    r.dataReceived(b('more\r\n'));
    expect(r.events).toEqual(['exceeded']);
  });

  test('lineLengthExceeded gets the long line with what followed it', () => {
    const seen: string[] = [];
    class R extends LineReceiver {
      override MAX_LENGTH = 3;
      override lineLengthExceeded(line: Buffer): void {
        seen.push(line.toString());
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('abcdef\r\nrest'));
    expect(seen).toEqual(['abcdef\r\nrest']);
  });

  test('raw mode switches in the middle of a chunk and back with setLineMode(extra)', () => {
    const input = b('hello\r\nlen 5\r\n12345more\r\nlen 3\r\nabc\r\ntail\r\n');
    for (const sizes of [[1000], [1], [2, 5, 3], [7]]) {
      const r = new LineRecorder();
      feed(r, chunk(input, sizes));
      expect(r.events).toEqual(['line:hello', 'line:len 5', 'raw:12345', 'line:more', 'line:len 3', 'raw:abc', 'line:', 'line:tail']);
    }
  });

  test('setRawMode between chunks hands a held partial line to rawDataReceived', () => {
    const raw: string[] = [];
    class R extends LineReceiver {
      override rawDataReceived(d: Buffer): void {
        raw.push(d.toString());
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('par'));
    r.setRawMode();
    r.dataReceived(b('tial\r\n'));
    expect(raw).toEqual(['partial\r\n']);
    expect(r.lineMode).toBe(false);
  });

  test('flipping between line and raw mode thousands of times in one chunk neither recurses nor loses bytes', () => {
    const events: string[] = [];
    class Flipper extends LineReceiver {
      override delimiter = '\n';
      override lineReceived(line: Buffer): void {
        events.push(line.toString());
        this.setRawMode();
      }
      override rawDataReceived(data: Buffer): void {
        events.push(`raw:${data.subarray(0, 1).toString()}`);
        this.setLineMode(data.subarray(1));
      }
    }
    const r = new Flipper();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('x\nR'.repeat(20000)));
    expect(events).toHaveLength(40000);
    expect(events.slice(0, 4)).toEqual(['x', 'raw:R', 'x', 'raw:R']);
    expect(new Set(events)).toEqual(new Set(['x', 'raw:R']));
  });

  test('clearLineBuffer inside lineReceived returns the rest and stops delivery', () => {
    const r = new LineRecorder();
    r.clearCommand = true;
    feed(r, [b('a\r\nclear\r\nb\r\nc')]);
    expect(r.events).toEqual(['line:a', 'line:clear', 'cleared:b\r\nc']);
    r.dataReceived(b('\r\n'));
    expect(r.events[r.events.length - 1]).toBe('line:');
  });

  test('a paused receiver buffers, delivers nothing, and pauses its transport', () => {
    const r = new LineRecorder();
    const t = new StringTransport();
    r.makeConnection(t);
    r.dataReceived(b('one\r\npause\r\ntwo\r\nthr'));
    expect(r.events).toEqual(['line:one', 'line:pause']);
    expect(r.paused).toBe(true);
    expect(t.producerState).toBe('paused');
    r.dataReceived(b('ee\r\n'));
    expect(r.events).toEqual(['line:one', 'line:pause']);
    expect(r.bufferedSize).toBe('two\r\nthree\r\n'.length);
    r.resumeProducing();
    expect(t.producerState).toBe('producing');
    expect(r.events).toEqual(['line:one', 'line:pause', 'line:two', 'line:three']);
    expect(r.bufferedSize).toBe(0);
  });

  test('stopProducing stops delivery and stops the transport', () => {
    const r = new LineRecorder();
    const t = new StringTransport();
    r.makeConnection(t);
    r.stopProducing();
    r.dataReceived(b('x\r\n'));
    expect(r.events).toEqual([]);
    expect(t.producerState).toBe('stopped');
  });

  test('dataReceived called from lineReceived is queued behind the current chunk', () => {
    const got: string[] = [];
    class R extends LineReceiver {
      override lineReceived(line: Buffer): void {
        got.push(line.toString());
        if (line.toString() === 'a') this.dataReceived(b('inner\r\n'));
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('a\r\nb\r\n'));
    expect(got).toEqual(['a', 'b', 'inner']);
  });

  test('lines kept by the protocol are never overwritten by later input', () => {
    const kept: Buffer[] = [];
    class R extends LineReceiver {
      override lineReceived(line: Buffer): void {
        kept.push(line);
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const line = `line-${i}-${'x'.repeat(i % 37)}`;
      expected.push(line);
      const bytes = b(`${line}\r\n`);
      for (const piece of chunk(bytes, [1 + (i % 5)])) r.dataReceived(piece);
    }
    expect(kept.map((k) => k.toString())).toEqual(expected);
  });

  test('sendLine writes the line and the delimiter in one write', () => {
    const r = new LineReceiver();
    const t = new StringTransport();
    r.makeConnection(t);
    r.sendLine('hi');
    r.delimiter = '\n';
    r.sendLine(b('there'));
    expect(t.writes.map((w) => w.toString())).toEqual(['hi\r\n', 'there\n']);
  });

  test('sendLine of a string makes the bytes a Buffer line and the delimiter would, as one write, with any delimiter', () => {
    for (const R of [LineReceiver, LineOnlyReceiver]) {
      const r = new R();
      const t = new StringTransport();
      r.makeConnection(t);
      const delimiter = Buffer.from('\r\n');
      r.delimiter = delimiter;
      // UTF-8 text, a lone surrogate at the end (an ASCII delimiter cannot complete it), then a non-ASCII
      // delimiter (the line and it go as bytes), one changed in place back to ASCII, and a string one.
      const lines = ['h\u00e9 \u20ac \u{1d11e}', 'lone \ud83d', 'x'];
      const want: Buffer[] = [];
      for (const line of lines) {
        r.sendLine(line);
        want.push(Buffer.concat([Buffer.from(line), delimiter]));
      }
      r.delimiter = Buffer.from([0xff, 0x0a]);
      r.sendLine('\u00e9');
      want.push(Buffer.from([0xc3, 0xa9, 0xff, 0x0a]));
      (r.delimiter as Buffer)[0] = 0x7c; // '|': changed in place
      r.sendLine('a');
      want.push(Buffer.from('a|\n'));
      (r.delimiter as Buffer)[1] = 0x80; // and in place to non-ASCII again
      r.sendLine('c');
      want.push(Buffer.from([0x63, 0x7c, 0x80]));
      r.delimiter = '\u00e9';
      r.sendLine('b');
      want.push(Buffer.from('b\u00e9'));
      expect(t.writes).toEqual(want);
    }
  });

  test('stops delivering lines once the protocol drops the connection', () => {
    const got: string[] = [];
    class R extends LineReceiver {
      override lineReceived(line: Buffer): void {
        got.push(line.toString());
        if (line.toString() === 'quit') this.transport?.loseConnection();
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('a\r\nquit\r\nb\r\n'));
    expect(got).toEqual(['a', 'quit']);
  });
});

describe('LineReceiver.lineText', () => {
  /** Records, for every line, lineText(line) beside line.toString('latin1'). */
  class TextRecorder extends LineReceiver {
    events: string[] = [];
    got: [string, string][] = [];
    override lineReceived(line: Buffer): void {
      this.got.push([this.lineText(line), line.toString('latin1')]);
      if (line.toString('latin1') === 'pause') this.pauseProducing();
    }
  }

  // every byte but CR and LF, in lines of every length up to 40
  const bytes: number[] = [];
  for (let n = 0, v = 0; n < 40; n++) {
    for (let i = 0; i < n; i++, v++) bytes.push(v % 256 === 13 || v % 256 === 10 ? 0x80 : v % 256);
    bytes.push(13, 10);
  }
  const input = Buffer.from(bytes);

  test('is line.toString("latin1") for every line, whatever the chunk size', () => {
    for (const size of [1, 2, 3, 7, 16, 100, input.length]) {
      const r = new TextRecorder();
      feed(r, chunk(input, [size]));
      expect(r.got.length).toBe(40);
      for (const [text, expected] of r.got) expect(text).toBe(expected);
    }
  });

  test('a line kept from an earlier read reads its own bytes, not the later read at its offset', () => {
    const seen: string[] = [];
    class R extends LineReceiver {
      kept: Buffer | null = null;
      override lineReceived(line: Buffer): void {
        if (this.kept === null) {
          this.lineText(line);
          this.kept = line;
        } else {
          seen.push(this.lineText(line), this.lineText(this.kept));
        }
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('first\r\n'));
    r.dataReceived(b('other\r\n'));
    expect(seen).toEqual(['other', 'first']);
  });

  test('reads as the bytes arrived, and decodes any other Buffer as it is', () => {
    const seen: string[] = [];
    class R extends LineReceiver {
      override lineReceived(line: Buffer): void {
        seen.push(this.lineText(line));
        line[0] = 0x5a;
        seen.push(this.lineText(line), this.lineText(b('\xe9t\xe9')));
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('abc\r\n'));
    expect(seen).toEqual(['abc', 'abc', '\xe9t\xe9']);
  });

  test('once a read is decoded, its later lines end where they did then, whatever is written into its memory after', () => {
    const seen: string[] = [];
    class R extends LineReceiver {
      override lineReceived(line: Buffer): void {
        seen.push(`${this.lineText(line)}:${line.length}`);
        // Reach past this line into the read's memory and turn the next line's "cd" into a delimiter.
        if (seen.length === 1) new Uint8Array(line.buffer, line.byteOffset + 4, 2).set([13, 10]);
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('a\r\nbcd\r\ne\r\n'));
    expect(seen).toEqual(['a:1', 'bcd:3', 'e:1']);
  });

  test('is right after a pause mid-read, a raw stretch, and a clearLineBuffer', () => {
    const r = new TextRecorder();
    feed(r, [b('one\r\npause\r\ntwo\r\nth'), b('ree\r\nfour\r\n')]);
    expect(r.got.map(([t]) => t)).toEqual(['one', 'pause', 'two', 'three', 'four']);
    for (const [text, expected] of r.got) expect(text).toBe(expected);

    const raw = new LineRecorder();
    const texts: string[] = [];
    raw.lineReceived = function (line: Buffer): void {
      texts.push(this.lineText(line));
      LineRecorder.prototype.lineReceived.call(this, line);
    };
    feed(raw, [b('a\r\nlen 3\r\nxyzb\r\nclear\r\nc\r\n')]);
    raw.clearCommand = true;
    raw.dataReceived(b('d\r\nclear\r\ne\r\n'));
    raw.dataReceived(b('f\r\n'));
    expect(texts).toEqual(['a', 'len 3', 'b', 'clear', 'c', 'd', 'clear', 'f']);
  });

  test('once a read is decoded, its lines end where its text says, with any delimiter, changed mid-read too', () => {
    const seen: string[] = [];
    class R extends LineReceiver {
      override delimiter: Buffer | string = '\n';
      override lineReceived(line: Buffer): void {
        const text = this.lineText(line);
        seen.push(`${text}=${line.toString('latin1')}`);
        if (text === 'to-bars') this.delimiter = Buffer.from('||');
      }
    }
    const r = new R();
    r.makeConnection(new StringTransport());
    r.dataReceived(b('a\r\n\xff\x80\nto-bars\nx\ny||stomp||z||tail'));
    r.dataReceived(b('end||'));
    expect(seen).toEqual(['a\r=a\r', '\xff\x80=\xff\x80', 'to-bars=to-bars', 'x\ny=x\ny', 'stomp=stomp', 'z=z', 'tailend=tailend']);
  });

  test('a Buffer delimiter changed in place mid-read splits the rest of the read, decoded or not', () => {
    for (const decode of [false, true]) {
      const seen: string[] = [];
      const delimiter = Buffer.from('\n');
      class R extends LineReceiver {
        override lineReceived(line: Buffer): void {
          seen.push(decode ? this.lineText(line) : line.toString('latin1'));
          if (seen.length === 1) delimiter[0] = 0x7c; // '|'
        }
      }
      const r = new R();
      r.delimiter = delimiter;
      r.makeConnection(new StringTransport());
      r.dataReceived(b('a\nb|c\nd|'));
      expect(seen).toEqual(['a', 'b', 'c\nd']);
    }
  });

  test('keeps nothing of a read once it is parsed (a kept view would pin its memory)', () => {
    const r = new TextRecorder();
    feed(r, [b('a\r\nb\r\npartial')]);
    expect((r as unknown as { reading: unknown }).reading).toBeNull();
  });
});

describe('LineOnlyReceiver', () => {
  test('splits lines in any chunking and keeps views intact', () => {
    const input = b('alpha\r\nbeta\r\n\r\ngamma\r\nde');
    for (let size = 1; size <= input.length; size++) {
      const r = new LineOnlyRecorder();
      feed(r, chunk(input, [size]));
      expect(r.events).toEqual(['line:alpha', 'line:beta', 'line:', 'line:gamma']);
      expect(r.bufferedSize).toBe(2);
    }
  });

  test('a too-long line drops the connection', () => {
    const r = new LineOnlyRecorder();
    r.MAX_LENGTH = 4;
    const t = feed(r, [b('abcd\r\nabcde\r\nabc\r\n')]);
    expect(r.events).toEqual(['line:abcd', 'exceeded']);
    expect(t.disconnecting).toBe(true);
  });

  test('sendLine appends the delimiter', () => {
    const r = new LineOnlyReceiver();
    const t = new StringTransport();
    r.makeConnection(t);
    r.sendLine('x');
    expect(t.value().toString()).toBe('x\r\n');
  });
});

describe('lines and strings are Buffer views of the chunk read', () => {
  /** A chunk at a non-zero offset of a larger ArrayBuffer, as reads and pooled Buffers are. */
  const inside = (s: string): Buffer => {
    const whole = Buffer.from(`####${s}####`, 'latin1');
    return whole.subarray(4, 4 + s.length);
  };
  const checkView = (got: Buffer, data: Buffer, at: number, text: string): void => {
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got).toBeInstanceOf(Buffer);
    expect(got.constructor).toBe(Buffer);
    expect(got.toString('latin1')).toBe(text);
    expect(got.buffer).toBe(data.buffer);
    expect(got.byteOffset).toBe(data.byteOffset + at);
    // a Buffer in every way: its own views and methods work
    expect(got.subarray(1).toString('latin1')).toBe(text.slice(1));
    expect(Buffer.concat([got, got]).toString('latin1')).toBe(text + text);
  };

  test.each([
    ['LineReceiver', (): LineReceiver & { got: Buffer[] } => new (class extends LineReceiver {
      got: Buffer[] = [];
      override lineReceived(line: Buffer): void { this.got.push(line); }
    })()],
    ['LineOnlyReceiver', (): LineOnlyReceiver & { got: Buffer[] } => new (class extends LineOnlyReceiver {
      got: Buffer[] = [];
      override lineReceived(line: Buffer): void { this.got.push(line); }
    })()],
  ])('%s', (_name, make) => {
    const r = make();
    r.makeConnection(new StringTransport());
    const data = inside('one\r\ntwo!\r\n');
    r.dataReceived(data);
    expect(r.got).toHaveLength(2);
    checkView(r.got[0], data, 0, 'one');
    checkView(r.got[1], data, 5, 'two!');
  });

  test('Int16StringReceiver and NetstringReceiver', () => {
    const got: Buffer[] = [];
    const i16 = new (class extends Int16StringReceiver {
      override stringReceived(s: Buffer): void { got.push(s); }
    })();
    i16.makeConnection(new StringTransport());
    const d1 = inside('\x00\x03abc\x00\x02de');
    i16.dataReceived(d1);
    const ns = new (class extends NetstringReceiver {
      override stringReceived(s: Buffer): void { got.push(s); }
    })();
    ns.makeConnection(new StringTransport());
    const d2 = inside('5:hello,');
    ns.dataReceived(d2);
    expect(got).toHaveLength(3);
    checkView(got[0], d1, 2, 'abc');
    checkView(got[1], d1, 7, 'de');
    checkView(got[2], d2, 2, 'hello');
  });
});
