'use strict';
/**
 * The scenarios: what load, against which servers, measured how.
 *
 * `load` is passed to the load generator; `metric` says which figure leads
 * the table: 'ops' (operations/s, p99, CPU per op), 'ramp' (seconds until
 * every hot connection was served) or 'rss' (server memory per connection).
 * `baseline` is the Node server every ratio is against, `ceiling` the C one.
 * `fresh` restarts the servers before every run (memory figures need a
 * clean process); otherwise a scenario's servers live across its rounds.
 * `rateOf` makes a fixed-rate (open-loop) scenario: its rate is that
 * fraction of the C ceiling's saturated rate, measured first in the same
 * run by `ceiling-1k` (the harness adds it when it was not asked for).
 * `setupLimit` raises the seconds allowed to open every connection.
 * `defaultRounds` caps the rounds when --repeat is not given and not --full
 * (to keep the default set under two minutes where a figure is steady).
 * `load.ws` runs the load over WebSocket (upgrade at `load.wsPath`); the
 * 'broadcast' metric leads with the time until every connection had the
 * message.
 */

const ECHO = ['ioreactor', 'net', 'c'];
const HTTP = ['ioreactor-site', 'ioreactor-http', 'net-http', 'node-http', 'c-http'];
const IDLE_ACTIVE = ['ioreactor-epoll', 'ioreactor-poll', 'net', 'c'];
/** LineReceiver (a Buffer a line, as Twisted; its replies gathered into a
 * write a read, or each sent with sendLine) and TextLineReceiver (one
 * string a read, lines sliced from it) beside the same logic on `net`. */
const KV = ['ioreactor-kv', 'ioreactor-kv-text', 'ioreactor-kv-sendline', 'net-kv', 'c-kv'];
/** WebSocket: ioreactor's Site + WebSocketResource against `ws` on Node http,
 * and the C ceiling (bench/cserver/c-ws.c; no C server speaks wss). */
const WS = ['ioreactor-ws', 'ws', 'c-ws'];
const WS_PATH = '/ws';
/** Requests a connection may have outstanding at a fixed rate before the
 * next ones due are owed (still timed from when they were due). */
const RATE_INFLIGHT = 32;
/** The flood scenarios' steady window (seconds before the burst), whatever
 * --duration is: the p99 of a quarter of a 1 s window (~28 round trips per
 * connection) swung about 2x from one window to the next, and the flood
 * p99 / steady p99 ratio with it; 1 s windows stay within ~15%
 * (bench/README.md). */
const FLOOD_STEADY_S = 1;

function atRate(pct) {
  return {
    name: `rate-${pct}`, title: `echo 64 B at ${pct}% of the C ceiling's rate, 1,000 connections (open loop)`, metric: 'rate',
    rateOf: pct / 100, load: { mode: 'echo', conns: 1000, size: 64, inflight: RATE_INFLIGHT },
    /* beside the default: the same server with a coalescing window (latency for fewer wake-ups) */
    servers: ['ioreactor', 'ioreactor-coalesce', 'net', 'c'],
  };
}

