/**
 * The `ssl:` server and the `tls:` and `ssl:` client endpoint strings, as
 * Twisted writes them: parsing (defaults, errors) and verified round trips
 * (one with a client certificate) over real loopback sockets on every backend.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import { clientFromString, EndpointDescriptionError, parseClientSpec, parseServerSpec, serverFromString } from '../lib/endpoints';
import { CertificateError, TLSError } from '../lib/errors';
import type { ISSLTransport } from '../lib/interfaces';
import { Factory, Protocol } from '../lib/protocol';
import { LineReceiver } from '../lib/protocols/line';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { signal } from './helpers/tcp';

jest.setTimeout(20000);

let certs: TestCerts;
let roots: string;
beforeAll(() => {
  certs = makeCerts();
  roots = path.join(certs.dir, 'roots');
  fs.mkdirSync(roots);
  fs.copyFileSync(certs.ca.certPath, path.join(roots, 'ca.pem'));
});
afterAll(() => certs.cleanup());

class Shout extends LineReceiver {
  override lineReceived(line: Buffer): void {
    this.sendLine(line.toString().toUpperCase());
  }
}

describe('ssl: and tls: descriptions', () => {
  it('ssl: takes Twisted\'s parameters; the certificate defaults to the key file, the key to server.pem', () => {
    expect(parseServerSpec('ssl:8443:privateKey=k.pem:certKey=c.pem:extraCertChain=ch.pem:interface=127.0.0.1')).toEqual({
      type: 'ssl', port: 8443, interface: '127.0.0.1', backlog: 50, privateKey: 'k.pem', certKey: 'c.pem', extraCertChain: 'ch.pem',
    });
    expect(parseServerSpec('ssl:443:privateKey=both.pem')).toMatchObject({ privateKey: 'both.pem', certKey: 'both.pem', extraCertChain: null });
    expect(parseServerSpec('ssl:443')).toMatchObject({ privateKey: 'server.pem', certKey: 'server.pem' });
    expect(() => parseServerSpec('ssl:443:keyFile=x')).toThrow(EndpointDescriptionError);
  });

  it('tls: takes host and port by position or name, trustRoots and a client certificate pair', () => {
    expect(parseClientSpec('tls:example.com:443')).toEqual({
      type: 'tls', host: 'example.com', port: 443, timeout: 30, bindAddress: null, trustRoots: null, certificate: null, privateKey: null,
    });
    expect(parseClientSpec('tls:host=example.com:port=443:trustRoots=/etc/roots:certificate=c.pem:privateKey=k.pem')).toMatchObject({
      trustRoots: '/etc/roots', certificate: 'c.pem', privateKey: 'k.pem',
    });
    expect(() => parseClientSpec('tls:example.com:443:certificate=c.pem')).toThrow(/go together/);
    expect(() => parseClientSpec('tls:example.com')).toThrow(EndpointDescriptionError);
  });

  it('an ssl: client takes Twisted\'s names, read as tls:: caCertsDir, certKey, the key defaulting to the certKey file', () => {
    expect(parseClientSpec('ssl:example.com:443')).toEqual(parseClientSpec('tls:example.com:443'));
    expect(parseClientSpec('ssl:host=example.com:port=443:caCertsDir=/etc/roots:certKey=c.pem:privateKey=k.pem:timeout=5:bindAddress=127.0.0.1')).toEqual(
      parseClientSpec('tls:host=example.com:port=443:trustRoots=/etc/roots:certificate=c.pem:privateKey=k.pem:timeout=5:bindAddress=127.0.0.1'),
    );
    expect(parseClientSpec('ssl:example.com:443:certKey=both.pem')).toMatchObject({ certificate: 'both.pem', privateKey: 'both.pem' });
    expect(() => parseClientSpec('ssl:example.com:443:privateKey=k.pem')).toThrow(/privateKey needs certKey/);
    expect(() => parseClientSpec('ssl:example.com:443:hostname=other.example')).toThrow(/hostname= is not taken/);
    expect(() => parseClientSpec('ssl:example.com:443:trustRoots=/etc/roots')).toThrow(/unknown parameter 'trustRoots' for an ssl client/);
    expect(() => parseClientSpec('ssl:example.com')).toThrow(EndpointDescriptionError);
  });

  it('unusable key files are a CertificateError when the endpoint is made', () => {
    const r = new Reactor();
    try {
      expect(() => serverFromString(r, `ssl:0:privateKey=${certs.other.keyPath}:certKey=${certs.server.certPath}`)).toThrow(CertificateError);
      // A file that is not there is one too, named with its parameter (it was a bare ENOENT Error).
      const missing = path.join(os.tmpdir(), 'ioreactor-no-such-file.pem');
      expect(() => serverFromString(r, `ssl:0:privateKey=${missing}:certKey=${certs.server.certPath}`)).toThrow(
        new CertificateError('UNREADABLE_FILE', `privateKey=${missing}: ENOENT`),
      );
      expect(() => serverFromString(r, `ssl:0:privateKey=${certs.server.keyPath}:certKey=${missing}`)).toThrow(/certKey=.*ENOENT/);
      expect(() => clientFromString(r, `tls:localhost:1:trustRoots=${missing}`)).toThrow(
        new CertificateError('UNREADABLE_FILE', `trustRoots=${missing}: ENOENT`),
      );
      // So is a file inside a trustRoots directory that cannot be read (here a link to nothing).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-roots-'));
      const dangling = path.join(dir, 'gone.pem');
      fs.symlinkSync(missing, dangling);
      try {
        expect(() => clientFromString(r, `tls:localhost:1:trustRoots=${dir}`)).toThrow(
          new CertificateError('UNREADABLE_FILE', `trustRoots=${dangling}: ENOENT`),
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } finally {
      r.close();
    }
  });
});

forEachBackend('ssl:/tls: endpoints', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('a tls: client verified against trustRoots talks to an ssl: server', async () => {
    const server = serverFromString(r, `ssl:0:privateKey=${certs.server.keyPath}:certKey=${certs.server.certPath}:interface=127.0.0.1`);
    const port = await server.listen(Factory.forProtocol(Shout));
    const num = (port.getHost() as IPv4Address).port;
    const got = signal<string>();
    class Client extends LineReceiver {
      override connectionMade(): void {
        this.sendLine('quiet please');
      }
      override lineReceived(line: Buffer): void {
        got.resolve(line.toString());
        this.transport!.loseConnection();
      }
    }
    const client = await clientFromString(r, `tls:localhost:${num}:trustRoots=${roots}`).connect(Factory.forProtocol(Client));
    expect(await got.promise).toBe('QUIET PLEASE');
    expect(client).toBeInstanceOf(Client);
    await port.stopListening();
  });

  it('an ssl: client with caCertsDir and a certKey holding its key too talks to a listenSSL server that asks for one', async () => {
    const both = path.join(certs.dir, 'client-both.pem');
    fs.writeFileSync(both, certs.client.cert + certs.client.key);
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert, requireCertificate: true, trustRoot: certs.ca.cert });
    let peer: string | undefined;
    class Named extends Shout {
      override lineReceived(line: Buffer): void {
        peer = (this.transport as unknown as ISSLTransport).getPeerCertificate()?.subject;
        super.lineReceived(line);
      }
    }
    const port = r.listenSSL(0, Factory.forProtocol(Named), opts, { interface: '127.0.0.1' });
    const got = signal<string>();
    class Client extends LineReceiver {
      override connectionMade(): void {
        this.sendLine('who am i');
      }
      override lineReceived(line: Buffer): void {
        got.resolve(line.toString());
        this.transport!.loseConnection();
      }
    }
    const num = (port.getHost() as IPv4Address).port;
    await clientFromString(r, `ssl:localhost:${num}:caCertsDir=${roots}:certKey=${both}`).connect(Factory.forProtocol(Client));
    expect(await got.promise).toBe('WHO AM I');
    expect(peer).toBe('CN=client');
    await port.stopListening();
  });

  it('a tls: client refuses a server whose certificate is not for its host', async () => {
    const server = serverFromString(r, `ssl:0:privateKey=${certs.other.keyPath}:certKey=${certs.other.certPath}:interface=127.0.0.1`);
    const port = await server.listen(Factory.forProtocol(Shout));
    const lost = signal<unknown>();
    class Client extends Protocol {
      override connectionLost(reason: { value: unknown }): void {
        lost.resolve(reason.value);
      }
    }
    await clientFromString(r, `tls:localhost:${(port.getHost() as IPv4Address).port}:trustRoots=${roots}`).connect(Factory.forProtocol(Client));
    const err = (await lost.promise) as TLSError;
    expect(err).toBeInstanceOf(TLSError);
    expect(err.verifyCode).toBe('HOSTNAME_MISMATCH');
    await port.stopListening();
  });
});
