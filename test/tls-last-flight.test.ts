/**
 * A TLS 1.3 server's last handshake flight (its NewSessionTickets) leaves in
 * the same send as what the protocol writes on the data that came with the
 * client's Finished, on every backend: a Python ssl client that sends its
 * Finished and 64 bytes in one segment gets the tickets and the echo in one
 * data segment (TCP_INFO's tcpi_data_segs_in: 2 with the server's first
 * flight; 3 when the tickets went alone, before). A server whose protocol
 * writes nothing still sends its tickets in that wake-up: the client can
 * resume with one. A large write on the handshake is not held (its
 * remainder is counted as buffered, so the writer stops), and a stream whose
 * write side was shut before the handshake ended sends its Finished at once.
 */
import { spawn, spawnSync } from 'child_process';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { ConnectionDone } from '../lib/errors';
import type { Reactor, StreamTransport } from '../lib/reactor';
import { CertificateOptions, optionsForClientTLS } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { keeping, recording } from './helpers/tcp';
import { listenTLSEcho, TLSRecorder } from './helpers/tls';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

// argv: port, mode. echo: the Finished and 64 bytes in one send, then the
// echo; prints "<echoed> <data segments received>". tickets: the Finished
// alone, then whatever arrives; prints "ticket <has_ticket>". Both end with
// close_notify and wait for the server's.
const PY_CLIENT = `
import socket, ssl, struct, sys
port, mode = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile='ca.pem')
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname='localhost')
s = socket.create_connection(('127.0.0.1', port), timeout=10)
def pump():
    d = s.recv(65536)
    if not d: sys.exit('closed by the server')
    inc.write(d)
while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        if out.pending: s.sendall(out.read())
        pump()
if mode == 'echo':
    tls.write(b'ping' * 16)
    s.sendall(out.read())
    got = b''
    while len(got) < 64:
        try: got += tls.read(65536)
        except ssl.SSLWantReadError: pump()
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    print(got == b'ping' * 16, struct.unpack_from('I', info, 152)[0])
else:
    s.sendall(out.read())
    while not tls.session.has_ticket:
        pump()
        try: tls.read(65536)
        except ssl.SSLWantReadError: pass
    print('ticket', tls.session.has_ticket)
try: tls.unwrap()
except ssl.SSLWantReadError: pass
s.sendall(out.read())
while True:
    try:
        tls.unwrap()
        break
    except ssl.SSLWantReadError: pump()
`;

/** The Python client reads TCP_INFO's Linux layout. */
const linuxPython = process.platform === 'linux' && spawnSync('python3', ['-c', 'pass']).status === 0;
const itPy = linuxPython ? it : it.skip;

/** Writes 16 MiB on the handshake and notes how much of it was left buffered right after. */
class BigOnHandshake extends TLSRecorder {
  bufferedAfter = -1;
  override handshakeCompleted(): void {
    super.handshakeCompleted();
    this.transport.write(Buffer.alloc(16 << 20, 0x61));
    this.bufferedAfter = (this.transport as StreamTransport).bufferedAmount();
  }
}

/** Shuts its write side before the handshake and closes once it is done. */
class HalfClosedEarly extends TLSRecorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport.loseWriteConnection();
  }
  override handshakeCompleted(): void {
    super.handshakeCompleted();
    this.transport.loseConnection();
  }
}

/** Runs the client in the certificates' directory; resolves with its stdout once it exits 0. */
function pyClient(port: number, mode: 'echo' | 'tickets'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', PY_CLIENT, String(port), mode], { cwd: certs.dir });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`python3 exited ${code}: ${err}`));
    });
  });
}

forEachBackend('A TLS 1.3 server’s last flight', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  itPy('goes out with the echo of the data that came with the Finished: one data segment for both', async () => {
    const { f, port, num } = listenTLSEcho(r, certs.server);
    for (let i = 0; i < 3; i++) expect(await pyClient(num, 'echo')).toBe('True 2');
    for (const p of f.built) expect((await p.lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  itPy('goes out alone in the same wake-up when the protocol writes nothing', async () => {
    const { f, port, num } = listenTLSEcho(r, certs.server);
    expect(await pyClient(num, 'tickets')).toBe('ticket True');
    expect(f.built[0].handshakes).toBe(1);
    expect((await f.built[0].lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  it('does not hold a large write made on the handshake: what the kernel refused is counted as buffered', async () => {
    const f = keeping(BigOnHandshake);
    const port = r.listenSSL(0, f, new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert }), { interface: '127.0.0.1' });
    const client = tls.connect({ port: (port.getHost() as IPv4Address).port, host: '127.0.0.1', ca: certs.ca.cert, servername: 'localhost' });
    client.pause(); // reads nothing: the kernel cannot take 16 MiB
    await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    const server = f.built[0];
    await server.handshaken;
    expect(server.bufferedAfter).toBeGreaterThan(0);
    client.destroy();
    await server.lost;
    await port.stopListening();
  });

  it('is sent at once when the write side was shut before the handshake ended (close_notify follows it)', async () => {
    const server = tls.createServer({ key: certs.server.key, cert: certs.server.cert });
    const secured = new Promise<void>((resolve) => server.once('secureConnection', (s: tls.TLSSocket) => {
      s.resume();
      resolve();
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cf = recording(HalfClosedEarly);
    const client = new HalfClosedEarly();
    cf.buildProtocol = () => client;
    r.connectSSL('127.0.0.1', (server.address() as { port: number }).port, cf, optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
    await secured; // before: the held Finished was dropped with the slot, and the server saw a reset instead
    expect((await client.lost).value).toBeInstanceOf(ConnectionDone);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
