#!/usr/bin/env node
/**
 * A small HTTP/1.1 "hello" server on a LineReceiver: request line and headers
 * are lines, a body (Content-Length) is read in raw mode, connections are kept
 * alive (and pipelined requests answered in order) unless the client says close.
 *
 * Run:   npm run build && node examples/http-hello.js [port]   (PORT=... works too)
 * Try:   curl -v http://127.0.0.1:<port>/ http://127.0.0.1:<port>/again
 */
'use strict';
const { Factory, LineReceiver, reactor, serverFromString } = require('../dist');

const MAX_HEADERS = 100;
const MAX_BODY = 1 << 20;

class HelloHTTP extends LineReceiver {
  constructor() {
    super();
    this.MAX_LENGTH = 8192;
    this.reset();
  }

  reset() {
    this.request = null; // { method, target, version }
    this.headers = new Map();
    this.bodyLeft = 0;
  }

  lineReceived(line) {
    const text = line.toString('latin1');
    if (this.request === null) {
      if (text === '') return; // tolerate blank lines between requests (RFC 9112 2.2)
      const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(text);
      if (!m) return this.fail(400, 'Bad Request');
      this.request = { method: m[1], target: m[2], version: m[3] };
    } else if (text !== '') {
      const colon = text.indexOf(':');
      if (colon <= 0 || this.headers.size >= MAX_HEADERS) return this.fail(colon <= 0 ? 400 : 431, 'Bad Request');
      this.headers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
    } else {
      this.headersDone();
    }
  }

  headersDone() {
    const length = this.headers.has('content-length') ? Number(this.headers.get('content-length')) : 0;
    if (!Number.isInteger(length) || length < 0 || length > MAX_BODY) return this.fail(400, 'Bad Request');
    if (this.headers.has('transfer-encoding')) return this.fail(501, 'Not Implemented');
    if ((this.headers.get('expect') || '').toLowerCase() === '100-continue' && length > 0) {
      this.transport.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    if (length === 0) return this.respond();
    this.bodyLeft = length;
    this.setRawMode();
  }

  rawDataReceived(data) {
    const used = Math.min(this.bodyLeft, data.length);
    this.bodyLeft -= used;
    if (this.bodyLeft > 0) return;
    this.respond();
    this.setLineMode(data.subarray(used));
  }

  respond() {
    const { method, target, version } = this.request;
    const connection = (this.headers.get('connection') || '').toLowerCase();
    const keepAlive = version === '1.1' ? connection !== 'close' : connection === 'keep-alive';
    const body = Buffer.from(`Hello, world! You asked for ${target}\n`);
    this.transport.write(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
        `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`,
    );
    if (method !== 'HEAD') this.transport.write(body);
    this.reset();
    if (!keepAlive) this.transport.loseConnection();
  }

  fail(status, reason) {
    this.transport.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    this.transport.loseConnection();
  }

  lineLengthExceeded() {
    this.fail(431, 'Request Header Fields Too Large');
  }
}

const port = Number(process.env.PORT || process.argv[2] || 8080);
const host = process.env.HOST || '127.0.0.1';

serverFromString(reactor, `tcp:${port}:interface=${host}`)
  .listen(Factory.forProtocol(HelloHTTP))
  .addCallbacks(
    (listening) => console.log(`http hello server listening on ${host}:${listening.getHost().port}`),
    (failure) => {
      console.error(`http hello server could not listen: ${failure.getErrorMessage()}`);
      process.exitCode = 1;
    },
  );
