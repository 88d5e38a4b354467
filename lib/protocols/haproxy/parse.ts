/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and
 * 2), parsed from the bytes received so far: a pure function of a Buffer, so
 * a header split across reads is parsed by calling it again on more bytes,
 * and a property test can drive it directly.
 *
 * v1 is one text line, `PROXY TCP4|TCP6|UNKNOWN ...\r\n`, at most 107 bytes.
 * v2 is a 16-byte binary head (12-byte signature, version/command,
 * family/transport, length) and `length` bytes of addresses then TLVs (which
 * are skipped). A LOCAL command (a health check from the proxy itself) or an
 * UNKNOWN / UNSPEC family carries no addresses: the connection's own are used.
 */
import * as net from 'net';
import { IAddress, IPv4Address, IPv6Address, UNIXAddress } from '../../address';

/** The longest v1 header the specification allows, CRLF included. */
export const V1_MAX_LENGTH = 107;
/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Bytes of a v2 header before its address block. */
export const V2_HEAD_LENGTH = 16;
/** The longest v2 header we accept (the 16-bit length field allows 65535 more). */
export const V2_MAX_LENGTH = V2_HEAD_LENGTH + 65535;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** What a PROXY header said. */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  version: 1 | 2;
  /** 'PROXY': the addresses are the client's; 'LOCAL': the proxy's own connection (no addresses). */
  command: 'PROXY' | 'LOCAL';
  /** The original client's address, or null when the header carries none. */
  source: IAddress | null;
  /** The address the client connected to (the proxy's), or null when the header carries none. */
  destination: IAddress | null;
}

/** The outcome of parsing the bytes received so far. */
export type ProxyParse =
  | {
      /** More bytes are needed. */
      readonly state: 'more';
      /** The header's whole length, once it is known. */
      readonly need?: number;
    }
  | {
      /** Not a valid PROXY header: drop the connection. */
      readonly state: 'error';
      /** What was wrong. */
      readonly reason: string;
    }
  | {
      /** The header is complete. */
      readonly state: 'done';
      /** What it carries. */
      readonly header: ProxyHeader;
      /** Its length in bytes; the connection's own data follows it. */
      readonly length: number;
    };

const MORE: ProxyParse = { state: 'more' };

function fail(reason: string): ProxyParse {
  return { state: 'error', reason };
}

/** True when `data` so far is `whole` or could still become it. */
function startsLike(data: Buffer, whole: Buffer): boolean {
  const n = Math.min(data.length, whole.length);
  return data.subarray(0, n).equals(whole.subarray(0, n));
}

/**
 * Parses the PROXY header at the start of `data`: 'more' when more bytes
 * are needed (with `need`, the total to wait for, once the length is known),
 * 'error' (with why) when they can never form a header, or
 * 'done' with the header and its length in bytes (what follows is the
 * connection's own data).
 */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (data.length === 0) return MORE;
  if (startsLike(data, V2_SIGNATURE)) return data.length < V2_SIGNATURE.length ? MORE : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return parseV1(data);
  return fail('no PROXY protocol header');
}

// ---- version 1 ----

function parseV1(data: Buffer): ProxyParse {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0 || end + 2 > V1_MAX_LENGTH) {
    return data.length >= V1_MAX_LENGTH ? fail(`v1 header longer than ${V1_MAX_LENGTH} bytes`) : MORE;
  }
  const line = data.toString('latin1', V1_PREFIX.length, end);
  const fields = line.split(' ');
  const header = v1Fields(fields);
  return typeof header === 'string' ? fail(`v1: ${header}`) : { state: 'done', header, length: end + 2 };
}

