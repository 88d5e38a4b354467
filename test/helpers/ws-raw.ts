/**
 * A raw WebSocket client over node:net for the server tests: it sends the
 * handshake and any bytes it is told to (masked or not, whole or split),
 * and decodes the server's frames, so a test can break the protocol on
 * purpose and see the server's answer.
 */
import * as net from 'net';
import * as tls from 'tls';

/** A frame the server sent. */
export interface ServerFrame {
  fin: boolean;
  /** RSV1: the message is compressed (permessage-deflate). */
  rsv1?: boolean;
  opcode: number;
  payload: Buffer;
}

/** A client frame's bytes: masked with a fixed key unless `mask` is false. */
export function clientFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; mask?: boolean; rsv?: number } = {}): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = opts.mask !== false;
  const len = p.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + ext + (mask ? 4 : 0) + len);
  out[0] = (opts.fin === false ? 0 : 0x80) | ((opts.rsv ?? 0) << 4) | opcode;
  out[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) out.writeUInt16BE(len, 2);
  if (ext === 8) out.writeBigUInt64BE(BigInt(len), 2);
  const at = 2 + ext;
  const key = [0x37, 0xfa, 0x21, 0x3d];
  if (mask) for (let i = 0; i < 4; i++) out[at + i] = key[i];
  for (let i = 0; i < len; i++) out[at + (mask ? 4 : 0) + i] = mask ? p[i] ^ key[i & 3] : p[i];
  return out;
}

/** A close payload. */
export function closeBody(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/** A raw connection to a WebSocket server. */
export class RawClient {
  readonly socket: net.Socket;
  /** The HTTP response head (once received). */
  head = '';
  /** Frames received after the head. */
  readonly frames: ServerFrame[] = [];
  /** True once the server closed the TCP connection. */
  ended = false;
  private buf = Buffer.alloc(0);
  private headDone = false;

  /** Connects to 127.0.0.1:`port` (over TLS with `secure`) and sends `request` (default: a valid handshake for /ws) plus `extra`. */
  constructor(port: number, request: string | null = null, extra: Buffer = Buffer.alloc(0), secure?: tls.ConnectionOptions) {
    this.socket = secure === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ ...secure, port, host: '127.0.0.1' });
    const req = request ?? handshake();
    this.socket.write(Buffer.concat([Buffer.from(req, 'latin1'), extra]));
    this.socket.on('data', (d: Buffer) => this.received(d));
    this.socket.on('close', () => (this.ended = true));
    this.socket.on('error', () => (this.ended = true));
  }

  /** Sends bytes. */
  send(data: Buffer): void {
    this.socket.write(data);
  }

  /** Closes the socket (from the test's side). */
  destroy(): void {
    this.socket.destroy();
  }

  /** The close frame's code, if one came. */
  closeCode(): number | null {
    const f = this.frames.find((x) => x.opcode === 8);
    return f === undefined ? null : f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
  }

  private received(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.headDone) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.head = this.buf.toString('latin1', 0, end + 4);
      this.headDone = true;
      this.buf = this.buf.subarray(end + 4);
      if (!this.head.startsWith('HTTP/1.1 101')) return;
    }
    if (!this.head.startsWith('HTTP/1.1 101')) return;
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      this.frames.push({ fin: (this.buf[0] & 0x80) !== 0, rsv1: (this.buf[0] & 0x40) !== 0, opcode: this.buf[0] & 15, payload: Buffer.from(this.buf.subarray(at, at + len)) });
      this.buf = this.buf.subarray(at + len);
    }
  }
}

/** A valid handshake request for `path`, with extra header lines. */
export function handshake(path = '/ws', extra: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');
}
