/**
 * Differential test against Node's own parser (llhttp inside node:http):
 * each entry of a corpus of valid, malformed and smuggling requests is sent
 * as the same raw bytes to a Node http server and to a Site, each answering
 * every request it accepts with what it parsed (method, target, headers,
 * body). The verdicts must agree: the same requests accepted with the same
 * parse, and a refusal on both or neither, except where ours is documented
 * as stricter (STRICTER below, each with its reason).
 */
import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { FunctionResource, Request, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { responses } from './web-raw';

jest.setTimeout(30000);

const CORPUS: [string, string][] = [
  ['simple GET', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['HTTP/1.0 GET', 'GET /x HTTP/1.0\r\n\r\n'],
  ['query and odd target', "GET /a/b;c?d=e&f=%20g#h HTTP/1.1\r\nHost: a\r\n\r\n"],
  ['absolute-form target', 'GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\n\r\n'],
  ['asterisk-form OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['header whitespace trimmed', 'GET / HTTP/1.1\r\nHost: a\r\nX-A:   v1  \r\nX-B:\tv2\t\r\n\r\n'],
  ['empty header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n'],
  ['repeated headers', 'GET / HTTP/1.1\r\nHost: a\r\nX-R: 1\r\nx-r: 2\r\n\r\n'],
  ['Content-Length body', 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world'],
  ['Content-Length zero', 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'],
  ['chunked body', 'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'],
  ['chunked upper-case hex and extension', 'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA;name=value\r\n0123456789\r\n0\r\n\r\n'],
  ['chunked with trailer', 'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Trailer: 1\r\n\r\n'],
  ['Transfer-Encoding case-insensitive', 'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
  ['pipelined three', 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nzGET /3 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['leading empty line', '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['equal duplicate Content-Length', 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx'],
  ['obs-text in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-L: caf\xe9\r\n\r\n'],
  ['Connection: close stops pipelining', 'GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n'],
  // malformed and smuggling attempts
  ['CL and TE together (CL.TE)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG'],
  ['TE and CL together (TE.CL)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n'],
  ['differing Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy'],
  ['Content-Length list differing', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\nxy'],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n'],
  ['Content-Length with letters', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nx'],
  ['Content-Length with plus', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-F: one\r\n two\r\n\r\n'],
  ['TE obfuscated with a space before the colon', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n'],
  ['TE chunked not last', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
  ['TE with an unknown coding only', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\nx\r\n0\r\n\r\n'],
  ['chunk size overflow', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n'],
  ['chunk data longer than its size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n'],
  ['chunk size with a bare LF', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n'],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-N: a\x00b\r\n\r\n'],
  ['CR in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-N: a\rb\r\n\r\n'],
  ['bad character in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX\x01N: v\r\n\r\n'],
  ['header without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n'],
  ['empty header name', 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n'],
  ['control byte in the target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['space in the target', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['no version', 'GET /\r\n\r\n'],
  ['bad version', 'GET / HTTP/1.x\r\nHost: a\r\n\r\n'],
  ['lower-case protocol', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
  ['HTTP/9.9', 'GET / HTTP/9.9\r\nHost: a\r\n\r\n'],
  ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['trailing space after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'],
  ['request line over 16 KiB', 'GET /' + 'a'.repeat(17000) + ' HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['headers over 16 KiB', 'GET / HTTP/1.1\r\nHost: a\r\n' + 'X-Big: '.concat('b'.repeat(1000), '\r\n').repeat(17) + '\r\n'],
  ['good request then a smuggled bad one', 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy'],
  ['Transfer-Encoding on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
  ['TE gzip then chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'],
  ['bare LF line ends', 'GET / HTTP/1.1\nHost: a\n\n'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n'],
  ['lower-case method', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['unknown method', 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['chunk size then a space', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n'],
  ['chunk extension with a bare CR', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a\rb\r\nx\r\n0\r\n\r\n'],
  ['chunk extension with no name', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\r\nabc\r\n0\r\n\r\n'],
  ['chunk extension with an empty name before its value', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n'],
  ['empty chunk extension between two', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;;a\r\nabc\r\n0\r\n\r\n'],
  ['chunk extension with an empty value', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\r\nabc\r\n0\r\n\r\n'],
  ['chunk extensions with a quoted value', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a="q q";b\r\nabc\r\n0\r\n\r\n'],
  ['chunk extension name not a token', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a@b\r\nabc\r\n0\r\n\r\n'],
  ['DEL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-D: a\x7fb\r\n\r\n'],
  ['tab inside a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-T: a\tb\r\n\r\n'],
  ['Content-Length with leading zeros', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0001\r\n\r\nx'],
  ['Content-Length with trailing space', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 \r\n\r\nx'],
  ['bare CR after the version hiding a Content-Length', 'POST / HTTP/1.1\rXContent-Length: 5\r\nHost: a\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: a\r\nHost: internal\r\n\r\n'],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n'],
  ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
];

/** Entries where ours refuses what llhttp accepts, and why (RFC 9112 allows the refusal). */
const STRICTER: Record<string, string> = {
  'no version': 'an HTTP/0.9 request line: llhttp takes it, we answer only HTTP/1.x (RFC 9112 2.3)',
  'two spaces after the method': 'RFC 9112 3 requires single SPs; parsing on whitespace is a MAY we do not take',
  'Transfer-Encoding on HTTP/1.0': 'RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing',
  'two Host fields': 'RFC 9112 3.2: a server MUST answer 400 to a request with more than one Host field; node:http takes both (a front end routing on the first, an application reading the last, disagree)',
  'chunk extension with an empty name before its value': 'RFC 9112 7.1.1: a chunk-ext-name is a token, never empty; llhttp refuses "3;" but takes "3;=x"',
  'empty chunk extension between two': 'the same: ";;" holds an extension with no name',
  'chunk extension with an empty value': 'RFC 9112 7.1.1: a chunk-ext-val is a token or a quoted-string, never empty',
  'TE gzip then chunked': 'we decode no transfer coding but chunked: 501 (RFC 9112 6.1), where node:http hands the gzip bytes on',
};

/**
 * Entries where llhttp's verdict comes from how node:http reads, not from
 * the bytes: a request after Connection: close in the same read is a parse
 * error there ("Data after Connection: close") that also drops the answer
 * to the request before it. RFC 9112 9.6 says answer, close, and process no
 * further requests: what ours does.
 */
const NODE_DIFFERS: Record<string, Verdict> = {
  'Connection: close stops pipelining': {
    accepted: [{ method: 'GET', target: '/1', headers: [['connection', 'close'], ['host', 'a']], body: '' }],
    refused: false,
  },
};

/** What one server made of a byte stream: each accepted request's parse, then whether it refused something. */
interface Verdict {
  accepted: unknown[];
  refused: boolean;
}

/** Sends `bytes` (then EOF) and reads until the server closes. */
function exchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(bytes);
      sock.end();
    });
    let data = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close; got ${JSON.stringify(data)}`));
    }, 5000);
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

function verdict(data: string): Verdict {
  const all = responses(data);
  const accepted = all.filter((x) => x.status === 200).map((x) => JSON.parse(Buffer.from(x.body, 'latin1').toString()) as unknown);
  return { accepted, refused: all.some((x) => x.status !== 200) || (all.length === 0 && data.length === 0) };
}

function record(method: string, target: string, headers: [string, string][], body: Buffer): unknown {
  return { method, target, headers, body: body.toString('latin1') };
}

forEachBackend('web: differential against llhttp', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let node: http.Server;
  let nodePort: number;

  beforeAll(async () => {
    node = http.createServer({ requireHostHeader: false } as http.ServerOptions, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
        res.end(JSON.stringify(record(req.method!, req.url!, headers, Buffer.concat(chunks))));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    nodePort = (node.address() as AddressInfo).port;
  });

  afterAll(async () => {
    node.closeAllConnections();
    await new Promise((resolve) => node.close(resolve));
  });

  function ourPort(): number {
    const site = new Site(
      new FunctionResource((req: Request) => {
        const headers: [string, string][] = [];
        for (const [name, values] of req.requestHeaders.getAllRawHeaders()) for (const v of values) headers.push([name, v]);
        return JSON.stringify(record(req.method, req.uri, headers, req.content));
      }),
      { reactor: r },
    );
    return (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it.each(CORPUS)('agrees on: %s', async (name, text) => {
    const bytes = Buffer.from(text, 'latin1');
    const port = ourPort();
    const [theirs, ours] = await Promise.all([exchange(nodePort, bytes), exchange(port, bytes)]);
    const v = { node: verdict(theirs), ours: verdict(ours) };
    if (name in STRICTER) {
      expect(v.ours.refused).toBe(true);
      return;
    }
    // Repeated headers come in arrival order on both, but ours groups them by name: compare sorted.
    const norm = (x: Verdict): Verdict => ({
      refused: x.refused,
      accepted: x.accepted.map((a) => ({ ...(a as object), headers: [...(a as { headers: [string, string][] }).headers].sort() })),
    });
    if (name in NODE_DIFFERS) {
      expect(norm(v.ours)).toEqual(NODE_DIFFERS[name]);
      return;
    }
    if (v.node.refused && v.ours.refused) {
      // node:http drops the answers to good requests read together with a bad one; ours answers them first.
      expect(norm(v.ours).accepted.slice(0, v.node.accepted.length)).toEqual(norm(v.node).accepted);
      return;
    }
    expect(norm(v.ours)).toEqual(norm(v.node));
  });
});
