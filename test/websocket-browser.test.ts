/**
 * A browser against our WebSocket server, on every backend: headless
 * Chromium loads a page from our Site that opens a WebSocket to it,
 * exchanges text, binary and a large message, closes, and POSTs what it saw
 * back to the Site. Once without and once with permessage-deflate (which
 * Chromium offers).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { Request, Resource, Site } from '../lib/web';
import { WebSocketResource } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { echoFactory, EchoLog } from './helpers/websocket';

jest.setTimeout(40000);

const PAGE = `<!doctype html><meta charset="utf-8"><script>
const out = [];
const ws = new WebSocket('ws://' + location.host + '/ws', ['chat']);
ws.binaryType = 'arraybuffer';
ws.onopen = () => { ws.send('hello from chromium ✓'); ws.send(new Uint8Array([1, 2, 3])); ws.send('x'.repeat(100000)); };
ws.onmessage = (e) => {
  out.push(typeof e.data === 'string' ? (e.data.length > 100 ? 'len' + e.data.length : e.data) : 'bin' + Array.from(new Uint8Array(e.data)).join(','));
  if (out.length === 3) ws.close(1000, 'page done');
};
ws.onclose = (e) => fetch('/result', { method: 'POST', body: JSON.stringify({ out, code: e.code, clean: e.wasClean, protocol: ws.protocol, extensions: ws.extensions }) });
</script>`;

forEachBackend('websocket: headless Chromium', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let browser: ChildProcess | null = null;
  let profile = '';
  afterEach(() => {
    if (browser !== null && browser.exitCode === null && browser.pid !== undefined) process.kill(-browser.pid, 'SIGKILL');
    browser = null;
    if (profile !== '') fs.rmSync(profile, { recursive: true, force: true });
  });

  async function run(deflate: boolean): Promise<{ report: Record<string, unknown>; log: EchoLog }> {
    const factory = echoFactory(r, null, { perMessageDeflate: deflate });
    let report: string | null = null;
    class Page extends Resource {
      override isLeaf = true;
      render_GET(request: Request): string {
        request.setHeader('Content-Type', 'text/html; charset=utf-8');
        return PAGE;
      }
    }
    class Result extends Resource {
      override isLeaf = true;
      render_POST(request: Request): string {
        report = request.content.toString();
        return 'ok';
      }
    }
    const root = new Resource();
    root.putChild('', new Page());
    root.putChild('ws', new WebSocketResource(factory));
    root.putChild('result', new Result());
    const port = (r.listenTCP(0, new Site(root, { reactor: r }), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-chromium-'));
    browser = spawn('/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`], {
      stdio: 'ignore',
      detached: true,
    });
    await until(() => report !== null, 30000, "Chromium's report");
    await until(() => factory.log.closes.length === 1, 5000, 'the server side to close');
    return { report: JSON.parse(report!) as Record<string, unknown>, log: factory.log };
  }

  it.each([false, true])('exchanges messages and closes cleanly (permessage-deflate: %s)', async (deflate) => {
    const { report, log } = await run(deflate);
    expect(report.out).toEqual(['hello from chromium ✓', 'bin1,2,3', 'len100000']);
    expect(report).toMatchObject({ code: 1000, clean: true, protocol: 'chat' });
    expect(String(report.extensions)).toMatch(deflate ? /^permessage-deflate/ : /^$/);
    expect(log.messages[0]).toEqual(['hello from chromium ✓', false]);
    expect(log.closes[0]).toEqual([true, 1000, 'page done']);
  });
});
