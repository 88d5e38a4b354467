/**
 * The layering of lib/: lower layers never import from the ones built on
 * them, so a new transport or handler kind never has to edit what is below.
 */
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.join(__dirname, '..', 'lib');

/** The lib/-relative modules `file` imports (from `import ... from './x'` and `export ... from`). */
function importsOf(file: string): string[] {
  const source = fs.readFileSync(path.join(LIB, file), 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)) {
    out.push(path.relative(LIB, path.resolve(path.dirname(path.join(LIB, file)), m[1])));
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(LIB, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

/** Every .ts file under `dir` (lib/-relative, '' for all of lib/), subfolders included. */
function allFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(LIB, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...allFilesUnder(rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

describe('lib layering', () => {
  it('process.ts, udp.ts and lib/transport/ import nothing from lib/tcp/', () => {
    for (const file of ['process.ts', 'udp.ts', ...filesUnder('transport')]) {
      const fromTcp = importsOf(file).filter((m) => m.startsWith('tcp/'));
      expect({ file, fromTcp }).toEqual({ file, fromTcp: [] });
    }
  });

  it('lib/transport/ and the reactor core import nothing from tcp/, process or udp', () => {
    for (const file of [...filesUnder('transport'), 'reactor/core.ts']) {
      const upper = importsOf(file).filter((m) => m.startsWith('tcp/') || m === 'process' || m === 'udp');
      expect({ file, upper }).toEqual({ file, upper: [] });
    }
  });

  it('nothing below the web and WebSocket layers imports from them, and web/ nothing from websocket/', () => {
    for (const file of allFilesUnder('')) {
      if (file === 'index.ts' || file.startsWith('websocket/')) continue;
      const banned = file.startsWith('web/') ? ['websocket/'] : ['web/', 'websocket/'];
      const upper = importsOf(file).filter((m) => banned.some((b) => m.startsWith(b)));
      expect({ file, upper }).toEqual({ file, upper: [] });
    }
  });
});
