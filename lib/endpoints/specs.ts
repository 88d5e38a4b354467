/**
 * From a parsed description to a checked, typed endpoint spec (still no
 * sockets): what serverFromString/clientFromString build endpoints from.
 */
import { EndpointDescriptionError, parseDescription } from './description';

/** What a server description names. */
export type ServerSpec = TCPServerSpec | UNIXServerSpec | SSLServerSpec | SystemdServerSpec;

/** What a client description names. */
export type ClientSpec = TCPClientSpec | UNIXClientSpec | TLSClientSpec;

/** A `tcp:` or `tcp6:` server description. */
export interface TCPServerSpec {
  /** Which description it was. */
  type: 'tcp' | 'tcp6';
  /** Port to listen on (0: any). */
  port: number;
  /** Address to listen on ('' or '::' for all). */
  interface: string;
  /** Listen backlog. */
  backlog: number;
}

/** A `unix:` server description. */
export interface UNIXServerSpec {
  /** Always 'unix'. */
  type: 'unix';
  /** The socket's path. */
  address: string;
  /** File mode of the socket. */
  mode: number;
  /** Listen backlog. */
  backlog: number;
  /** Whether to hold a PID lock file beside the socket (`lockfile=1`). */
  wantPID: boolean;
}

/** An `ssl:` server description: a TCP server with a certificate. */
export interface SSLServerSpec {
  /** Always 'ssl'. */
  type: 'ssl';
  /** Port to listen on (0: any). */
  port: number;
  /** Address to listen on ('' for all). */
  interface: string;
  /** Listen backlog. */
  backlog: number;
  /** Path of the PEM private key. */
  privateKey: string;
  /** Path of the PEM certificate (the private key's file when not given). */
  certKey: string;
  /** Path of a PEM file of intermediate certificates, or null. */
  extraCertChain: string | null;
}

/** A `systemd:` server description: a socket passed in by socket activation. */
export interface SystemdServerSpec {
  /** Always 'systemd'. */
  type: 'systemd';
  /** The passed socket's family. */
  domain: 'INET' | 'INET6' | 'UNIX';
  /** Its position among the passed sockets, when chosen by position. */
  index: number | null;
  /** Its FileDescriptorName (LISTEN_FDNAMES), when chosen by name. */
  name: string | null;
}

/** A `tcp:` or `tcp6:` client description. */
export interface TCPClientSpec {
  /** Which description it was. */
  type: 'tcp' | 'tcp6';
  /** Host to connect to. */
  host: string;
  /** Port to connect to. */
  port: number;
  /** Seconds before the attempt fails. */
  timeout: number;
  /** Local [host, port] to bind before connecting, or null. */
  bindAddress: [string, number] | null;
}

/** A `unix:` client description. */
export interface UNIXClientSpec {
  /** Always 'unix'. */
  type: 'unix';
  /** The socket's path. */
  path: string;
  /** Seconds before the attempt fails. */
  timeout: number;
  /** Whether to check the server's PID lock file before connecting (`lockfile=1`). */
  checkPID: boolean;
}

/** A `tls:` (or `ssl:`) client description: a TCP client that verifies the server. */
export interface TLSClientSpec {
  /** Always 'tls'. */
  type: 'tls';
  /** Host to connect to (and the name the certificate must carry). */
  host: string;
  /** Port to connect to. */
  port: number;
  /** Seconds before the attempt fails. */
  timeout: number;
  /** Local [host, port] to bind before connecting, or null. */
  bindAddress: [string, number] | null;
  /** A directory (or file) of PEM CA certificates; null: the platform roots. */
  trustRoots: string | null;
  /** Path of a PEM client certificate, or null. */
  certificate: string | null;
  /** Path of the client certificate's PEM private key, or null. */
  privateKey: string | null;
}

/** Values by parameter name, filled from positional then keyword arguments. */
class Fields {
  private readonly values = new Map<string, string>();

  constructor(
    private readonly description: string,
    private readonly what: string,
    positional: string[],
    args: string[],
    kwargs: Map<string, string>,
    known: string[],
  ) {
    if (args.length > positional.length) {
      this.fail(`too many positional arguments for ${what} (at most ${positional.length}: ${positional.join(', ') || 'none'}); extra: '${args.slice(positional.length).join(':')}'`);
    }
    args.forEach((v, i) => this.values.set(positional[i], v));
    for (const [k, v] of kwargs) {
      if (!known.includes(k)) this.fail(`unknown parameter '${k}' for ${what} (known: ${known.join(', ')})`);
      if (this.values.has(k)) this.fail(`'${k}' given both by position and as ${k}=`);
      this.values.set(k, v);
    }
  }

  fail(why: string): never {
    throw new EndpointDescriptionError(this.description, why);
  }

