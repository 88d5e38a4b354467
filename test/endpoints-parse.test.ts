/** The endpoint description parser: pure, no sockets. */
import fc from 'fast-check';
import { EndpointDescriptionError, parseClientSpec, parseDescription, parseServerSpec } from '../lib/endpoints';

/** Escapes a value for a description: backslash before \\, : and =. */
const escape = (v: string): string => v.replace(/[\\:=]/g, (c) => `\\${c}`);

describe('parseDescription', () => {
  test('splits type, positional and keyword fields', () => {
    const p = parseDescription('tcp:8080:interface=127.0.0.1:backlog=50');
    expect(p.type).toBe('tcp');
    expect(p.args).toEqual(['8080']);
    expect([...p.kwargs]).toEqual([
      ['interface', '127.0.0.1'],
      ['backlog', '50'],
    ]);
  });

  test('a backslash escapes colons and equals signs', () => {
    const p = parseDescription('tcp:80:interface=\\:\\:1');
    expect(p.kwargs.get('interface')).toBe('::1');
    expect(parseDescription('unix:/tmp/a\\=b\\:c').args).toEqual(['/tmp/a=b:c']);
    expect(parseDescription('unix:path=/x\\\\y').kwargs.get('path')).toBe('/x\\y');
  });

  test('only the first = in a field separates key and value', () => {
    expect(parseDescription('tcp:x=a=b').kwargs.get('x')).toBe('a=b');
  });

  test('any values, escaped, come back unchanged (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ':', '=', '\\', '/', ' ', '.', 'é') });
    const key = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,8}$/);
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), fc.uniqueArray(fc.tuple(key, text), { maxLength: 4, selector: ([k]) => k }), (args, kwargs) => {
        const desc = ['tcp', ...args.map(escape), ...kwargs.map(([k, v]) => `${k}=${escape(v)}`)].join(':');
        const p = parseDescription(desc);
        expect(p.type).toBe('tcp');
        expect(p.args).toEqual(args);
        expect([...p.kwargs]).toEqual(kwargs);
      }),
      { numRuns: 500 },
    );
  });

  test('a trailing backslash or a missing type is an error', () => {
    expect(() => parseDescription('tcp:80\\')).toThrow(/lone backslash/);
    expect(() => parseDescription(':80')).toThrow(/endpoint type/);
    expect(() => parseDescription('')).toThrow(EndpointDescriptionError);
  });
});

describe('parseServerSpec', () => {
  test.each([
    ['tcp:8080', { type: 'tcp', port: 8080, interface: '', backlog: 50 }],
    ['tcp:port=8080', { type: 'tcp', port: 8080, interface: '', backlog: 50 }],
    ['tcp:8080:interface=127.0.0.1:backlog=1024', { type: 'tcp', port: 8080, interface: '127.0.0.1', backlog: 1024 }],
    ['TCP:0:127.0.0.1', { type: 'tcp', port: 0, interface: '127.0.0.1', backlog: 50 }],
    ['tcp6:80:interface=\\:\\:1', { type: 'tcp6', port: 80, interface: '::1', backlog: 50 }],
    ['tcp6:8080', { type: 'tcp6', port: 8080, interface: '::', backlog: 50 }],
    ['unix:/tmp/s', { type: 'unix', address: '/tmp/s', mode: 0o666, backlog: 50, wantPID: true }],
    ['unix:address=/tmp/s:mode=660:lockfile=0', { type: 'unix', address: '/tmp/s', mode: 0o660, backlog: 50, wantPID: false }],
    ['unix:/tmp/s:mode=0600:backlog=5:lockfile=1', { type: 'unix', address: '/tmp/s', mode: 0o600, backlog: 5, wantPID: true }],
  ])('%s', (desc, spec) => {
    expect(parseServerSpec(desc)).toEqual(spec);
  });

  test.each([
    ['ssh:443', /unknown endpoint type 'ssh' \(known: tcp, tcp6, unix, ssl, systemd\)/],
    ['tcp', /missing port/],
    ['tcp:interface=127.0.0.1', /missing port/],
    ['tcp:http', /port must be an integer from 0 to 65535, got 'http'/],
    ['tcp:70000', /port must be an integer/],
    ['tcp:-1', /port must be an integer/],
    ['tcp:80:backlog=many', /backlog must be an integer .* got 'many'/],
    ['tcp:80:bogus=1', /unknown parameter 'bogus' for a tcp server \(known: port, interface, backlog\)/],
    ['tcp:80:port=81', /'port' given both by position and as port=/],
    ['tcp:80:127.0.0.1:50:extra', /too many positional arguments .* extra: 'extra'/],
    ['unix:', /address must not be empty/],
    ['unix:mode=660', /missing address/],
    ['unix:/tmp/s:mode=rw', /mode must be an octal file mode such as 660, got 'rw'/],
    ['unix:/tmp/s:mode=999', /mode must be an octal/],
    ['unix:/tmp/s:lockfile=yes', /lockfile must be 0 or 1/],
  ])('%s is rejected: %s', (desc, message) => {
    let err: unknown;
    try {
      parseServerSpec(desc);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EndpointDescriptionError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(JSON.stringify(desc));
  });
});

describe('parseClientSpec', () => {
  const tcp = { type: 'tcp', timeout: 30, bindAddress: null };
  test.each([
    ['tcp:host=example.com:port=80:timeout=5', { ...tcp, host: 'example.com', port: 80, timeout: 5 }],
    ['tcp:example.com:80', { ...tcp, host: 'example.com', port: 80 }],
    ['tcp:example.com:port=80', { ...tcp, host: 'example.com', port: 80 }],
    ['tcp:80:host=example.com', { ...tcp, host: 'example.com', port: 80 }],
    ['tcp:127.0.0.1:8080:timeout=0.5:bindAddress=127.0.0.2', { ...tcp, host: '127.0.0.1', port: 8080, timeout: 0.5, bindAddress: ['127.0.0.2', 0] }],
    ['tcp6:\\:\\:1:80', { ...tcp, type: 'tcp6', host: '::1', port: 80 }],
    ['unix:/tmp/s', { type: 'unix', path: '/tmp/s', timeout: 30, checkPID: false }],
    ['unix:path=/tmp/s:timeout=5', { type: 'unix', path: '/tmp/s', timeout: 5, checkPID: false }],
  ])('%s', (desc, spec) => {
    expect(parseClientSpec(desc)).toEqual(spec);
  });

  test.each([
    ['tcp:example.com', /missing port for a tcp client/],
    ['tcp:port=80', /missing host/],
    ['tcp:example.com:eighty', /port must be an integer from 1 to 65535, got 'eighty'/],
    ['tcp:example.com:0', /port must be an integer from 1/],
    ['tcp:example.com:80:timeout=soon', /timeout must be a number of seconds, got 'soon'/],
    ['tcp:example.com:80:interface=x', /unknown parameter 'interface' for a tcp client/],
    ['unix:timeout=5', /missing path/],
    ['unix:/tmp/s:/tmp/t', /too many positional arguments/],
    ['udp:1.2.3.4:53', /unknown endpoint type 'udp' \(known: tcp, tcp6, unix, tls, ssl\)/],
  ])('%s is rejected: %s', (desc, message) => {
    expect(() => parseClientSpec(desc)).toThrow(EndpointDescriptionError);
    expect(() => parseClientSpec(desc)).toThrow(message);
  });
});
