'use strict';
/**
 * What every Node server under test shares: the HTTP answer, a request
 * counter that survives split reads, argument parsing, and the start-up
 * handshake with the harness (print the port on one stdout line; exit when
 * stdin closes, so a server never outlives the harness that started it).
 */

const BODY = 'hello world\n';
const HTTP_RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n' +
    'Connection: keep-alive\r\n\r\n' + BODY,
);
const END = Buffer.from('\r\n\r\n');

/** Counts complete requests (each ends with an empty line) across chunks. */
class RequestCounter {
  constructor() {
    this.match = 0; // how much of "\r\n\r\n" the stream currently ends with
  }

  /**
   * @param {Buffer} data the next chunk of the request stream
   * @returns {number} requests completed by this chunk
   */
  feed(data) {
    let n = 0;
    let m = this.match;
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (b === END[m]) m++;
      else m = b === 13 ? 1 : 0;
      if (m === 4) {
        n++;
        m = 0;
      }
    }
    this.match = m;
    return n;
  }
}

/**
 * The answer to `n` pipelined requests, as one buffer.
 * @param {number} n
 * @returns {Buffer}
 */
function responses(n) {
  return n === 1 ? HTTP_RESPONSE : Buffer.concat(new Array(n).fill(HTTP_RESPONSE));
}

/**
 * Parses `--backend X --accept-batch N --check --tls` style arguments
 * (--tls: listen with listenSSL on the harness's certificate).
 * @param {string[]} argv
 * (--coalesce US|auto: the reactor's coalescing window, ReactorOptions.coalesceMicros;
 * without it the default, 'auto').
 * @returns {{backend?: string, acceptBatch?: number, coalesce?: number | 'auto', check: boolean, tls?: boolean}}
 */
function parseArgs(argv) {
  const out = { check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--backend') out.backend = argv[++i];
    else if (argv[i] === '--accept-batch') out.acceptBatch = Number(argv[++i]);
    else if (argv[i] === '--coalesce') out.coalesce = argv[++i] === 'auto' ? 'auto' : Number(argv[i]);
    else if (argv[i] === '--no-cork') out.cork = false;
    else if (argv[i] === '--check') out.check = true;
    else if (argv[i] === '--tls') out.tls = true;
  }
  return out;
}

/**
 * Tells the harness the port, and ties our life to its stdin pipe.
 * @param {number} port
 */
function announce(port) {
  process.stdout.write(`${port}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

/**
 * Says why this server cannot run (the harness shows the line) and exits 3.
 * @param {string} why
 */
function skip(why) {
  process.stdout.write(`SKIP ${why}\n`);
  process.exit(3);
}

/**
 * Loads the built package and checks the reactor API the servers use.
 * Calls skip() when dist/ or the reactor is not there yet.
 * @returns {any} the package exports
 */
function loadReactor() {
  let io;
  try {
    io = require('../../dist');
  } catch (err) {
    skip(`ioreactor not built (npm run build): ${String(err.message).split('\n')[0]}`);
  }
  for (const name of ['createReactor', 'Protocol', 'Factory']) {
    if (typeof io[name] !== 'function') skip(`dist/ has no ${name} yet (reactor not landed)`);
  }
  return io;
}

/**
 * Creates the reactor and listens like every server here: 127.0.0.1,
 * port 0, backlog 1024 (over TLS with --tls); then announces the port (or exits 0 for --check).
 * @param {{backend?: string, acceptBatch?: number, coalesce?: number | 'auto', cork?: boolean, check: boolean}} opts
 * @param {any} io the package exports
 * @param {any} factory
 */
function listenReactor(opts, io, factory) {
  let reactor;
  try {
    // The servers do not read Node's event loop utilization, so they take
    // the wait with one kernel call less per wake-up (ReactorOptions).
    reactor = io.createReactor({
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.coalesce !== undefined ? { coalesceMicros: opts.coalesce } : {}),
      ...(opts.cork === false ? { corkWrites: false } : {}),
      exactLoopUtilization: false,
    });
  } catch (err) {
    skip(`backend ${opts.backend}: ${err.message}`);
  }
  const listenOpts = { interface: '127.0.0.1', backlog: 1024 };
  if (opts.acceptBatch) listenOpts.acceptBatch = opts.acceptBatch;
  const port = opts.tls ? reactor.listenSSL(0, factory, reactorTLS(io), listenOpts) : reactor.listenTCP(0, factory, listenOpts);
  if (opts.check) {
    process.stdout.write(`OK ${reactor.backend || opts.backend || ''}\n`);
    process.exit(0);
  }
  announce(port.getHost().port);
}

/**
 * The harness's certificate as ioreactor CertificateOptions (TLS 1.3 only,
 * as the load generator offers; the suite is the client's one choice).
 * Tickets as Node's servers send them: two after a full handshake, none
 * after a resumed one (renewSessionTickets: false; ioreactor's default
 * renews), so a resumed handshake is the same work for both. The load
 * generator counts the tickets each server sent.
 * @param {any} io the package exports
 */
function reactorTLS(io) {
  const { readCert } = require('../lib/tls-cert');
  const { key, cert } = readCert();
  return new io.CertificateOptions({ privateKey: key, certificate: cert, raiseMinimumTo: 'TLSv1.3', renewSessionTickets: false });
}

/** The same for Node's tls and https servers. */
function nodeTLS() {
  const { readCert } = require('../lib/tls-cert');
  return { ...readCert(), minVersion: 'TLSv1.3' };
}

module.exports = {
  BODY, HTTP_RESPONSE, RequestCounter, responses, parseArgs, announce, skip, loadReactor, listenReactor, nodeTLS,
};