const SCENARIOS = [
  { name: 'echo-100', title: 'echo 64 B, 100 connections', load: { mode: 'echo', conns: 100, size: 64 }, servers: ECHO },
  { name: 'echo-1k', title: 'echo 64 B, 1,000 connections', load: { mode: 'echo', conns: 1000, size: 64 }, servers: ECHO },
  { name: 'echo-10k', title: 'echo 64 B, 10,000 connections', load: { mode: 'echo', conns: 10000, size: 64 }, servers: ECHO },
  { name: 'pipeline', title: 'echo 64 B, 16 in flight, 100 connections', load: { mode: 'echo', conns: 100, size: 64, inflight: 16 }, servers: ECHO },
  { name: 'bulk', title: 'echo 16 KiB, 100 connections', load: { mode: 'echo', conns: 100, size: 16384 }, servers: ECHO },
  { name: 'http-100', title: 'HTTP/1.1 keep-alive hello, 100 connections', load: { mode: 'http', conns: 100 }, servers: HTTP },
  { name: 'http-1k', title: 'HTTP/1.1 keep-alive hello, 1,000 connections', load: { mode: 'http', conns: 1000 }, servers: HTTP },
  {
    name: 'http-pipeline', title: 'HTTP/1.1 hello, 16 pipelined, 100 connections',
    load: { mode: 'http', conns: 100, inflight: 16 }, servers: HTTP,
  },
  {
    name: 'http-post-64k', title: 'HTTP/1.1 POST of 64 KiB bodies, 100 connections',
    load: { mode: 'http', conns: 100, body: 65536 }, servers: HTTP,
  },
  { name: 'churn', title: 'churn: connect, 64 B round trip, close; 100 at once', load: { mode: 'churn', conns: 100, size: 64 }, servers: ECHO },
  {
    name: 'ramp', title: 'hot ramp: 1,000 new connections while 1,000 are busy', metric: 'ramp',
    load: { mode: 'ramp', conns: 1000, hot: 1000, size: 64 }, servers: ['ioreactor', 'ioreactor-ab1', 'net', 'c'],
  },
  {
    /* tls-flood's control: the same ramp with no TLS, so no server has a
     * handshake to ration; what "flood p99 / steady p99" the harness itself
     * imposes (the burst's connects and first round trips on the load
     * generator's CPU, the accepts on the server's). */
    name: 'flood-plain', title: 'plaintext control for tls-flood: echo p99 of 1,000 busy connections while 2,000 new ones connect', metric: 'flood',
    load: { mode: 'ramp', conns: 1000, hot: 2000, size: 64, steady: FLOOD_STEADY_S }, servers: ['c', 'ioreactor', 'net'],
  },
  {
    name: 'idle-10k', title: 'idle hold: 10,000 connections, RSS per connection', metric: 'rss', fresh: true,
    load: { mode: 'idle', conns: 10000 }, servers: ECHO, defaultRounds: 1, // RSS varies by ~5% between rounds
  },
  { name: 'active-100', title: '100 active connections alone', load: { mode: 'echo', conns: 100, size: 64 }, servers: IDLE_ACTIVE },
  { name: 'active-100-idle-1k', title: '100 active + 1,000 idle connections', load: { mode: 'echo', conns: 100, idle: 1000, size: 64 }, servers: IDLE_ACTIVE },
  {
    name: 'ceiling-1k', title: 'the C ceiling saturated, echo 64 B, 1,000 connections (sets the fixed rates)',
    load: { mode: 'echo', conns: 1000, size: 64 }, servers: ['c'], setsCeiling: true,
  },
  atRate(25), atRate(50), atRate(75), atRate(90),
  { name: 'kv-1k', title: 'key-value GET/SET lines, 1,000 connections, 1 in flight', load: { mode: 'kv', conns: 1000, inflight: 1 }, servers: KV },
  { name: 'kv-pipeline', title: 'key-value GET/SET lines, 16 in flight, 100 connections', load: { mode: 'kv', conns: 100, inflight: 16 }, servers: KV },
  { name: 'active-100-idle-10k', title: '100 active + 10,000 idle connections', load: { mode: 'echo', conns: 100, idle: 10000, size: 64 }, servers: IDLE_ACTIVE },
  // WebSocket (group ws): every connection upgrades (101 and accept checked) first
  { name: 'ws-echo-1k', title: 'WebSocket echo 64 B binary, 1,000 connections', load: { mode: 'echo', ws: true, wsPath: WS_PATH, conns: 1000, size: 64 }, servers: WS },
  { name: 'ws-echo-10k', title: 'WebSocket echo 64 B binary, 10,000 connections', load: { mode: 'echo', ws: true, wsPath: WS_PATH, conns: 10000, size: 64 }, servers: WS },
  {
    name: 'ws-broadcast-10k', title: 'WebSocket broadcast: one 64 B message to 10,000 connections, time until all have it', metric: 'broadcast',
    load: { mode: 'broadcast', ws: true, wsPath: WS_PATH, conns: 10000, size: 64 }, servers: WS,
  },
  {
    name: 'ws-idle-10k', title: 'WebSocket idle hold: 10,000 connections, RSS per connection', metric: 'rss', fresh: true,
    load: { mode: 'idle', ws: true, wsPath: WS_PATH, conns: 10000 }, servers: WS, defaultRounds: 1,
  },
  {
    name: 'wss-idle-10k', title: 'WebSocket over TLS (wss) idle hold: 10,000 connections, RSS per connection', metric: 'rss', fresh: true,
    load: { mode: 'idle', ws: true, wsPath: WS_PATH, conns: 10000 }, servers: ['ioreactor-wss', 'wss'], baseline: 'wss', defaultRounds: 1,
  },
];

