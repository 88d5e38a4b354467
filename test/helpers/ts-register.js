// A tiny require hook so child processes and Workers spawned by tests can load
// lib/*.ts directly (`node -r test/helpers/ts-register.js`), without dist/.
'use strict';
const fs = require('fs');
const ts = require('typescript');

require.extensions['.ts'] = function loadTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