/** The header from the fields after `PROXY `, or why they are wrong. */
function v1Fields(fields: string[]): ProxyHeader | string {
  const [proto, src, dst, sport, dport] = fields;
  if (proto === 'UNKNOWN') return { version: 1, command: 'PROXY', source: null, destination: null };
  if (proto !== 'TCP4' && proto !== 'TCP6') return `unknown protocol ${JSON.stringify(proto)}`;
  if (fields.length !== 5) return `${proto} needs 4 fields, got ${fields.length - 1}`;
  const v = proto === 'TCP4' ? 4 : 6;
  if (net.isIP(src) !== v || net.isIP(dst) !== v) return `addresses are not ${proto}`;
  const sp = v1Port(sport);
  const dp = v1Port(dport);
  if (sp < 0 || dp < 0) return 'ports must be decimal 0..65535';
  const make = (h: string, p: number): IAddress => (v === 4 ? new IPv4Address('TCP', h, p) : new IPv6Address('TCP', h, p));
  return { version: 1, command: 'PROXY', source: make(src, sp), destination: make(dst, dp) };
}

/** A decimal port without sign or leading zeros, or -1. */
function v1Port(s: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

// ---- version 2 ----

const FAMILY_UNSPEC = 0x0;
const FAMILY_INET = 0x1;
const FAMILY_INET6 = 0x2;
const FAMILY_UNIX = 0x3;
/** Address block sizes by family: two addresses, two ports (none for UNIX). */
const ADDRESS_BYTES: Record<number, number> = { [FAMILY_INET]: 12, [FAMILY_INET6]: 36, [FAMILY_UNIX]: 216 };

function parseV2(data: Buffer): ProxyParse {
  if (data.length < V2_HEAD_LENGTH) return MORE;
  const verCmd = data[12];
  if (verCmd >> 4 !== 2) return fail(`v2: version ${verCmd >> 4}, expected 2`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail(`v2: unknown command ${cmd}`);
  const family = data[13] >> 4;
  const transport = data[13] & 0x0f;
  if (family > FAMILY_UNIX || transport > 2) return fail(`v2: unknown family/transport 0x${data[13].toString(16)}`);
  const total = V2_HEAD_LENGTH + data.readUInt16BE(14);
  if (cmd === 1 && family !== FAMILY_UNSPEC && total - V2_HEAD_LENGTH < ADDRESS_BYTES[family]) {
    return fail(`v2: address block of ${total - V2_HEAD_LENGTH} bytes is too short for its family`);
  }
  if (data.length < total) return { state: 'more', need: total };
  const local: ProxyHeader = { version: 2, command: cmd === 0 ? 'LOCAL' : 'PROXY', source: null, destination: null };
  if (cmd === 0 || family === FAMILY_UNSPEC) return { state: 'done', header: local, length: total };
  const [source, destination] = v2Addresses(data.subarray(V2_HEAD_LENGTH, total), family);
  return { state: 'done', header: { ...local, source, destination }, length: total };
}

/** Source and destination from a v2 address block of a known family (long enough, checked). */
function v2Addresses(b: Buffer, family: number): [IAddress, IAddress] {
  if (family === FAMILY_INET) {
    const ip = (at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    return [new IPv4Address('TCP', ip(0), b.readUInt16BE(8)), new IPv4Address('TCP', ip(4), b.readUInt16BE(10))];
  }
  if (family === FAMILY_INET6) {
    return [new IPv6Address('TCP', ipv6(b, 0), b.readUInt16BE(32)), new IPv6Address('TCP', ipv6(b, 16), b.readUInt16BE(34))];
  }
  return [new UNIXAddress(unixPath(b, 0)), new UNIXAddress(unixPath(b, 108))];
}

/** The 16 bytes at `at` as the reactor spells IPv6 addresses (inet_ntop's form). */
function ipv6(b: Buffer, at: number): string {
  const bytes = b.subarray(at, at + 16);
  // IPv4-mapped addresses keep their dotted tail, as inet_ntop writes them.
  if (bytes.subarray(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(2 * i).toString(16));
  // The URL serializer compresses the longest zero run as RFC 5952 says.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** A NUL-terminated path in the 108 bytes at `at`; null when empty (an unnamed socket). */
function unixPath(b: Buffer, at: number): string | null {
  const field = b.subarray(at, at + 108);
  const nul = field.indexOf(0);
  const path = field.toString('utf8', 0, nul < 0 ? 108 : nul);
  return path === '' ? null : path;
}
