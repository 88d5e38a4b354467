/**
 * The addon in worker_threads: a Poller on the main thread and in Workers at
 * the same time, and Workers terminated with live registrations (while their
 * callbacks are busy) must neither abort nor leak an fd. Each scenario runs in
 * a child process so an abort shows up as a signal instead of killing jest.
 */
import { forEachBackend } from './helpers/backends';
import { runNode } from './helpers/child';

const scenario = `
const path = require('path');
const { Worker } = require('worker_threads');
const { Poller, Events } = require('./lib/poller.ts');
const { Pipes, fill, openFdCount } = require('./test/helpers/fds.ts');
const backend = process.argv[1];
const rounds = Number(process.argv[2]);
const pipes = new Pipes();

// The Worker loads lib/*.ts through the same hook as this process.
const workerCode = \`
  require(\${JSON.stringify(path.resolve('test/helpers/ts-register.js'))});
  const { parentPort, workerData } = require('worker_threads');
  const { Poller, Events } = require(\${JSON.stringify(path.resolve('lib/poller.ts'))});
  const p = new Poller({ backend: workerData.backend, onEvents: (fd, events) => parentPort.postMessage({ fd, events }) });
  for (const fd of workerData.fds) p.add(fd, Events.READABLE);
  if (workerData.waitMode) new Poller({ backend: workerData.backend }).add(workerData.fds[0], Events.READABLE);
  parentPort.postMessage('ready');
\`;

function startWorker(fds, waitMode) {
  return new Worker(workerCode, { eval: true, workerData: { backend, fds, waitMode } });
}

// Resolves once the worker is ready and has reported \`events\` events.
function until(worker, events) {
  let seen = 0;
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m) => {
      if (m === 'ready') return worker.emit('ready');
      if (++seen === events) resolve(seen);
    });
  });
}

(async () => {
  // Warm-up: the first Worker makes Node open fds it keeps (platform, inspector).
  const warm = startWorker([], false);
  await new Promise((resolve) => warm.on('message', resolve));
  await warm.terminate();

  const mainPipe = pipes.one();
  const workerPipes = pipes.make(3);
  const baseline = openFdCount();

  let mainEvents = 0;
  let gotMain;
  const mainEvent = new Promise((resolve) => (gotMain = resolve));
  const main = new Poller({ backend, onEvents: (fd) => { mainEvents++; main.remove(fd); gotMain(); } });
  main.add(mainPipe.r, Events.READABLE);

  let workerEvents = 0;
  for (let i = 0; i < rounds; i++) {
    const worker = startWorker(workerPipes.map((p) => p.r), i % 2 === 1);
    const busy = until(worker, 5);
    worker.once('ready', () => {
      // Never drained: level-triggered events keep the worker's callbacks busy.
      for (const p of workerPipes) fill(p.w);
      if (i === 0) fill(mainPipe.w);
    });
    workerEvents += await busy;
    await worker.terminate();
  }
  await mainEvent;
  main.close();
  const after = openFdCount();
  console.log(JSON.stringify({ baseline, after, mainEvents, workerEvents }));
  pipes.closeAll();
})().catch((e) => { console.error(e); process.exitCode = 1; });
`;

forEachBackend('Poller in worker_threads', (backend) => {
  it('runs in Workers and on the main thread at once; terminate with live registrations leaks no fd', async () => {
    const rounds = 6;
    const res = await runNode(scenario, [backend, String(rounds)], 60000);
    expect(res.timedOut).toBe(false);
    expect(res.signal).toBeNull();
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { baseline: number; after: number; mainEvents: number; workerEvents: number };
    expect(out.mainEvents).toBe(1);
    expect(out.workerEvents).toBe(5 * rounds);
    expect(out.after).toBe(out.baseline);
  }, 70000);
});
