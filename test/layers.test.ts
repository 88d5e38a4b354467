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
});
