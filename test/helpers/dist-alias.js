// Preload for running examples/*.js unchanged in tests: `require('../dist')`
// (or 'ioreactor') resolves to lib/index.ts, loaded through ts-register.js,
// so the tests need no fresh `npm run build`.
'use strict';
const Module = require('module');
const path = require('path');
require('./ts-register');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const ENTRY = path.join(ROOT, 'lib', 'index.ts');
const resolve = Module._resolveFilename;

Module._resolveFilename = function resolveDistToLib(request, parent, ...rest) {
  if (request === 'ioreactor') return ENTRY;
  if (parent && parent.filename && (request === '../dist' || request.startsWith('../dist/'))) {
    const target = path.resolve(path.dirname(parent.filename), request);
    if (target === DIST) return ENTRY;
  }
  return resolve.call(this, request, parent, ...rest);
};
