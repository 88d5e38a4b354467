/**
 * The PROXY header parser against the specification's examples and limits,
 * plus properties (fast-check): any bytes never throw; the outcome never
 * changes once decided, whatever follows; every valid header parses to the
 * addresses it was built from, the same in any split.
 */
import fc from 'fast-check';
import { IPv4Address, IPv6Address, UNIXAddress } from '../lib/address';
import { parseProxyHeader, ProxyParse, V1_MAX_LENGTH } from '../lib/protocols/haproxy/parse';
import { v1, v2, v2Unix } from './helpers/proxy-header';

const RUNS = 500;

function done(r: ProxyParse): Extract<ProxyParse, { state: 'done' }> {
  if (r.state !== 'done') throw new Error(`expected a header, got ${JSON.stringify(r)}`);
  return r;
}

function reason(r: ProxyParse): string {
  if (r.state !== 'error') throw new Error(`expected an error, got ${r.state}`);
  return r.reason;
}

const src4 = { host: '192.0.2.7', port: 56324 };
const dst4 = { host: '198.51.100.1', port: 443 };

describe('PROXY v1', () => {
  it('TCP4, TCP6 and UNKNOWN, followed by data', () => {
    const h = Buffer.concat([v1(src4, dst4), Buffer.from('GET / HTTP/1.0\r\n')]);
    const r = done(parseProxyHeader(h));
    expect(r.header).toEqual({ version: 1, command: 'PROXY', source: new IPv4Address('TCP', '192.0.2.7', 56324), destination: new IPv4Address('TCP', '198.51.100.1', 443) });
    expect(h.subarray(r.length).toString()).toBe('GET / HTTP/1.0\r\n');
    const six = done(parseProxyHeader(v1({ host: '2001:db8::1', port: 1 }, { host: '::1', port: 65535 })));
    expect(six.header.source).toEqual(new IPv6Address('TCP', '2001:db8::1', 1));
    expect(six.header.destination).toEqual(new IPv6Address('TCP', '::1', 65535));
    const unknown = done(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nrest')));
    expect(unknown.header).toEqual({ version: 1, command: 'PROXY', source: null, destination: null });
    expect(unknown.length).toBe(35);
  });

  it('waits for the rest of a header split anywhere', () => {
    const h = v1(src4, dst4);
    for (let i = 0; i < h.length; i++) expect(parseProxyHeader(h.subarray(0, i)).state).toBe('more');
    expect(parseProxyHeader(h).state).toBe('done');
  });

  it('a 107-byte header is the longest taken; 107 bytes without CRLF are refused', () => {
    const longest = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH - 16)}\r\n`);
    expect(longest.length).toBe(107);
    expect(done(parseProxyHeader(longest)).length).toBe(107);
    const over = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(V1_MAX_LENGTH)}\r\n`);
    expect(reason(parseProxyHeader(over.subarray(0, 107)))).toMatch(/longer than 107/);
    expect(parseProxyHeader(over.subarray(0, 106)).state).toBe('more');
  });

  it.each([
    ['PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /needs 4 fields/],
    ['PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', /needs 4 fields/],
    ['PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /not TCP4/],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', /not TCP6/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', /ports/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', /needs 4 fields/],
    ['PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n', /not TCP4/],
  ])('refuses %j', (line, why) => {
    expect(reason(parseProxyHeader(Buffer.from(line, 'latin1')))).toMatch(why);
  });

  it('refuses a connection that starts with anything else at its first wrong byte', () => {
    expect(reason(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')))).toMatch(/no PROXY protocol header/);
    expect(reason(parseProxyHeader(Buffer.from('PROXX')))).toMatch(/no PROXY/);
    expect(parseProxyHeader(Buffer.from('PROX')).state).toBe('more');
    expect(reason(parseProxyHeader(Buffer.from('proxy TCP4')))).toMatch(/no PROXY/);
  });
});

describe('PROXY v2', () => {
  it('PROXY over INET, INET6 and UNIX; TLVs skipped; data after it', () => {
    const tlvs = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63, 0x01, 0x00, 0x02, 0x68, 0x32]);
    const h = Buffer.concat([v2(src4, dst4, { tlvs }), Buffer.from('data')]);
    const r = done(parseProxyHeader(h));
    expect(r.header).toEqual({ version: 2, command: 'PROXY', source: new IPv4Address('TCP', '192.0.2.7', 56324), destination: new IPv4Address('TCP', '198.51.100.1', 443) });
    expect(h.subarray(r.length).toString()).toBe('data');
    const six = done(parseProxyHeader(v2({ host: '2001:db8:0:0:1:0:0:1', port: 80 }, { host: '::ffff:10.0.0.1', port: 8080 })));
    expect(six.header.source).toEqual(new IPv6Address('TCP', '2001:db8::1:0:0:1', 80));
    expect(six.header.destination).toEqual(new IPv6Address('TCP', '::ffff:10.0.0.1', 8080));
    const unix = done(parseProxyHeader(v2Unix('/run/client.sock', '')));
    expect(unix.header.source).toEqual(new UNIXAddress('/run/client.sock'));
    expect(unix.header.destination).toEqual(new UNIXAddress(null));
  });

  it('LOCAL and UNSPEC carry no addresses', () => {
    expect(done(parseProxyHeader(v2(src4, dst4, { local: true }))).header).toEqual({ version: 2, command: 'LOCAL', source: null, destination: null });
    expect(done(parseProxyHeader(v2(null, null))).header).toEqual({ version: 2, command: 'PROXY', source: null, destination: null });
  });

  it('says how many bytes to wait for once the length is known', () => {
    const h = v2(src4, dst4, { tlvs: Buffer.alloc(1000) });
    expect(parseProxyHeader(h.subarray(0, 15))).toEqual({ state: 'more' });
    expect(parseProxyHeader(h.subarray(0, 16))).toEqual({ state: 'more', need: h.length });
  });

  it('waits for the rest of a header split anywhere', () => {
    const h = v2({ host: '::1', port: 1 }, { host: '::2', port: 2 }, { tlvs: Buffer.alloc(40) });
    for (let i = 0; i < h.length; i++) expect(parseProxyHeader(h.subarray(0, i)).state).toBe('more');
    expect(done(parseProxyHeader(h)).length).toBe(h.length);
  });

  it('refuses another version, an unknown command or family, an address block too short for its family', () => {
    const good = v2(src4, dst4);
    const bad = (at: number, value: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = value;
      return b;
    };
    expect(reason(parseProxyHeader(bad(12, 0x11)))).toMatch(/version 1/);
    expect(reason(parseProxyHeader(bad(12, 0x22)))).toMatch(/unknown command/);
    expect(reason(parseProxyHeader(bad(13, 0x41)))).toMatch(/family/);
    expect(reason(parseProxyHeader(bad(13, 0x13)))).toMatch(/family/);
    const short = Buffer.from(good.subarray(0, 16 + 4));
    short.writeUInt16BE(4, 14);
    expect(reason(parseProxyHeader(short.subarray(0, 16)))).toMatch(/too short/);
    expect(reason(parseProxyHeader(bad(13, 0x21)))).toMatch(/too short/); // INET6 needs 36 bytes, 12 declared
  });
});

