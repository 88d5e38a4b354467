#!/usr/bin/env node
// Run by binding.gyp before anything compiles: ioreactor's TLS engine links
// against the OpenSSL inside Node (its SSL_* symbols resolve from the node
// binary at load time), so a runtime without it must fail the build with a
// clear message rather than build an addon that cannot load. Prints "ok".
'use strict';
const v = process.versions;
let why = null;
if (v.electron) why = `Electron ${v.electron} ships BoringSSL, not OpenSSL`;
else if (!v.openssl) why = 'this Node was built without OpenSSL (or against a shared one it does not export)';
else if (parseInt(v.openssl, 10) < 3) why = `this Node carries OpenSSL ${v.openssl}; ioreactor needs OpenSSL 3`;
if (why !== null) {
  process.stderr.write(`ioreactor: cannot build TLS support: ${why}.\n`);
  process.exit(1);
}
process.stdout.write('ok');
