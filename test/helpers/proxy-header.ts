/**
 * PROXY protocol headers as a proxy writes them (v1 text, v2 binary), built
 * here independently of lib/protocols/haproxy/parse.ts so tests compare the
 * parser with the specification's layout, not with itself.
 */
import * as net from 'net';

/** One endpoint of a proxied connection. */
export interface Endpoint {
  host: string;
  port: number;
}

/** `PROXY TCP4|TCP6 src dst sport dport\r\n`. */
export function v1(src: Endpoint, dst: Endpoint): Buffer {
  const proto = net.isIPv6(src.host) ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${proto} ${src.host} ${dst.host} ${src.port} ${dst.port}\r\n`, 'latin1');
}

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** The 16 bytes of an IPv6 address (full or compressed, or dotted-tail) in network order. */
export function ipv6Bytes(host: string): Buffer {
  const [head, tail] = host.includes('::') ? host.split('::') : [host, null];
  const parse = (s: string): number[] => {
    if (s === '') return [];
    const parts = s.split(':');
    const out: number[] = [];
    for (const p of parts) {
      if (p.includes('.')) {
        const [a, b, c, d] = p.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(p, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = tail === null ? [] : parse(tail);
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

/** A v2 header: command 1 (PROXY) or 0 (LOCAL), the addresses, then `tlvs` raw bytes. */
export function v2(src: Endpoint | null, dst: Endpoint | null, opts: { local?: boolean; tlvs?: Buffer } = {}): Buffer {
  const tlvs = opts.tlvs ?? Buffer.alloc(0);
  let fam = 0x00;
  let addr = Buffer.alloc(0);
  if (src !== null && dst !== null) {
    const six = net.isIPv6(src.host);
    fam = six ? 0x21 : 0x11;
    const ip = (h: string): Buffer => (six ? ipv6Bytes(h) : Buffer.from(h.split('.').map(Number)));
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(src.port, 0);
    ports.writeUInt16BE(dst.port, 2);
    addr = Buffer.concat([ip(src.host), ip(dst.host), ports]);
  }
  const head = Buffer.alloc(4);
  head[0] = opts.local === true ? 0x20 : 0x21;
  head[1] = fam;
  head.writeUInt16BE(addr.length + tlvs.length, 2);
  return Buffer.concat([SIG, head, addr, tlvs]);
}

/** A v2 PROXY header for two UNIX socket paths. */
export function v2Unix(src: string, dst: string): Buffer {
  const path = (p: string): Buffer => {
    const b = Buffer.alloc(108);
    b.write(p, 'utf8');
    return b;
  };
  const head = Buffer.from([0x21, 0x31, 0, 216]);
  return Buffer.concat([SIG, head, path(src), path(dst)]);
}
