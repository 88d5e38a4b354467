#!/usr/bin/env node
/**
 * A small HTTP/1.1 "hello" server on the web layer: a Site serving one leaf
 * Resource whose render_GET and render_POST return the body. The Site does
 * the HTTP: keep-alive and pipelining (answers in order), chunked and
 * Content-Length bodies, Expect: 100-continue, HEAD, HTTP/1.0 clients, and
 * 400/413/431 for malformed or oversized requests.
 *
 * Run:   npm run build && node examples/http-hello.js [port]   (PORT=... works too)
 * Try:   curl -v http://127.0.0.1:<port>/ http://127.0.0.1:<port>/again
 */
'use strict';
const { Resource, Site, reactor, serverFromString } = require('../dist');

class Hello extends Resource {
  constructor() {
    super();
    this.isLeaf = true; // every path below / comes here
  }

  render_GET(request) {
    request.setHeader('Content-Type', 'text/plain; charset=utf-8');
    return `Hello, world! You asked for ${request.uri}\n`;
  }

  render_POST(request) {
    return this.render_GET(request);
  }
}

const port = Number(process.env.PORT || process.argv[2] || 8080);
const host = process.env.HOST || '127.0.0.1';
const site = new Site(new Hello(), { maxHeaderBytes: 8192, maxBodyBytes: 1 << 20 });

serverFromString(reactor, `tcp:${port}:interface=${host}`)
  .listen(site)
  .addCallbacks(
    (listening) => console.log(`http hello server listening on ${host}:${listening.getHost().port}`),
    (failure) => {
      console.error(`http hello server could not listen: ${failure.getErrorMessage()}`);
      process.exitCode = 1;
    },
  );