/**
 * TLS (issue 14) and HTTPS through Site (issue 16): every connection to a
 * TLS server speaks TLS 1.3 with TLS_AES_128_GCM_SHA256 (the load
 * generator's --tls; the server registry says which servers get it), on the
 * harness's one RSA 2048 certificate. The ratios are against Node `tls`
 * (`https` for HTTPS); tls-echo-1k also runs ioreactor's plaintext echo, the
 * speed TLS is meant to keep most of. The echo and handshake rows also run
 * the C ceiling on the same OpenSSL (`c-tls`, bench/cserver/c-tls.c: the
 * xC column); the other TLS rows have none.
 */
const TLS_ECHO = ['ioreactor-tls', 'node-tls'];
const TLS_CEILING = { ceiling: 'c-tls' };
const TLS_SCENARIOS = [
  {
    name: 'tls-echo-1k', title: 'TLS echo 64 B, 1,000 connections', load: { mode: 'echo', conns: 1000, size: 64 },
    servers: [...TLS_ECHO, 'c-tls', 'ioreactor'], ...TLS_CEILING,
  },
  {
    name: 'tls-handshake', title: 'TLS full handshakes: connect, handshake, 64 B round trip, close; 100 at once, no resumption',
    load: { mode: 'churn', conns: 100, size: 64 }, servers: [...TLS_ECHO, 'c-tls'], ...TLS_CEILING,
  },
  {
    name: 'tls-resume', title: 'TLS resumed handshakes (each slot offers its last ticket); 100 at once',
    load: { mode: 'churn', conns: 100, size: 64, tlsResume: true }, servers: [...TLS_ECHO, 'c-tls'], ...TLS_CEILING,
  },
  { name: 'https-1k', title: 'HTTPS keep-alive hello through Site, 1,000 connections', load: { mode: 'http', conns: 1000 }, servers: ['ioreactor-https', 'node-https'], baseline: 'node-https' },
  {
    name: 'tls-idle-10k', title: 'TLS idle hold: 10,000 connections, RSS per connection', metric: 'rss', fresh: true,
    load: { mode: 'idle', conns: 10000 }, servers: TLS_ECHO, defaultRounds: 1,
    setupLimit: 120, // 10,000 full handshakes: Node needs ~10 s alone, far more on a busy machine
  },
  {
    name: 'tls-flood', title: 'TLS echo p99 of 1,000 busy connections while 2,000 new ones handshake', metric: 'flood',
    load: { mode: 'ramp', conns: 1000, hot: 2000, size: 64, steady: FLOOD_STEADY_S }, servers: TLS_ECHO,
  },
];
for (const s of TLS_SCENARIOS) {
  s.baseline = s.baseline || 'node-tls';
  s.ceiling = s.ceiling || null;
}
SCENARIOS.push(...TLS_SCENARIOS);