describe('properties', () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
  // Inputs that get past the first bytes: random tails behind each prefix.
  const prefixed = fc
    .tuple(fc.constantFrom('', 'PROXY ', 'PROXY TCP4 ', 'PROXY TCP6 ', 'PROXY UNKNOWN', '\r\n\r\n\0\r\nQUIT\n', '\r\n\r\n\0\r\nQUIT\n\x21\x11'), bytes)
    .map(([p, tail]) => Buffer.concat([Buffer.from(p, 'latin1'), tail]));
  const input = fc.oneof(bytes, prefixed);

  it('never throws; a header never claims more bytes than it was given', () => {
    fc.assert(
      fc.property(input, (b) => {
        const r = parseProxyHeader(b);
        if (r.state === 'done') expect(r.length).toBeLessThanOrEqual(b.length);
        if (r.state === 'more') expect(b.length).toBeLessThan(16 + 65535);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('an outcome, once decided, stands whatever bytes follow', () => {
    fc.assert(
      fc.property(input, bytes, (b, more) => {
        const first = parseProxyHeader(b);
        const later = parseProxyHeader(Buffer.concat([b, more]));
        if (first.state === 'done') expect(later).toEqual(first);
        if (first.state === 'error') expect(later.state).toBe('error');
      }),
      { numRuns: RUNS * 4 },
    );
  });

  const port = fc.integer({ min: 0, max: 65535 });
  const endpoint4 = fc.tuple(fc.ipV4(), port).map(([host, p]) => ({ host, port: p }));
  const endpoint6 = fc.tuple(fc.ipV6(), port).map(([host, p]) => ({ host, port: p }));
  const pair = fc.oneof(fc.tuple(endpoint4, endpoint4), fc.tuple(endpoint6, endpoint6));
  const tlvs = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

  it('every valid header gives back its addresses, whole or cut anywhere', () => {
    fc.assert(
      fc.property(pair, fc.boolean(), tlvs, fc.nat(), ([s, d], text, t, cut) => {
        // A v1 line with two long IPv4-tailed IPv6 addresses can exceed 107 bytes: such a pair goes as v2.
        const h = text && v1(s, d).length <= V1_MAX_LENGTH ? v1(s, d) : v2(s, d, { tlvs: t });
        const r = done(parseProxyHeader(Buffer.concat([h, Buffer.from('x')])));
        expect(r.length).toBe(h.length);
        const src = r.header.source as IPv4Address | IPv6Address;
        expect(src.port).toBe(s.port);
        expect((r.header.destination as IPv4Address).port).toBe(d.port);
        // The host as the reactor spells it: the same address, canonical form.
        expect(canonical(src.host)).toBe(canonical(s.host));
        expect(parseProxyHeader(h.subarray(0, cut % h.length)).state).toBe('more');
      }),
      { numRuns: RUNS },
    );
  });
});

/** An IP address's 16 or 4 bytes as hex, whatever its spelling. */
function canonical(host: string): string {
  if (!host.includes(':')) return host;
  return v2({ host, port: 0 }, { host, port: 0 }).subarray(16, 32).toString('hex');
}
