#!/usr/bin/env node
// The `ioreactor` command (package.json "bin"): `ioreactor serve ./app.js`.
'use strict';
const { cli } = require('../dist/runner/cli');

cli(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e) => {
    process.stderr.write(`ioreactor: ${e && e.stack ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