  /** The raw string, or the fallback when absent; a required one throws. */
  str(name: string, fallback?: string): string {
    const v = this.values.get(name);
    if (v !== undefined) return v;
    if (fallback === undefined) this.fail(`missing ${name} for ${this.what}`);
    return fallback;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  int(name: string, fallback: number | undefined, min: number, max: number): number {
    const raw = this.str(name, fallback === undefined ? undefined : String(fallback));
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) this.fail(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    return n;
  }

  seconds(name: string, fallback: number): number {
    const raw = this.str(name, String(fallback));
    const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(n)) this.fail(`${name} must be a number of seconds, got '${raw}'`);
    return n;
  }

  mode(name: string, fallback: string): number {
    const raw = this.str(name, fallback);
    if (!/^0?[0-7]{1,4}$/.test(raw)) this.fail(`${name} must be an octal file mode such as 660, got '${raw}'`);
    return parseInt(raw, 8);
  }

  flag(name: string, fallback: boolean): boolean {
    const raw = this.str(name, fallback ? '1' : '0');
    if (!/^-?\d+$/.test(raw)) this.fail(`${name} must be 0 or 1, got '${raw}'`);
    return Number(raw) !== 0;
  }
}

const SERVER_TYPES = ['tcp', 'tcp6', 'unix', 'ssl', 'systemd'];
const CLIENT_TYPES = ['tcp', 'tcp6', 'unix', 'tls', 'ssl'];

/** Parses and checks a server description such as `tcp:8080:interface=127.0.0.1`. */
export function parseServerSpec(description: string): ServerSpec {
  const { type, args, kwargs } = parseDescription(description);
  if (type === 'tcp' || type === 'tcp6') {
    const names = ['port', 'interface', 'backlog'];
    const f = new Fields(description, `a ${type} server`, names, args, kwargs, names);
    return {
      type,
      port: f.int('port', undefined, 0, 65535),
      interface: f.str('interface', type === 'tcp6' ? '::' : ''),
      backlog: f.int('backlog', 50, 0, 2 ** 31 - 1),
    };
  }
  if (type === 'unix') {
    const names = ['address', 'mode', 'backlog', 'lockfile'];
    const f = new Fields(description, 'a unix server', names, args, kwargs, names);
    return {
      type,
      address: nonEmpty(f, f.str('address'), 'address'),
      mode: f.mode('mode', '666'),
      backlog: f.int('backlog', 50, 0, 2 ** 31 - 1),
      wantPID: f.flag('lockfile', true),
    };
  }
  if (type === 'ssl') return sslServerSpec(description, args, kwargs);
  if (type === 'systemd') return systemdServerSpec(description, args, kwargs);
  throw new EndpointDescriptionError(description, `unknown endpoint type '${type}' (known: ${SERVER_TYPES.join(', ')})`);
}

/** Twisted's `ssl:PORT:privateKey=..:certKey=..[:extraCertChain=..][:interface=..][:backlog=..]` (files, PEM). */
function sslServerSpec(description: string, args: string[], kwargs: Map<string, string>): ServerSpec {
  const names = ['port', 'privateKey', 'certKey', 'extraCertChain', 'interface', 'backlog'];
  const f = new Fields(description, 'an ssl server', ['port'], args, kwargs, names);
  // As Twisted: the key file defaults to server.pem, the certificate to the key file.
  const privateKey = nonEmpty(f, f.str('privateKey', 'server.pem'), 'privateKey');
  return {
    type: 'ssl',
    port: f.int('port', undefined, 0, 65535),
    interface: f.str('interface', ''),
    backlog: f.int('backlog', 50, 0, 2 ** 31 - 1),
    privateKey,
    certKey: nonEmpty(f, f.str('certKey', privateKey), 'certKey'),
    extraCertChain: f.has('extraCertChain') ? nonEmpty(f, f.str('extraCertChain'), 'extraCertChain') : null,
  };
}

/** Twisted's `systemd:domain=INET|INET6|UNIX:index=N` or `...:name=NAME` (LISTEN_FDNAMES). */
function systemdServerSpec(description: string, args: string[], kwargs: Map<string, string>): ServerSpec {
  const names = ['domain', 'index', 'name'];
  const f = new Fields(description, 'a systemd server', ['domain', 'index'], args, kwargs, names);
  const raw = f.str('domain');
  const domain = (['INET', 'INET6', 'UNIX'] as const).find((d) => d === raw);
  if (domain === undefined) return f.fail(`domain must be INET, INET6 or UNIX, got '${raw}'`);
  if (f.has('index') === f.has('name')) f.fail('give exactly one of index= and name=');
  return {
    type: 'systemd',
    domain,
    index: f.has('index') ? f.int('index', undefined, 0, 65535) : null,
    name: f.has('name') ? nonEmpty(f, f.str('name'), 'name') : null,
  };
}

