/**
 * Raw HTTP over a Node socket for the web tests: send exact bytes, collect
 * what comes back, and split a response stream into responses.
 */
import * as net from 'net';

/** What came back on one connection. */
export interface RawResult {
  /** Every byte received, as latin1. */
  data: string;
  /** True when the server closed the connection. */
  closed: boolean;
}

/**
 * Connects to 127.0.0.1:port, writes each piece of `send` in turn, and
 * resolves once the server closes or `until(data)` holds (then closes);
 * rejects after `ms`.
 */
export function raw(port: number, send: (string | Buffer)[] | string | Buffer, until?: (data: string) => boolean, ms = 5000): Promise<RawResult> {
  const pieces = Array.isArray(send) ? send : [send];
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => {
      done = true;
      sock.destroy();
      reject(new Error(`raw: timed out; got ${JSON.stringify(data)}`));
    }, ms);
    sock.on('connect', () => {
      for (const p of pieces) sock.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
    });
    sock.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (until !== undefined && until(data)) finish(false);
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
  });
}

/** One parsed response. */
export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits a stream of responses (Content-Length, chunked, or to the end); HEAD responses are named by index in `heads`. */
export function responses(data: string, heads: number[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let i = 0;
  while (i < data.length) {
    const end = data.indexOf('\r\n\r\n', i);
    if (end < 0) throw new Error(`responses: incomplete head at ${i}: ${JSON.stringify(data.slice(i))}`);
    const lines = data.slice(i, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    i = end + 4;
    let body = '';
    if (status < 200 || heads.includes(out.length) || status === 204 || status === 304) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = data.slice(i, i + n);
      i += n;
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = data.indexOf('\r\n', i);
        const n = parseInt(data.slice(i, eol), 16);
        i = eol + 2;
        if (n === 0) {
          i += 2;
          break;
        }
        body += data.slice(i, i + n);
        i += n + 2;
      }
    } else {
      body = data.slice(i);
      i = data.length;
    }
    if (status >= 200) out.push({ status, headers, body });
  }
  return out;
}
