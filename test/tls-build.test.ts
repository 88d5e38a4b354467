/**
 * The build's OpenSSL checks: binding.gyp runs scripts/check-node-openssl.js,
 * which fails with a clear message on a runtime without Node's OpenSSL
 * (Electron's BoringSSL, a Node without OpenSSL) instead of producing an
 * addon that cannot load; and the addon really links no libssl of its own.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-node-openssl.js');

function check(fake: string): { status: number | null; stderr: string; stdout: string } {
  const code = `Object.defineProperty(process, 'versions', { value: { ...process.versions, ${fake} } }); require(${JSON.stringify(SCRIPT)});`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('Node OpenSSL build check', () => {
  it('passes on this Node (OpenSSL 3 inside)', () => {
    expect(process.versions.openssl).toMatch(/^3\./);
    expect(check('')).toEqual({ status: 0, stderr: '', stdout: 'ok' });
  });

  it('fails with a clear message under Electron, without OpenSSL, or with OpenSSL 1.1', () => {
    expect(check("electron: '30.0.0'")).toMatchObject({ status: 1, stderr: expect.stringMatching(/Electron 30\.0\.0 ships BoringSSL/) });
    expect(check('openssl: undefined')).toMatchObject({ status: 1, stderr: expect.stringMatching(/without OpenSSL/) });
    expect(check("openssl: '1.1.1w'")).toMatchObject({ status: 1, stderr: expect.stringMatching(/needs OpenSSL 3/) });
  });

  it('binding.gyp runs the check', () => {
    expect(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8')).toContain('scripts/check-node-openssl.js');
  });

  it('the addon links no libssl/libcrypto: its SSL_* symbols come from node', () => {
    const addon = path.join(ROOT, 'build', 'Release', 'ioreactor.node');
    const needed = execFileSync('readelf', ['-d', addon], { encoding: 'utf8' });
    expect(needed).not.toMatch(/libssl|libcrypto/);
    const undefinedSyms = execFileSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
    expect(undefinedSyms).toMatch(/\bSSL_new\b/);
    const nodeSyms = execFileSync('nm', ['-D', '--defined-only', process.execPath], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    expect(nodeSyms).toMatch(/\bSSL_new\b/);
  });
});