/** Twisted's `tls:HOST:PORT[:trustRoots=DIR][:certificate=..:privateKey=..][:timeout=..][:bindAddress=..]`. */
function tlsClientSpec(description: string, args: string[], kwargs: Map<string, string>): ClientSpec {
  const known = ['host', 'port', 'timeout', 'bindAddress', 'trustRoots', 'certificate', 'privateKey'];
  const f = verifiedClientFields(description, 'a tls client', args, kwargs, known);
  if (f.has('certificate') !== f.has('privateKey')) f.fail('certificate and privateKey go together');
  const trustRoots = f.has('trustRoots') ? nonEmpty(f, f.str('trustRoots'), 'trustRoots') : null;
  return verifiedClient(f, trustRoots, f.has('certificate') ? f.str('certificate') : null, f.has('privateKey') ? f.str('privateKey') : null);
}

/**
 * Twisted's `ssl:HOST:PORT[:caCertsDir=DIR][:certKey=..[:privateKey=..]][:timeout=..][:bindAddress=..]`
 * client, read as a tls: one: the key defaults to the certKey file, as
 * Twisted's. Unlike Twisted's, it always verifies the server against HOST
 * (with the platform roots when no caCertsDir); its `hostname=`, a name to
 * verify other than HOST, is refused.
 */
function sslClientSpec(description: string, args: string[], kwargs: Map<string, string>): ClientSpec {
  if (kwargs.has('hostname')) {
    throw new EndpointDescriptionError(description, 'hostname= is not taken: an ssl: client verifies the server against host= (connect to that name)');
  }
  const known = ['host', 'port', 'timeout', 'bindAddress', 'caCertsDir', 'certKey', 'privateKey'];
  const f = verifiedClientFields(description, 'an ssl client', args, kwargs, known);
  if (f.has('privateKey') && !f.has('certKey')) f.fail('privateKey needs certKey (the client certificate)');
  const trustRoots = f.has('caCertsDir') ? nonEmpty(f, f.str('caCertsDir'), 'caCertsDir') : null;
  const certificate = f.has('certKey') ? nonEmpty(f, f.str('certKey'), 'certKey') : null;
  return verifiedClient(f, trustRoots, certificate, certificate === null ? null : f.str('privateKey', certificate));
}

/** The fields of a tls: or ssl: client: one positional is the port when host= is given, else the host (as tcp:). */
function verifiedClientFields(description: string, what: string, args: string[], kwargs: Map<string, string>, known: string[]): Fields {
  const positional = args.length === 1 && kwargs.has('host') ? ['port'] : ['host', 'port'];
  return new Fields(description, what, positional, args, kwargs, known);
}

/** A TLSClientSpec from the fields both client types share, and the files each names its own way. */
function verifiedClient(f: Fields, trustRoots: string | null, certificate: string | null, privateKey: string | null): TLSClientSpec {
  return {
    type: 'tls',
    host: nonEmpty(f, f.str('host'), 'host'),
    port: f.int('port', undefined, 1, 65535),
    timeout: f.seconds('timeout', 30),
    bindAddress: f.has('bindAddress') ? [f.str('bindAddress'), 0] : null,
    trustRoots,
    certificate,
    privateKey,
  };
}

/** Parses and checks a client description such as `tcp:host=example.com:port=80`. */
export function parseClientSpec(description: string): ClientSpec {
  const { type, args, kwargs } = parseDescription(description);
  if (type === 'tcp' || type === 'tcp6') {
    // Twisted: one positional is the port when host= is given, else the host.
    const positional = args.length === 1 && kwargs.has('host') ? ['port'] : ['host', 'port'];
    const f = new Fields(description, `a ${type} client`, positional, args, kwargs, ['host', 'port', 'timeout', 'bindAddress']);
    return {
      type,
      host: nonEmpty(f, f.str('host'), 'host'),
      port: f.int('port', undefined, 1, 65535),
      timeout: f.seconds('timeout', 30),
      bindAddress: f.has('bindAddress') ? [f.str('bindAddress'), 0] : null,
    };
  }
  if (type === 'unix') {
    const f = new Fields(description, 'a unix client', ['path'], args, kwargs, ['path', 'timeout', 'lockfile']);
    return {
      type,
      path: nonEmpty(f, f.str('path'), 'path'),
      timeout: f.seconds('timeout', 30),
      checkPID: f.flag('lockfile', false),
    };
  }
  if (type === 'tls') return tlsClientSpec(description, args, kwargs);
  if (type === 'ssl') return sslClientSpec(description, args, kwargs);
  throw new EndpointDescriptionError(description, `unknown endpoint type '${type}' (known: ${CLIENT_TYPES.join(', ')})`);
}

function nonEmpty(f: Fields, value: string, name: string): string {
  if (value === '') f.fail(`${name} must not be empty`);
  return value;
}
