/**
 * TLS session resumption on every backend: server ticket keys the caller
 * sets (two ports with the same keys resume each other's sessions, other
 * keys do not), with Node's tls as the client that says whether it resumed.
 */
import * as crypto from 'crypto';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { Echo } from './helpers/tcp';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** A Node tls client: connects (offering `session`), waits for a ticket, closes; says whether it resumed. */
async function visit(port: number, session?: Buffer): Promise<{ reused: boolean; session: Buffer }> {
  const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost', session });
  const ticket = new Promise<Buffer>((res) => s.once('session', res));
  await new Promise<void>((res, rej) => {
    s.once('secureConnect', () => res());
    s.once('error', rej);
  });
  const reused = s.isSessionReused();
  s.resume(); // the echo is read (else no 'end', no 'close')
  s.write('x');
  const got = await ticket;
  s.end();
  await closed(s);
  return { reused, session: got };
}

forEachBackend('TLS sessions', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  const listenWith = (keys: Buffer): number => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert, sessionTicketKeys: keys });
    return (r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  };

  it('ports sharing ticket keys resume each other\'s sessions; other keys do not', async () => {
    const keys = crypto.randomBytes(80);
    const a = listenWith(keys);
    const b = listenWith(Buffer.from(keys)); // another context, same keys (as another process would have)
    const c = listenWith(crypto.randomBytes(80));
    const first = await visit(a);
    expect(first.reused).toBe(false);
    expect((await visit(b, first.session)).reused).toBe(true);
    expect((await visit(c, first.session)).reused).toBe(false);
  });

  /** A Node tls client that offers `session` and counts the tickets it gets until the server's close. */
  const countTickets = async (port: number, session?: Buffer): Promise<{ reused: boolean; tickets: Buffer[] }> => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost', session });
    const tickets: Buffer[] = [];
    s.on('session', (t: Buffer) => tickets.push(t));
    await new Promise<void>((res, rej) => {
      s.once('secureConnect', () => res());
      s.once('error', rej);
    });
    const reused = s.isSessionReused();
    s.resume();
    s.write('x');
    s.once('data', () => s.end()); // tickets go out before the echo
    await closed(s);
    return { reused, tickets };
  };

  const listenRenewing = (renewSessionTickets?: boolean): number => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert, raiseMinimumTo: 'TLSv1.3', renewSessionTickets });
    return (r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  };

  it('a resumed TLS 1.3 handshake gets one fresh ticket by default, and that ticket resumes', async () => {
    const port = listenRenewing();
    const full = await countTickets(port);
    expect([full.reused, full.tickets.length]).toEqual([false, 2]);
    const again = await countTickets(port, full.tickets[1]);
    expect([again.reused, again.tickets.length]).toEqual([true, 1]);
    expect((await countTickets(port, again.tickets[0])).reused).toBe(true);
  });

  it('renewSessionTickets: false sends no ticket on resumption; the client resumes with the one it has, again', async () => {
    const port = listenRenewing(false);
    const full = await countTickets(port);
    expect([full.reused, full.tickets.length]).toEqual([false, 2]);
    for (let i = 0; i < 3; i++) {
      const again = await countTickets(port, full.tickets[1]);
      expect([again.reused, again.tickets.length]).toEqual([true, 0]);
    }
    // a ticket this context cannot decrypt: a full handshake, and new tickets as usual
    const stranger = await countTickets(listenRenewing(false), full.tickets[1]);
    expect([stranger.reused, stranger.tickets.length]).toEqual([false, 2]);
  });

  it('renewSessionTickets must be a boolean', () => {
    expect(() => new CertificateOptions({ renewSessionTickets: 'no' as unknown as boolean })).toThrow(TypeError);
  });

  it('sessionTicketKeys must be 80 bytes', () => {
    expect(() => new CertificateOptions({ sessionTicketKeys: Buffer.alloc(48) })).toThrow(TypeError);
  });
});
