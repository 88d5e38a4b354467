/**
 * The published types, as a strict TypeScript user meets them (a tsd-style
 * check with tsc alone): test/types/ok.ts must compile under `--strict`
 * against the emitted declarations with no cast and no `!`, every line of
 * test/types/misuse.ts marked `@ts-expect-error` must be an error, and every
 * ```ts sample in README.md and docs/*.md must compile, so none can rot.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './helpers/child';
import { compileStrict, installPackageTypes, Resolution } from './helpers/package-types';

const FIXTURES = path.join(__dirname, 'types');
const RESOLUTIONS: Resolution[] = ['node10', 'nodenext'];

/** The ```ts blocks of a markdown file, with the line each starts on. */
function tsBlocks(file: string): { line: number; code: string }[] {
  const text = fs.readFileSync(file, 'utf8');
  const blocks: { line: number; code: string }[] = [];
  const fence = /^```(?:ts|typescript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    blocks.push({ line: text.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return blocks;
}

/** The markdown files whose samples are checked: README.md and docs/*.md. */
function markdownFiles(): string[] {
  const docs = path.join(ROOT, 'docs');
  const inDocs = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => path.join(docs, f)) : [];
  return [path.join(ROOT, 'README.md'), ...inDocs];
}

/** Source text without comments, for checking what the code itself does. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

describe('the published types under --strict', () => {
  let app: string;

  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-types-'));
    installPackageTypes(app);
    for (const f of ['ok.ts', 'misuse.ts']) fs.copyFileSync(path.join(FIXTURES, f), path.join(app, f));
  }, 180000);

  afterAll(() => {
    fs.rmSync(app, { recursive: true, force: true });
  });

  test('the ordinary-code fixture uses no cast and no non-null assertion', () => {
    const code = withoutComments(fs.readFileSync(path.join(FIXTURES, 'ok.ts'), 'utf8'));
    expect(code.match(/\bas\s+(?!const\b)[\w{([]/g)).toBeNull();
    expect(code.match(/[\w)\]]!(?=[.;,)[\]])/g)).toBeNull();
    expect(code).toContain('this.transport.setTcpNoDelay(true)');
  });

  test.each(RESOLUTIONS)('ordinary code compiles (moduleResolution %s)', (resolution) => {
    const res = compileStrict(app, ['ok.ts'], resolution);
    expect(res.output).toBe('');
    expect(res.status).toBe(0);
  }, 120000);

  test('each misuse is a type error (an unused @ts-expect-error fails)', () => {
    const directives = fs.readFileSync(path.join(FIXTURES, 'misuse.ts'), 'utf8').match(/\/\/ @ts-expect-error /g) ?? [];
    expect(directives.length).toBeGreaterThanOrEqual(14);
    const res = compileStrict(app, ['misuse.ts'], 'node10');
    expect(res.output).toBe('');
    expect(res.status).toBe(0);
  }, 120000);

  test('every ```ts sample in README.md and docs/*.md compiles', () => {
    const files: string[] = [];
    const origin = new Map<string, string>();
    for (const md of markdownFiles()) {
      for (const { line, code } of tsBlocks(md)) {
        const name = `sample-${files.length + 1}.ts`;
        // `export {}` keeps each sample a module of its own, as a user's file is.
        fs.writeFileSync(path.join(app, name), `${code}\nexport {};\n`);
        files.push(name);
        origin.set(name, `${path.relative(ROOT, md)}:${line}`);
      }
    }
    expect(files.length).toBeGreaterThan(0);
    const res = compileStrict(app, files, 'node10');
    // Name the markdown file and line of each failing sample.
    const located = res.output.replace(/sample-\d+\.ts/g, (f) => `${f} (${origin.get(f) ?? '?'})`);
    expect(located).toBe('');
    expect(res.status).toBe(0);
  }, 120000);
});
