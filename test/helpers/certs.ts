/**
 * Certificates made at test time with Debian's openssl(1) in a temp dir: a
 * throwaway CA; server certificates for localhost/127.0.0.1 and for
 * other.test; a client certificate; an expired one and a self-signed one.
 * EC P-256 keys, so making them all takes a fraction of a second.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A key and certificate, PEM. */
export interface Identity {
  key: string;
  cert: string;
  keyPath: string;
  certPath: string;
}

/** Everything a TLS test needs. */
export interface TestCerts {
  dir: string;
  ca: Identity;
  /** CN=localhost, SAN DNS:localhost, IP:127.0.0.1; signed by ca. */
  server: Identity;
  /** CN=other.test, SAN DNS:other.test; signed by ca. */
  other: Identity;
  /** CN=client; signed by ca. */
  client: Identity;
  /** As server, but expired yesterday. */
  expired: Identity;
  /** CN=localhost, self-signed. */
  selfSigned: Identity;
  /** Removes the directory. */
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function read(dir: string, name: string): Identity {
  const keyPath = path.join(dir, `${name}.key`);
  const certPath = path.join(dir, `${name}.pem`);
  return { key: fs.readFileSync(keyPath, 'utf8'), cert: fs.readFileSync(certPath, 'utf8'), keyPath, certPath };
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A certificate for `cn` with `san` signed by the CA in dir, valid for `days` (negative: expired). */
function issue(dir: string, name: string, cn: string, san: string, days: number): void {
  openssl(dir, ['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`]);
}

/** Makes a fresh set of certificates in a new temp dir. */
export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-tls-'));
  openssl(dir, ['req', '-x509', ...KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=ioreactor test CA', '-days', '2']);
  issue(dir, 'server', 'localhost', 'DNS:localhost,IP:127.0.0.1', 2);
  issue(dir, 'other', 'other.test', 'DNS:other.test', 2);
  issue(dir, 'client', 'client', 'DNS:client', 2);
  issue(dir, 'expired', 'localhost', 'DNS:localhost,IP:127.0.0.1', -1);
  openssl(dir, ['req', '-x509', ...KEY, '-keyout', 'self.key', '-out', 'self.pem', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2']);
  return {
    dir,
    ca: read(dir, 'ca'),
    server: read(dir, 'server'),
    other: read(dir, 'other'),
    client: read(dir, 'client'),
    expired: read(dir, 'expired'),
    selfSigned: read(dir, 'self'),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
