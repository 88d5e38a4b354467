/**
 * Compiles TypeScript the way a user of the package does: against the
 * declarations `npm run build` emits (dist/*.d.ts), found through the
 * package's own package.json under node_modules/ioreactor, with `--strict`.
 *
 * The declarations are emitted afresh into a private folder (the project's
 * tsconfig, declarations only), so the check never reads a stale dist/.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './child';

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** How a user's project resolves `import ... from 'ioreactor'`. */
export type Resolution = 'node10' | 'nodenext';

/** What tsc said: its exit status and everything it printed. */
export interface TscResult {
  status: number | null;
  output: string;
}

function tsc(args: string[], cwd: string): TscResult {
  const res = spawnSync(process.execPath, [TSC, ...args], { cwd, encoding: 'utf8', timeout: 180000 });
  const why = res.error ? `\n${String(res.error)}` : '';
  return { status: res.status, output: `${res.stdout}${res.stderr}${why}` };
}

/**
 * Makes `app` a project that depends on ioreactor: app/node_modules/ioreactor
 * holds the package.json and freshly emitted dist/*.d.ts, and @types/node is
 * linked in (the declarations use Buffer and NodeJS types, as a user's project
 * has them). Throws with tsc's output when the declarations do not emit.
 */
export function installPackageTypes(app: string): void {
  const pkg = path.join(app, 'node_modules', 'ioreactor');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  const emitted = tsc(['-p', path.join(ROOT, 'tsconfig.json'), '--emitDeclarationOnly', '--declarationMap', 'false', '--sourceMap', 'false', '--outDir', path.join(pkg, 'dist')], ROOT);
  if (emitted.status !== 0) throw new Error(`emitting the declarations failed:\n${emitted.output}`);
  fs.mkdirSync(path.join(app, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(app, 'node_modules', '@types', 'node'), 'dir');
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
}

/**
 * Type-checks files (paths inside app) under `--strict` with the given module
 * resolution, the package's declarations included (no skipLibCheck).
 */
export function compileStrict(app: string, files: string[], resolution: Resolution): TscResult {
  const module = resolution === 'nodenext' ? 'nodenext' : 'commonjs';
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module,
      moduleResolution: resolution,
      types: ['node'],
      skipLibCheck: false,
    },
    files,
  };
  const name = `tsconfig.${resolution}.json`;
  fs.writeFileSync(path.join(app, name), JSON.stringify(config, null, 2));
  return tsc(['-p', name], app);
}
