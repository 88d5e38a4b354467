'use strict';
/**
 * ioreactor web layer: the hello answer through Site and a Resource's
 * render_GET (parsing, Request, headers, Date), as node-http.js through
 * node:http. Same body and Content-Type as the other HTTP servers. With
 * --tls: HTTPS, Site over listenSSL (against node-https.js).
 */
const { parseArgs, loadReactor, listenReactor, BODY } = require('./common');

const opts = parseArgs(process.argv.slice(2));
const io = loadReactor();
const body = Buffer.from(BODY);

class Hello extends io.Resource {
  constructor() {
    super();
    this.isLeaf = true;
  }

  render_GET(request) {
    request.setHeader('Content-Type', 'text/plain');
    return body;
  }

  /** The http-post-64k scenario: the body is read whole (request.content), then the same answer. */
  render_POST(request) {
    request.setHeader('Content-Type', 'text/plain');
    return body;
  }
}

listenReactor(opts, io, new io.Site(new Hello()));
