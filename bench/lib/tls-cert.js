'use strict';
/**
 * The one certificate every TLS server in the harness uses: a self-signed
 * RSA 2048 certificate for 127.0.0.1 and localhost, made with the openssl
 * CLI into build-bench/tls/ (git-ignored; never committed) the first time a
 * TLS server starts, and reused after. RSA 2048 because it is what most
 * sites still serve, and because its cost falls on the server (signing,
 * ~0.3 ms) rather than the client (verifying, ~0.02 ms): the load generator
 * is then never what limits a handshake rate. Made in a temporary directory
 * and renamed into place, so two harnesses starting at once never read a
 * half-written key.
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const DIR = path.resolve(__dirname, '..', '..', 'build-bench', 'tls');

/** Where the key and certificate are (or will be: ensureCert makes them). */
const FILES = { key: path.join(DIR, 'key.pem'), cert: path.join(DIR, 'cert.pem') };

/**
 * Makes the key and certificate if they are not there yet.
 * @returns {{key: string, cert: string}} their paths
 */
function ensureCert() {
  if (fs.existsSync(FILES.cert)) return FILES;
  fs.mkdirSync(path.dirname(DIR), { recursive: true });
  const tmp = fs.mkdtempSync(`${DIR}.tmp-`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem')], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    fs.renameSync(tmp, DIR);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true }); // another harness made it first
    if (!fs.existsSync(FILES.cert)) throw err;
  }
  return FILES;
}

/** The PEM texts, for servers that take them inline. */
function readCert() {
  const f = ensureCert();
  return { key: fs.readFileSync(f.key), cert: fs.readFileSync(f.cert) };
}

module.exports = { ensureCert, readCert, DIR, FILES };