/** What `npm run bench` runs: the C10K set on the default backend. */
const DEFAULT_SET = ['echo-1k', 'echo-10k', 'pipeline', 'http-1k', 'churn', 'ramp', 'idle-10k'];
/** Names that stand for several scenarios on the command line. */
const GROUPS = {
  c10k: DEFAULT_SET,
  'poll-vs-epoll': ['active-100', 'active-100-idle-1k', 'active-100-idle-10k'],
  echo: ['echo-100', 'echo-1k', 'echo-10k', 'pipeline', 'bulk'],
  http: ['http-100', 'http-1k', 'http-pipeline', 'http-post-64k'],
  'fixed-rate': ['ceiling-1k', 'rate-25', 'rate-50', 'rate-75', 'rate-90'],
  kv: ['kv-1k', 'kv-pipeline'],
  tls: TLS_SCENARIOS.map((s) => s.name),
  ws: ['ws-echo-1k', 'ws-echo-10k', 'ws-broadcast-10k', 'ws-idle-10k', 'wss-idle-10k'],
};
/** What --quick runs (small: the jest test uses it). */
const QUICK_SET = ['echo-1k', 'pipeline', 'http-1k', 'churn', 'ramp', 'idle-10k'];

for (const s of SCENARIOS) {
  s.metric = s.metric || 'ops';
  s.baseline = s.baseline || (s.load.ws ? 'ws' : { http: 'net-http', kv: 'net-kv' }[s.load.mode] || 'net');
  if (s.ceiling === undefined) s.ceiling = s.load.ws ? (s.servers.includes('c-ws') ? 'c-ws' : null) : { http: 'c-http', kv: 'c-kv' }[s.load.mode] || 'c';
}

/**
 * A scenario's load with the run's options applied.
 * @param {object} s scenario
 * @param {{connections?: number, quick?: boolean, settle?: number}} opts
 */
function loadFor(s, opts) {
  const load = { inflight: 1, idle: 0, hot: 0, size: 64, ...s.load };
  if (s.rateOf && opts.ceilingRate) load.rate = Math.max(1, Math.round(s.rateOf * opts.ceilingRate));
  if (opts.connections) load.conns = opts.connections;
  /* RSS is sampled after the connections sat idle this long (see bench/README.md) */
  if (s.metric === 'rss' && opts.settle > 0) load.settle = opts.settle;
  if (opts.quick) {
    load.conns = Math.min(load.conns, s.load.mode === 'idle' ? 300 : 200);
    load.idle = Math.min(load.idle, 300);
    load.hot = Math.min(load.hot, 200);
  }
  return load;
}

/**
 * Rounds for a scenario under the run's options.
 * @param {object} s scenario
 * @param {{repeat: number, repeatGiven?: boolean, full?: boolean}} opts
 */
function roundsFor(s, opts) {
  if (opts.repeatGiven || opts.full || !s.defaultRounds) return opts.repeat;
  return Math.min(opts.repeat, s.defaultRounds);
}

/** A title that tells the load actually run (after --connections/--quick). */
function describe(s, load) {
  if (s.rateOf) return `${s.title.split(',')[0]} (${Math.round(load.rate || 0).toLocaleString('en-US')} req/s), ${load.conns.toLocaleString('en-US')} connections (open loop)`;
  if (load.conns === s.load.conns && load.idle === (s.load.idle || 0) && load.hot === (s.load.hot || 0)) return s.title;
  const parts = [`${load.ws ? 'WebSocket ' : ''}${load.mode}`, ['http', 'kv'].includes(load.mode) ? '' : `${load.size} B`, `${load.conns} conns`];
  if (load.inflight > 1) parts.push(`${load.inflight} in flight`);
  if (load.idle) parts.push(`+${load.idle} idle`);
  if (load.hot) parts.push(`+${load.hot} hot`);
  return parts.filter(Boolean).join(', ');
}

module.exports = { SCENARIOS, DEFAULT_SET, QUICK_SET, GROUPS, loadFor, describe, roundsFor };
