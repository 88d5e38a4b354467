/**
 * The HTTP/1.1 request parser alone (no sockets): what it accepts, what it
 * refuses with which status, and that it gives the same answer however the
 * bytes are split across reads.
 */
import { CHUNKED } from '../lib/web/framing';
import { parseHead, RequestHead } from '../lib/web/head';
import { KNOWN_METHODS, methodAt } from '../lib/web/methods';
import { ParserLimits, ParserSink, RequestParser } from '../lib/web/parser';

interface Message {
  method: string;
  target: string;
  minor: number;
  headers: [string, string[]][];
  length: number;
  body: string;
}

/** Records what the parser reports; `stopAfter` messages make messageEnded say stop. */
class Sink implements ParserSink {
  messages: Message[] = [];
  failed = 0;
  private cur: Message | null = null;
  constructor(private readonly stopAfter = Infinity) {}
  headReceived(head: RequestHead, length: number): number {
    this.cur = { method: head.method, target: head.target, minor: head.minor, headers: [...head.headers.getAllRawHeaders()], length, body: '' };
    return 0;
  }
  bodyReceived(data: Buffer): void {
    this.cur!.body += data.toString('latin1');
  }
  messageEnded(): boolean {
    this.messages.push(this.cur!);
    return this.messages.length < this.stopAfter;
  }
  parseFailed(status: number): void {
    expect(this.failed).toBe(0);
    this.failed = status;
  }
}

const LIMITS: ParserLimits = { maxHeaderBytes: 1024, maxRequestLine: 256, maxBodyBytes: 4096, maxHeaders: 100 };

function parse(text: string | Buffer, split = 0, limits = LIMITS): Sink {
  const sink = new Sink();
  const p = new RequestParser(sink, limits);
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  if (split === 0) {
    expect(p.feed(bytes)).toBe(bytes.length);
  } else {
    for (let i = 0; i < bytes.length; i += split) p.feed(Buffer.from(bytes.subarray(i, i + split)));
  }
  return sink;
}

/** Parses `text` whole, byte by byte and at every two-way split; all must agree. */
function parseEveryWay(text: string): Sink {
  const whole = parse(text);
  const strip = (s: Sink): unknown => ({ m: s.messages, f: s.failed });
  expect(strip(parse(text, 1))).toEqual(strip(whole));
  const bytes = Buffer.from(text, 'latin1');
  for (let cut = 1; cut < bytes.length; cut++) {
    const sink = new Sink();
    const p = new RequestParser(sink, LIMITS);
    p.feed(Buffer.from(bytes.subarray(0, cut)));
    p.feed(Buffer.from(bytes.subarray(cut)));
    expect(strip(sink)).toEqual(strip(whole));
  }
  return whole;
}

