/**
 * permessage-deflate parameters (RFC 7692 7.1): what an endpoint offers or
 * accepts, and the negotiation of one offer into the agreed parameters.
 */

/** The permessage-deflate parameters (RFC 7692 7.1). */
export interface DeflateOffer {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover?: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window, 9..15 bits (default 15). */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window, 9..15 bits (default 15). */
  clientMaxWindowBits?: number;
  /** Messages shorter than this many bytes are sent uncompressed (default 64). */
  threshold?: number;
}

/** The parameters both sides agreed on. */
export interface DeflateAgreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

function bits(name: string, v: unknown): number {
  if (v === undefined) return 15;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 9 || v > 15) throw new TypeError(`perMessageDeflate.${name} must be an integer in 9..15, got ${String(v)}`);
  return v;
}

/** Normalised deflate options, or null when off. */
export function normaliseDeflate(v: boolean | DeflateOffer | undefined): Required<DeflateOffer> | null {
  if (v === undefined || v === false) return null;
  const o = v === true ? {} : v;
  if (o === null || typeof o !== 'object') throw new TypeError('perMessageDeflate must be a boolean or an object');
  const threshold = o.threshold ?? 64;
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 0) throw new TypeError('perMessageDeflate.threshold must be an integer >= 0');
  return {
    serverNoContextTakeover: o.serverNoContextTakeover === true,
    clientNoContextTakeover: o.clientNoContextTakeover === true,
    serverMaxWindowBits: bits('serverMaxWindowBits', o.serverMaxWindowBits),
    clientMaxWindowBits: bits('clientMaxWindowBits', o.clientMaxWindowBits),
    threshold,
  };
}

/** One extension offer from a Sec-WebSocket-Extensions header: its name and parameters. */
export interface ExtensionOffer {
  name: string;
  params: Map<string, string | true>;
}

/** Parses Sec-WebSocket-Extensions values into offers; null when malformed. */
export function parseExtensions(values: readonly string[]): ExtensionOffer[] | null {
  const out: ExtensionOffer[] = [];
  for (const value of values) {
    for (const item of value.split(',')) {
      const parts = item.split(';').map((s) => s.trim());
      if (parts[0] === '') {
        if (parts.length === 1) continue;
        return null;
      }
      const params = new Map<string, string | true>();
      for (const p of parts.slice(1)) {
        const eq = p.indexOf('=');
        const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
        if (name === '' || params.has(name)) return null;
        let val = eq < 0 ? '' : p.slice(eq + 1).trim();
        if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1);
        params.set(name, eq < 0 ? true : val);
      }
      out.push({ name: parts[0].toLowerCase(), params });
    }
  }
  return out;
}

function windowParam(v: string | true | undefined, allowBare: boolean): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === true) return allowBare ? undefined : null;
  if (!/^(8|9|1[0-5])$/.test(v)) return null;
  return Number(v);
}

/**
 * The server's answer to the client's permessage-deflate offers: the first
 * it can accept with `ours`, as [agreement, response header value], or null.
 */
export function acceptOffer(offers: ExtensionOffer[], ours: Required<DeflateOffer>): [DeflateAgreement, string] | null {
  for (const offer of offers) {
    if (offer.name !== 'permessage-deflate') continue;
    const p = offer.params;
    if ([...p.keys()].some((k) => !['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'].includes(k))) continue;
    if (p.get('server_no_context_takeover') !== undefined && p.get('server_no_context_takeover') !== true) continue;
    if (p.get('client_no_context_takeover') !== undefined && p.get('client_no_context_takeover') !== true) continue;
    const smwb = windowParam(p.get('server_max_window_bits'), false);
    const cmwb = windowParam(p.get('client_max_window_bits'), true);
    if (smwb === null || cmwb === null || smwb === 8) continue; // zlib cannot send an 8-bit window (deflate.ts)
    const a: DeflateAgreement = {
      serverNoContextTakeover: ours.serverNoContextTakeover || p.has('server_no_context_takeover'),
      clientNoContextTakeover: ours.clientNoContextTakeover || p.has('client_no_context_takeover'),
      serverMaxWindowBits: Math.min(ours.serverMaxWindowBits, smwb ?? 15),
      clientMaxWindowBits: 15,
    };
    // The client may limit its window only if it said it could (client_max_window_bits present).
    if (p.has('client_max_window_bits')) a.clientMaxWindowBits = Math.min(ours.clientMaxWindowBits, cmwb ?? 15);
    else if (ours.clientMaxWindowBits !== 15) continue;
    return [a, describe(a, p.has('client_max_window_bits'))];
  }
  return null;
}

/** The header value stating `a`. */
function describe(a: DeflateAgreement, clientWindowNamed: boolean): string {
  let s = 'permessage-deflate';
  if (a.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (a.clientNoContextTakeover) s += '; client_no_context_takeover';
  if (a.serverMaxWindowBits !== 15) s += `; server_max_window_bits=${a.serverMaxWindowBits}`;
  if (clientWindowNamed && a.clientMaxWindowBits !== 15) s += `; client_max_window_bits=${a.clientMaxWindowBits}`;
  return s;
}

/** The client's offer header value for `ours`. */
export function offerHeader(ours: Required<DeflateOffer>): string {
  let s = 'permessage-deflate; client_max_window_bits';
  if (ours.clientMaxWindowBits !== 15) s += `=${ours.clientMaxWindowBits}`;
  if (ours.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (ours.clientNoContextTakeover) s += '; client_no_context_takeover';
  if (ours.serverMaxWindowBits !== 15) s += `; server_max_window_bits=${ours.serverMaxWindowBits}`;
  return s;
}

/** The agreement a server's response states, checked against what the client offered; null when unacceptable. */
export function readAgreement(offers: ExtensionOffer[], ours: Required<DeflateOffer>): DeflateAgreement | null {
  if (offers.length !== 1 || offers[0].name !== 'permessage-deflate') return null;
  const p = offers[0].params;
  const smwb = windowParam(p.get('server_max_window_bits'), false);
  const cmwb = windowParam(p.get('client_max_window_bits'), false);
  if (smwb === null || cmwb === null || cmwb === 8) return null; // zlib cannot send an 8-bit window (deflate.ts)
  if (ours.serverNoContextTakeover && !p.has('server_no_context_takeover')) return null;
  if (ours.serverMaxWindowBits !== 15 && (smwb === undefined || smwb > ours.serverMaxWindowBits)) return null;
  return {
    serverNoContextTakeover: p.has('server_no_context_takeover'),
    clientNoContextTakeover: ours.clientNoContextTakeover || p.has('client_no_context_takeover'),
    serverMaxWindowBits: smwb ?? 15,
    clientMaxWindowBits: Math.min(ours.clientMaxWindowBits, cmwb ?? 15),
  };
}
