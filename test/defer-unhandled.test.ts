/**
 * Unhandled errors in Deferreds are logged once: on garbage collection or at
 * exit; the exit code is not changed (README). Each case runs in a child
 * `node --expose-gc` loading the TS sources.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');

/** Runs `body` (async JS, with Deferred, succeed, gcUntil and LOG, lib/log.ts's path, in scope) in a child; returns its exit status and stderr. */
function runChildStatus(body: string): { status: number | null; stderr: string } {
  const script = `
    const ts = require('typescript');
    const fs = require('fs');
    require.extensions['.ts'] = (m, filename) => {
      const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      m._compile(out, filename);
    };
    process.on('exit', () => process.stderr.write('EXITING\\n'));
    const { Deferred, succeed } = require(${JSON.stringify(path.join(root, 'lib/defer.ts'))});
    const LOG = ${JSON.stringify(path.join(root, 'lib/log.ts'))};
    const tick = () => new Promise((r) => setImmediate(r));
    async function gcUntil(done) {
      for (let i = 0; i < 50 && !done(); i++) { global.gc(); await tick(); }
    }
    let logged = 0;
    const origWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk, ...rest) => {
      if (String(chunk).includes('Unhandled error in Deferred:')) logged++;
      return origWrite(chunk, ...rest);
    };
    (async () => { ${body} })().then(() => process.stderr.write('BODY-DONE\\n'));
  `;
  // 60 s: the child transpiles lib/defer.ts with TypeScript first, which took over 15 s on a machine at load 15-20
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stderr: r.stderr };
}

/** runChildStatus for a child that must exit with 0: its stderr. */
function runChild(body: string): string {
  const r = runChildStatus(body);
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return r.stderr;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('unhandled errors in Deferreds', () => {
  test('a collected Deferred holding a failure logs it once, with the stack, before exit', () => {
    const err = runChild(`
      (() => { const d = new Deferred(); d.errback(new Error('lost-to-gc')); })();
      await gcUntil(() => logged > 0);
    `);
    expect(count(err, 'Unhandled error in Deferred:')).toBe(1);
    expect(err).toMatch(/Error: lost-to-gc\n\s+at /);
    expect(err.indexOf('Unhandled error in Deferred:')).toBeLessThan(err.indexOf('BODY-DONE'));
  });

  test('a failure still pending at exit is logged once at exit', () => {
    const err = runChild(`
      global.keep = new Deferred();
      global.keep.addCallback(() => { throw new TypeError('pending-at-exit'); });
      global.keep.callback(1);
      await gcUntil(() => false);
    `);
    expect(count(err, 'Unhandled error in Deferred:')).toBe(1);
    expect(err).toMatch(/TypeError: pending-at-exit/);
    expect(err.indexOf('Unhandled error in Deferred:')).toBeGreaterThan(err.indexOf('EXITING'));
  });

  test('the exit code is left alone (0, as in Twisted); an observer of the log may set it', () => {
    const body = `global.keep = new Deferred(); global.keep.errback(new Error('exit-code'));`;
    const plain = runChildStatus(body);
    expect(plain.status).toBe(0);
    expect(count(plain.stderr, 'Unhandled error in Deferred:')).toBe(1);
    const watched = runChildStatus(`
      require(LOG).log.addObserver((e) => { if (e.message.startsWith('Unhandled error in Deferred')) process.exitCode = 1; });
      ${body}
    `);
    expect(watched.status).toBe(1);
  });

  test('handled failures are not logged: errback, await, a chain that takes the failure', () => {
    const err = runChild(`
      (() => { const d = new Deferred(); d.errback(new Error('h1')); d.addErrback(() => null); })();
      try { const d2 = new Deferred(); d2.errback(new Error('h2')); await d2; } catch {}
      (() => {
        const inner = new Deferred(); inner.errback(new Error('h3'));
        const outer = succeed(1); outer.addCallback(() => inner).addErrback(() => 'ok');
      })();
      (() => {
        const inner = new Deferred();
        const outer = succeed(1); outer.addCallback(() => inner).addErrback(() => 'ok');
        inner.errback(new Error('h4'));
      })();
      (() => {
        const d = new Deferred(); d.errback(new Error('h5')); d.pause();
        const outer = succeed(1); outer.addCallback(() => d); outer.pause();
        d.unpause(); outer.addErrback(() => 'ok'); outer.unpause();
      })();
      await gcUntil(() => false);
    `);
    expect(err).toContain('BODY-DONE');
    expect(count(err, 'Unhandled error in Deferred:')).toBe(0);
  });

  test('a failure handled later, after a run ended holding it, is not logged', () => {
    const err = runChild(`
      const d = new Deferred();
      d.errback(new Error('later'));
      await gcUntil(() => false);
      d.addErrback(() => null);
      await gcUntil(() => false);
    `);
    expect(count(err, 'Unhandled error in Deferred:')).toBe(0);
  });
});