describe('RequestParser: accepted requests', () => {
  it('parses a request line and headers, lower-casing names and trimming values', () => {
    const s = parseEveryWay('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing:  spaced value \t\r\nx-thing: two\r\n\r\n');
    expect(s.failed).toBe(0);
    expect(s.messages).toEqual([
      { method: 'GET', target: '/a?b=1', minor: 1, headers: [['host', ['x']], ['x-thing', ['spaced value', 'two']]], length: 0, body: '' },
    ]);
  });

  it('reads a Content-Length body and the next pipelined request', () => {
    const s = parseEveryWay('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.0\r\n\r\n');
    expect(s.messages.map((m) => [m.method, m.target, m.minor, m.body])).toEqual([
      ['POST', '/', 1, 'hello'],
      ['GET', '/2', 0, ''],
    ]);
  });

  it('decodes a chunked body with extensions and trailers', () => {
    const s = parseEveryWay('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 ;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    expect(s.failed).toBe(0);
    expect(s.messages.map((m) => [m.length, m.body])).toEqual([
      [CHUNKED, 'hello, world!!!'],
      [0, ''],
    ]);
  });

  it('skips chunk extensions of every form RFC 9112 7.1.1 allows', () => {
    const exts = ['5;a', '5;a=b', '5 ; a = b ;c', '5;a="q \\" ;="', '5;a="";b=c', '5;\ta\t=\t"x"'];
    for (const line of exts) {
      const s = parseEveryWay(`POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${line}\r\nhello\r\n0;last=1\r\n\r\n`);
      expect([line, s.failed, s.messages.map((m) => m.body)]).toEqual([line, 0, ['hello']]);
    }
  });

  it('skips empty lines before a request line', () => {
    expect(parseEveryWay('\r\n\r\nGET / HTTP/1.1\r\n\r\n').messages).toHaveLength(1);
  });

  it('accepts obs-text in values', () => {
    const s = parse('POST / HTTP/1.1\r\nContent-Length: 2\r\nX: caf\xe9\r\n\r\nok');
    expect(s.failed).toBe(0);
    expect(s.messages[0].body).toBe('ok');
  });

  it('stops after a message when the sink says so, and resumes from the returned offset', () => {
    const sink = new Sink(1);
    const p = new RequestParser(sink, LIMITS);
    const bytes = Buffer.from('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n');
    const used = p.feed(bytes);
    expect(used).toBe(19);
    expect(sink.messages).toHaveLength(1);
    expect(p.feed(bytes, used)).toBe(bytes.length);
    expect(sink.messages.map((m) => m.target)).toEqual(['/1', '/2']);
  });
});

describe('RequestParser: refused requests', () => {
  const cases: [string, string, number][] = [
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['differing Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
    ['equal repeated Content-Lengths', 'POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab', 400],
    ['a Content-Length list', 'POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab', 400],
    ['a signed Content-Length', 'POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc', 400],
    ['an empty Content-Length', 'POST / HTTP/1.1\r\nContent-Length:\r\n\r\n', 400],
    ['chunked not last', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    ['chunked twice', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['an unknown coding', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
    ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['a chunk size with a sign', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', 400],
    ['a huge chunk size', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', 400],
    ['chunk data without its CRLF', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nX: a\r\n  folded\r\n\r\n', 400],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
    ['a bad character in a name', 'GET / HTTP/1.1\r\nX(y): 1\r\n\r\n', 400],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX: a\0b\r\n\r\n', 400],
    ['a bare CR in a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n', 400],
    ['a bare CR after the version, a header behind it', 'POST / HTTP/1.1\rXContent-Length: 5\r\n\r\nhello', 400],
    ['a bare CR after the version', 'GET / HTTP/1.1\rHost: x\r\n\r\n', 400],
    ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n', 400],
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: x\n\n', 400],
    ['a bare LF after a header', 'GET / HTTP/1.1\r\nHost: x\n\r\n', 400],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\n\r\n', 400],
    ['no version', 'GET /\r\n\r\n', 400],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\n\r\n', 505],
    ['HTTP/1.2', 'GET / HTTP/1.2\r\n\r\n', 505],
    ['a space after a chunk size without an extension', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n', 400],
    ['a chunk extension with no name', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n', 400],
    ['a chunk extension with an empty name before its value', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n', 400],
    ['an empty chunk extension between two', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;;a\r\nabc\r\n0\r\n\r\n', 400],
    ['a chunk extension with an empty value', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\r\nabc\r\n0\r\n\r\n', 400],
    ['a chunk extension name that is not a token', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a@b\r\nabc\r\n0\r\n\r\n', 400],
    ['a chunk extension value that is not a token', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b c\r\nabc\r\n0\r\n\r\n', 400],
    ['a chunk extension quoted value not closed', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a="x\r\nabc\r\n0\r\n\r\n', 400],
    ['a control byte in a quoted chunk extension value', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a="\x01"\r\nabc\r\n0\r\n\r\n', 400],
    ['whitespace after the last chunk extension', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a \r\nabc\r\n0\r\n\r\n', 400],
    ['a control byte in the target', 'GET /\x01 HTTP/1.1\r\n\r\n', 400],
    ['an empty method', ' / HTTP/1.1\r\n\r\n', 400],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', 400],
    ['a Content-Length over maxBodyBytes', 'POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n', 413],
    ['a chunked body over maxBodyBytes', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n' + 'a'.repeat(2048) + '\r\n801\r\n', 413],
    ['a trailer without a colon', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad\r\n\r\n', 400],
  ];
  it.each(cases)('refuses %s', (_what, text, status) => {
    const s = parseEveryWay(text);
    expect(s.failed).toBe(status);
  });

  it('refuses a bad request line as soon as it is in, before the headers end', () => {
    expect(parse('\x16\x03\x01 not http at all\r\n').failed).toBe(400);
    expect(parse('GET / HTTP/1.1\r\nHost: x\r\n').failed).toBe(0);
    expect(parse('GET / HTTP/3.0\r\nHost: x\r\n', 4).failed).toBe(505);
  });

  it('parses nothing after a refusal', () => {
    const s = parse('GET / HTTP/1.1\r\nX: a\0\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    expect(s.failed).toBe(400);
    expect(s.messages).toEqual([]);
  });

  it('refuses an over-long request line with 400, before its end arrives', () => {
    expect(parse('GET /' + 'a'.repeat(300)).failed).toBe(400);
    expect(parse('GET /' + 'a'.repeat(300), 7).failed).toBe(400);
    expect(parse('GET /' + 'a'.repeat(300) + ' HTTP/1.1\r\n\r\n').failed).toBe(400);
  });

  it('refuses headers over maxHeaderBytes with 431, whole or trickled', () => {
    const big = 'GET / HTTP/1.1\r\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(30);
    expect(parse(big).failed).toBe(431);
    expect(parse(big, 3).failed).toBe(431);
    expect(parse(big + '\r\n').failed).toBe(431);
  });

  it('draws each limit at the same byte for a head read whole (one pass) and trickled (the careful path)', () => {
    // The request line may be maxRequestLine bytes with its CR; the head maxHeaderBytes in all.
    const line = (n: number): string => 'GET /' + 'a'.repeat(n - 15) + ' HTTP/1.1\r\n\r\n';
    const head = (n: number): string => 'GET / HTTP/1.1\r\nX: ' + 'v'.repeat(n - 23) + '\r\n\r\n';
    expect(Buffer.byteLength(head(LIMITS.maxHeaderBytes))).toBe(LIMITS.maxHeaderBytes);
    for (const [text, status] of [
      [line(LIMITS.maxRequestLine), 0],
      [line(LIMITS.maxRequestLine + 1), 400],
      [head(LIMITS.maxHeaderBytes), 0],
      [head(LIMITS.maxHeaderBytes + 1), 431],
    ] as [string, number][]) {
      expect(parse(text).failed).toBe(status);
      expect(parse(text, 1).failed).toBe(status);
      expect(parse(text, 100).failed).toBe(status);
    }
  });

  it('refuses more header fields than maxHeaders with 431, and takes exactly that many', () => {
    const limits = { ...LIMITS, maxHeaders: 5 };
    const head = (n: number): string => 'GET / HTTP/1.1\r\n' + 'X-N: 1\r\n'.repeat(n) + '\r\n';
    expect(parse(head(5), 0, limits).failed).toBe(0);
    expect(parse(head(5), 0, limits).messages).toHaveLength(1);
    expect(parse(head(6), 0, limits).failed).toBe(431);
    expect(parse(head(6), 2, limits).failed).toBe(431);
  });

  it('keeps a trickled head whole when its buffer holds an LF from earlier bytes past the end', () => {
    // The partial head's buffer is reused as it grows; bytes past what was received must never count.
    const text = 'GET /a HTTP/1.1\r\nHost: x\r\nX-Long: ' + 'v'.repeat(200) + '\r\n\r\n';
    expect(parse(text, 1).messages).toEqual(parse(text).messages);
    expect(parse(text, 33).messages).toEqual(parse(text).messages);
  });

  it('refuses a trailer section over maxHeaderBytes with 431', () => {
    const t = 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n' + 'X-T: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n'.repeat(40);
    expect(parse(t).failed).toBe(431);
    expect(parse(t, 5).failed).toBe(431);
  });
});

describe('RequestParser: what the server reads without building the Headers map', () => {
  it('notes Upgrade (any case) with the other fields the server acts on, and builds no map for them', () => {
    const text = 'GET /ws HTTP/1.1\r\nHost: x\r\nuPgRaDe: websocket\r\nConnection: Upgrade\r\nX-Seven: 7\r\n\r\n';
    const b = Buffer.from(text, 'latin1');
    const head = parseHead(b, 0, b.length, 100) as RequestHead;
    expect(head.upgrade).toEqual(['websocket']);
    expect(head.connection).toEqual(['Upgrade']);
    expect(head['built']).toBeNull();
    const plain = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Seven: 7\r\n\r\n', 'latin1');
    expect((parseHead(plain, 0, plain.length, 100) as RequestHead).upgrade).toBeUndefined();
  });
});

describe('methodAt: a known method is its interned constant, anything else is not one', () => {
  const at = (text: string): string | null => {
    const b = Buffer.from(`xx${text}yy`, 'latin1');
    return methodAt(b, 2, 2 + text.length);
  };

  it('finds every known method, each as the constant in KNOWN_METHODS', () => {
    for (const m of KNOWN_METHODS) expect([m, at(m)]).toEqual([m, m]);
  });

  it('finds none for another case, a prefix, a longer name, or a near miss of the same length', () => {
    for (const m of ['get', 'GEt', 'GE', 'GETS', 'GEX', 'XET', 'PUTT', 'POSt', 'M-SEARCh', '', 'BREW']) expect([m, at(m)]).toEqual([m, null]);
  });

  it('keeps the fields of heads with none, one and many of them, whole or split, in order', () => {
    for (const fields of ['', 'Host: a\r\n', 'Host: a\r\nB: 2\r\nC:3\r\nD: four \r\n']) {
      const text = `GET / HTTP/1.1\r\n${fields}\r\n`;
      const want = [...fields.matchAll(/([A-Za-z]+): ?(\S+) ?\r\n/g)].map((m) => [m[1].toLowerCase(), [m[2]]]);
      for (const split of [text.length, 5]) {
        const s = new Sink();
        const p = new RequestParser(s, LIMITS);
        p.feed(Buffer.from(text.slice(0, split), 'latin1'));
        p.feed(Buffer.from(text.slice(split), 'latin1'));
        expect(s.messages.map((m) => m.headers)).toEqual([want]);
      }
    }
  });
});

describe('RequestParser.bytesToProgress (the read low-water mark)', () => {
  /** What the parser says after being fed `text` in one piece. */
  function after(text: string): number {
    const p = new RequestParser(new Sink(), LIMITS);
    p.feed(Buffer.from(text, 'latin1'));
    return p.bytesToProgress();
  }

  it('is what the tail of a partial head lacks of CRLF CRLF, and on the request line what the shortest head lacks', () => {
    expect(after('G')).toBe(15);
    expect(after('GET / HTTP/1.1')).toBe(4);
    expect(after('GET / HTTP/1.1\r')).toBe(3);
    expect(after('GET / HTTP/1.1\r\n')).toBe(2);
    expect(after('GET / HTTP/1.1\r\nX: 1')).toBe(4);
    expect(after('GET / HTTP/1.1\r\nX: 1\r')).toBe(3);
    expect(after('GET / HTTP/1.1\r\nX: 1\r\n')).toBe(2);
    expect(after('GET / HTTP/1.1\r\nX: 1\r\n\r')).toBe(1);
    expect(after('A / HTTP/1.1\r')).toBe(3);
    expect(after('A / HT')).toBe(10);
  });

  it('is 0 between messages, and 1 in a body or once dead', () => {
    expect(after('')).toBe(0);
    expect(after('GET / HTTP/1.1\r\n\r\n')).toBe(0);
    expect(after('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab')).toBe(1);
    expect(after('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')).toBe(1);
    expect(after('GET / HTTP/1.1\r\nX: 1\n')).toBe(1); // a bare LF: refused, dead
  });

  it('never exceeds what the shortest well-formed head needs: A / HTTP/1.1 CRLF CRLF fed in any two pieces', () => {
    const text = 'A / HTTP/1.1\r\n\r\n';
    for (let i = 1; i < text.length; i++) expect(after(text.slice(0, i))).toBeLessThanOrEqual(text.length - i);
  });
});
