/**
 * The published declarations (what `npm run build` writes to dist/*.d.ts):
 * members marked @internal are left out (stripInternal), and what is left
 * type-checks on its own, strictly and without skipLibCheck, as a consumer's
 * compiler would read it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

jest.setTimeout(120000);

const ROOT = path.join(__dirname, '..');

/** Emits lib/'s declarations with the package's own tsconfig into a fresh directory. */
function emitDeclarations(outDir: string): void {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (config === undefined) throw new Error('tsconfig.json does not parse');
  const options = { ...config.options, outDir, emitDeclarationOnly: true, sourceMap: false, declarationMap: false };
  const result = ts.createProgram(config.fileNames, options).emit();
  expect(result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
}

function filesBelow(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts')).map((f) => path.join(dir, f));
}

describe('published declarations', () => {
  let out: string;
  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-dts-'));
    emitDeclarations(out);
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  /** The declarations of one emitted file, without its comments. */
  function declarations(file: string): string {
    return fs.readFileSync(path.join(out, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  }

  it('leave out what is marked @internal', () => {
    expect(declarations('reactor/handler.d.ts')).toMatch(/class Handler \{\s*\}/);
    expect(declarations('transport/stream.d.ts')).not.toMatch(/\bstate\b|onDrained|closeSilently|attach\(/);
    expect(declarations('reactor/reactor.d.ts')).not.toMatch(/readonly core\b|readonly clock\b/);
    expect(filesBelow(out).some((f) => fs.readFileSync(f, 'utf8').includes('@internal'))).toBe(false);
  });

  it('type-check on their own (strict, no skipLibCheck)', () => {
    const program = ts.createProgram(filesBelow(out), {
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  });
});
