// `npm run bench`: the bare node:http baseline, then the hub on fresh databases, measured in one go on
// this machine, printed as one table. Loopback only; every phase is bounded in time and count.
//
//   BENCH_SECONDS   length of each throughput run (default 10; a 2 s warm-up comes first)
//   BENCH_ROUNDS    fan-out rounds measured (default 200), after BENCH_WARM_ROUNDS (default 10) not counted
//   BENCH_OFFERS    distinct offers seeded per decision run (default: 25 000 per second of run)
//   BENCH_ONLY      comma list of phases to run: baseline,naive,http,ws,fanout,memory,startup,full
//   BENCH_HUB       the bundled hub to run (default dist/server.cjs)
//   BENCH_HUB_FLAGS Node flags for the hub's process, space-separated (for experiments: --max-semi-space-size=32)
//   BENCH_JSON      also write the results to this file
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { WebSocket } from 'ws';
import { addOffers, seedDatabase, type SeededAgent } from './seed.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = 2;
const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
// The first rounds after a start compile the match and send paths (hub) and the receive path (client):
// 40-100 ms each where later rounds take 10-25. Like the warm-up seconds of the other phases they are
// not counted; their slowest is reported on a row of its own.
const WARM_ROUNDS = Number(process.env.BENCH_WARM_ROUNDS ?? 10);
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (phase: string) => !only || only.has(phase);
// Enough distinct offers for 25 000 decisions a second (more than twice what the hub does here).
const OFFERS_PER_RUN = Number(process.env.BENCH_OFFERS ?? Math.max(1000, Math.round(25_000 * (SECONDS + WARMUP))));
// BENCH_HUB: another build of the hub to measure (e.g. one made from an older commit, for a before/after).
const HUB = process.env.BENCH_HUB ? path.resolve(process.env.BENCH_HUB) : path.join(root, 'dist', 'server.cjs');
const NAIVE = path.join(root, 'bench', 'naive.mjs');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-bench-'));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU time a process has used so far (user + system), in ms: the share of a core it really got. */
function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Runs a load phase and adds the server's CPU per request: unlike req/s, it hardly moves when other work shares the cores. */
async function measured<T extends { total: number }>(pid: number, run: () => Promise<T>): Promise<T & { cpuUs: number; cpuShare: number }> {
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  const r = await run();
  const cpu = cpuMs(pid) - c0;
  return { ...r, cpuUs: (cpu * 1000) / Math.max(1, r.total), cpuShare: cpu / (performance.now() - t0) };
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Child {
  proc: ChildProcess;
  url: string;
  wsUrl: string;
  /** ms from spawn to the listening line. */
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts a program and waits for its listening line (stdout goes to a file, as under a service manager). */
/** env: added to this process's environment; a variable given as undefined is removed. */
async function start(args: string[], env: Record<string, string | undefined>, name: string, timeoutMs = 15_000): Promise<Child> {
  const outFile = path.join(tmp, `${name}.log`);
  const fd = fs.openSync(outFile, 'w');
  const t0 = performance.now();
  const merged = Object.fromEntries(Object.entries({ ...process.env, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
  const proc = spawn(process.execPath, args, { cwd: root, env: merged, stdio: ['ignore', fd, 'inherit'] });
  fs.closeSync(fd);
  children.add(proc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.readFileSync(outFile, 'utf8');
    const m = /listening on (http:\/\/\S+)(?: \(agents: (ws:\/\/\S+)\))?/.exec(text);
    if (m) {
      const readyMs = performance.now() - t0;
      return {
        proc, url: m[1], wsUrl: m[2] ?? '', readyMs,
        stop: () =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null) return resolve();
            const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            proc.once('exit', () => {
              clearTimeout(t);
              children.delete(proc);
              resolve();
            });
            proc.kill('SIGTERM');
          }),
      };
    }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start: ${text.slice(0, 500)}`);
    await sleep(2);
  }
}

// BENCH_PROFILE=DIR: the hubs of the decision and fan-out runs write V8 CPU profiles there (node --cpu-prof):
// DIR/NAME.cpuprofile for the main thread, DIR/NAME-thread-N.cpuprofile for a worker thread (the
// checkpoints). Each hub writes into a directory of its own, named after it at the end of the run.
const PROFILE = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : '';
const HUB_FLAGS = (process.env.BENCH_HUB_FLAGS ?? '').split(' ').filter(Boolean);
const hubArgs = (name: string) => [...HUB_FLAGS, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(PROFILE, name)}`] : []), HUB];

/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread. */
function nameProfiles() {
  for (const name of fs.existsSync(PROFILE) ? fs.readdirSync(PROFILE) : []) {
    const dir = path.join(PROFILE, name);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir)) {
      const thread = f.split('.')[4];
      fs.renameSync(path.join(dir, f), path.join(PROFILE, thread === '0' ? `${name}.cpuprofile` : `${name}-thread-${thread}.cpuprofile`));
    }
    fs.rmdirSync(dir);
  }
}

function hubEnv(dir: string, extra: Record<string, string | undefined> = {}) {
  return { VALENCE_DB: path.join(dir, 'valence.db'), HOST: '127.0.0.1', PORT: '0', AGENT_WS_PORT: '0', ...extra };
}

interface Throughput {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  bad: number;
}

/** autocannon: 50 connections, one request in flight each. nextRequest, when given, makes every request distinct. */
async function cannon(url: string, seconds: number, opts: { method?: string; body?: string; headers?: Record<string, string>; next?: (ctx: Record<string, unknown>) => { path: string; headers: Record<string, string> } } = {}): Promise<Throughput> {
  const r = await autocannon({
    url, connections: CONNECTIONS, pipelining: 1, duration: seconds,
    method: (opts.method ?? 'GET') as 'GET',
    body: opts.body,
    headers: opts.headers,
    ...(opts.next
      ? { requests: [{ setupRequest: (req: Record<string, unknown>, ctx: Record<string, unknown>) => ({ ...req, ...opts.next!(ctx), headers: { ...(req.headers as object), ...opts.next!.bind(null)(ctx).headers } }) }] }
      : {}),
  } as autocannon.Options);
  return {
    rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
  };
}

/** Accepts over HTTP: each connection is one agent accepting its own offers, one after the other. */
async function httpDecisions(url: string, agents: SeededAgent[], seconds: number): Promise<Throughput & { exhausted: boolean }> {
  let nextAgent = 0;
  let exhausted = false;
  const body = JSON.stringify({ accept: true });
  const r = await autocannon({
    url, connections: CONNECTIONS, pipelining: 1, duration: seconds,
    requests: [{
      method: 'POST',
      setupRequest: (req: Record<string, unknown>, ctx: Record<string, unknown>) => {
        ctx.agent ??= agents[nextAgent++ % agents.length];
        const a = ctx.agent as SeededAgent;
        const offerId = a.offers.pop();
        if (!offerId) exhausted = true;
        return {
          ...req, method: 'POST', body,
          path: `/api/agent/v1/offers/${offerId ?? 'none'}/decision`,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${a.key}` },
        };
      },
    }],
  } as unknown as autocannon.Options);
  return {
    rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts, exhausted,
  };
}

function connect(wsUrl: string, key: string, onFrame?: (data: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    const t = setTimeout(() => reject(new Error('ws auth timed out')), 30_000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', apiKey: key })));
    ws.once('message', (data) => {
      clearTimeout(t);
      const m = JSON.parse(String(data));
      if (m.type !== 'auth_ok') return reject(new Error(`auth failed: ${String(data)}`));
      if (onFrame) ws.on('message', onFrame);
      resolve(ws);
    });
  });
}

async function connectMany(wsUrl: string, agents: SeededAgent[], onFrame?: (data: Buffer) => void, parallel = 100): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < agents.length; i += parallel) {
    out.push(...(await Promise.all(agents.slice(i, i + parallel).map((a) => connect(wsUrl, a.key, onFrame)))));
  }
  return out;
}

/** 50 agents on the gateway; resolves once each has received the replay of its pending offers. */
async function wsAgents(wsUrl: string, agents: SeededAgent[]): Promise<WebSocket[]> {
  const socks = await connectMany(wsUrl, agents);
  await Promise.all(socks.map((ws, i) => new Promise<void>((resolve) => {
    let left = agents[i].offers.length;
    if (!left) return resolve();
    const count = (data: Buffer) => {
      if (data[9] === 0x70 /* {"type":"pending_offer" */ && --left === 0) {
        ws.off('message', count);
        resolve();
      }
    };
    ws.on('message', count);
  })));
  return socks;
}

/** Accepts over WebSocket frames: each socket is one agent with one offer_decision in flight, for `seconds`. */
async function wsDecisions(socks: WebSocket[], agents: SeededAgent[], seconds: number): Promise<Throughput & { exhausted: boolean }> {
  const lat: number[] = [];
  let bad = 0;
  let exhausted = false;
  let running = true;
  const t0 = performance.now();
  await Promise.all(socks.map((ws, i) => new Promise<void>((resolve) => {
    const a = agents[i];
    let sent = 0;
    let n = 0;
    const fire = () => {
      const offerId = running ? a.offers.pop() : undefined;
      if (!offerId) {
        if (running) exhausted = true;
        ws.off('message', onFrame);
        return resolve();
      }
      sent = performance.now();
      ws.send(`{"type":"offer_decision","requestId":${n++},"offerId":"${offerId}","accept":true}`);
    };
    const onFrame = (data: Buffer) => {
      if (data[9] === 0x61 /* {"type":"ack" */) lat.push(performance.now() - sent);
      else if (data[9] === 0x65 /* {"type":"error" */) bad++;
      else return; // a push, not the answer
      fire();
    };
    ws.on('message', onFrame);
    fire();
  })).concat([sleep(seconds * 1000).then(() => void (running = false))]));
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  return { rps: lat.length / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), total: lat.length, bad, exhausted };
}

async function api(base: string, method: string, route: string, key: string, body?: unknown) {
  const res = await fetch(base + route, {
    method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Fan-out rounds: `prepare(i)` makes what round i needs (untimed) and returns the id the frames carry
 * and the call that sends them; the clock runs from that call to the last frame received that holds the
 * id, taken when that frame arrives (the call's own answer may come later: the hub answers a match after
 * its COMMIT, and until 29 November evening the clock waited for that answer too).
 */
async function fanout(wsUrl: string, agents: SeededAgent[], rounds: number, prepare: (i: number) => Promise<{ id: string; fire: () => Promise<void> }>) {
  let want = '';
  let first = 0;
  let last = 0;
  let got = 0;
  let done: (() => void) | null = null;
  const socks = await connectMany(wsUrl, agents, (data) => {
    if (!want || !data.includes(want) || !data.includes('"pending_offer"')) return;
    if (got === 0) first = performance.now();
    if (++got === agents.length) {
      last = performance.now();
      done?.();
    }
  });
  const times: number[] = [];
  const firsts: number[] = [];
  const answers: number[] = [];
  let coldMax = 0;
  for (let i = -WARM_ROUNDS; i < rounds; i++) {
    const { id, fire } = await prepare(i + WARM_ROUNDS);
    got = 0;
    want = id;
    const all = new Promise<void>((r) => (done = r));
    const t0 = performance.now();
    await fire();
    const answered = performance.now() - t0;
    await Promise.race([all, sleep(5000).then(() => { throw new Error(`only ${got} of ${agents.length} frames arrived`); })]);
    if (i < 0) coldMax = Math.max(coldMax, last - t0);
    else {
      times.push(last - t0);
      firsts.push(first - t0);
      answers.push(answered);
    }
    await sleep(20);
  }
  for (const ws of socks) ws.terminate();
  for (const a of [times, firsts, answers]) a.sort((x, y) => x - y);
  return { p50: pct(times, 50), p99: pct(times, 99), max: times[times.length - 1], firstP50: pct(firsts, 50), answerP50: pct(answers, 50), rounds, warm: WARM_ROUNDS, coldMax };
}

/** The hub: each round the buyer creates a task, then the match call to all `agents` is timed. */
function hubFanout(hub: Child, buyerKey: string, agents: SeededAgent[], rounds: number) {
  return fanout(hub.wsUrl, agents, rounds, async (i) => {
    const { task } = await api(hub.url, 'POST', '/api/buyer/tasks', buyerKey, { title: `fan-out ${i}`, description: 'Reply with one word.', category: 'fanout', publish: true });
    return {
      id: task.id,
      fire: async () => {
        const res = await api(hub.url, 'POST', `/api/buyer/tasks/${task.id}/match`, buyerKey, { limit: 1000 });
        if (res.offers.length !== agents.length) throw new Error(`match made ${res.offers.length} offers, expected ${agents.length}`);
      },
    };
  });
}

/** The floor: bench/ws-baseline.mjs broadcasting one frame of the same size to as many sockets, measured the same way. */
async function wsBaselineFanout(agents: SeededAgent[], rounds: number) {
  const server = await start([path.join(root, 'bench', 'ws-baseline.mjs')], {}, 'ws-baseline');
  try {
    return await fanout(server.wsUrl, agents, rounds, async (i) => {
      const id = `round-${i}-${Date.now()}`;
      return {
        id,
        fire: async () => {
          const res = await fetch(`${server.url}/broadcast?id=${id}`, { method: 'POST' });
          if ((await res.json()).sent !== agents.length) throw new Error('the baseline did not reach every socket');
        },
      };
    });
  } finally {
    await server.stop();
  }
}

async function memory(counts: number[]) {
  const dir = fs.mkdtempSync(path.join(tmp, 'mem-'));
  const max = Math.max(...counts);
  const seed = seedDatabase(path.join(dir, 'valence.db'), { idle: [max, 0, 'idle'] });
  const hub = await start([HUB], hubEnv(dir), 'hub-memory');
  await sleep(1500);
  const base = rssKb(hub.proc.pid!);
  const out: { n: number; kbPerAgent: number; rssMb: number }[] = [];
  const socks: WebSocket[] = [];
  let connected = 0;
  for (const n of counts) {
    socks.push(...(await connectMany(hub.wsUrl, seed.groups.idle.slice(connected, n), undefined, 200)));
    connected = n;
    await sleep(1500);
    const rss = rssKb(hub.proc.pid!);
    out.push({ n, kbPerAgent: (rss - base) / n, rssMb: rss / 1024 });
    log(`memory: ${n} agents connected, hub RSS ${(rss / 1024).toFixed(1)} MB (idle ${(base / 1024).toFixed(1)} MB)`);
  }
  for (const ws of socks) ws.terminate();
  await hub.stop();
  return { baseMb: base / 1024, points: out };
}

/**
 * Spawn to listening, `runs` times: each on an empty directory (a first start, which creates the database), or with `existing` all on one database made by an untimed first start (a restart).
 * env: as for start(); the start-up phase removes NODE_EXTRA_CA_CERTS (see below).
 */
async function startup(args: string[], runs: number, existing = false, env: Record<string, string | undefined> = {}) {
  const ready: number[] = [];
  const rss: number[] = [];
  const kept = fs.mkdtempSync(path.join(tmp, 'start-'));
  if (existing) await (await start(args, hubEnv(kept, env), 'hub-start-first')).stop();
  for (let i = 0; i < runs; i++) {
    const dir = existing ? kept : fs.mkdtempSync(path.join(tmp, 'start-'));
    const hub = await start(args, hubEnv(dir, env), `hub-start-${i}`);
    ready.push(hub.readyMs);
    await sleep(1000);
    rss.push(rssKb(hub.proc.pid!) / 1024);
    await hub.stop();
  }
  ready.sort((a, b) => a - b);
  rss.sort((a, b) => a - b);
  return { readyMs: pct(ready, 50), rssMb: pct(rss, 50), runs };
}

/** The naive server (bench/naive.mjs) on a database seeded as the hub's, loaded the same way. */
async function naiveRun(synchronous: 'NORMAL' | 'FULL') {
  const dir = fs.mkdtempSync(path.join(tmp, `naive-${synchronous}-`));
  const per = Math.ceil(OFFERS_PER_RUN / CONNECTIONS);
  log(`naive server (${synchronous}): seeding ${per * CONNECTIONS} open tasks, ${WARMUP} s warm-up, ${SECONDS} s measured`);
  const seed = seedDatabase(path.join(dir, 'valence.db'), { http: [CONNECTIONS, per, 'http'] });
  const naive = await start([NAIVE], hubEnv(dir, { VALENCE_SYNCHRONOUS: synchronous }), `naive-${synchronous}`);
  await httpDecisions(naive.url, seed.groups.http, WARMUP);
  const out = await measured(naive.proc.pid!, () => httpDecisions(naive.url, seed.groups.http, SECONDS));
  await naive.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

/** The hub on a fresh database seeded with offers: the HTTP run, then the WebSocket run. */
async function hubDecisions(synchronous: 'NORMAL' | 'FULL') {
  const out: Record<string, unknown> = {};
  const dir = fs.mkdtempSync(path.join(tmp, `hub-${synchronous}-`));
  const per = Math.ceil(OFFERS_PER_RUN / CONNECTIONS);
  log(`seeding ${per * CONNECTIONS} open tasks with one pending offer each (${synchronous})`);
  const seed = seedDatabase(path.join(dir, 'valence.db'), { http: [CONNECTIONS, per, 'http'], ws: [CONNECTIONS, 0, 'ws'] });
  const hub = await start(hubArgs(`hub-${synchronous}`), hubEnv(dir, { VALENCE_SYNCHRONOUS: synchronous }), `hub-${synchronous}`);
  if (want('http') || synchronous === 'FULL') {
    log(`HTTP accepts (${synchronous}): ${WARMUP} s warm-up, ${SECONDS} s measured`);
    await httpDecisions(hub.url, seed.groups.http, WARMUP);
    out.http = await measured(hub.proc.pid!, () => httpDecisions(hub.url, seed.groups.http, SECONDS));
  }
  if (want('ws') || synchronous === 'FULL') {
    log(`WebSocket accepts (${synchronous}): ${WARMUP} s warm-up, ${SECONDS} s measured`);
    const agents = seed.groups.ws.slice(0, CONNECTIONS);
    const socks = await wsAgents(hub.wsUrl, agents);
    // Offers added after the agents connected: no replay of thousands of pending offers in the run.
    log(`adding ${per * CONNECTIONS} open tasks with one pending offer each for the WebSocket agents`);
    addOffers(path.join(dir, 'valence.db'), seed.buyerId, agents, per, 'ws');
    await wsDecisions(socks, agents, WARMUP);
    out.ws = await measured(hub.proc.pid!, () => wsDecisions(socks, agents, SECONDS));
    for (const ws of socks) ws.terminate();
  }
  await hub.stop();
  return out;
}

/** The naive server, the hub's decisions, and (NORMAL) the fan-out, each on fresh databases. */
async function decisionRuns(synchronous: 'NORMAL' | 'FULL') {
  const out: Record<string, unknown> = {};
  if (want('naive')) out.naive = await naiveRun(synchronous);
  if (synchronous === 'FULL' || want('http') || want('ws')) Object.assign(out, await hubDecisions(synchronous));
  if (synchronous === 'NORMAL' && want('fanout')) {
    // Its own hub: 1000 agents and the offers the rounds make, not the 600 000 offers decided above.
    const fdir = fs.mkdtempSync(path.join(tmp, 'hub-fanout-'));
    const fseed = seedDatabase(path.join(fdir, 'valence.db'), { fanout: [1000, 0, 'fanout'] });
    const fhub = await start(hubArgs('hub-fanout'), hubEnv(fdir), 'hub-fanout');
    log(`fan-out: ${WARM_ROUNDS} + ${ROUNDS} tasks, each matched to 1000 connected agents (the first ${WARM_ROUNDS} not counted)`);
    out.fanout = await hubFanout(fhub, fseed.buyerKey, fseed.groups.fanout, ROUNDS);
    await fhub.stop();
    log(`fan-out floor: ${WARM_ROUNDS} + ${ROUNDS} broadcasts of one frame to 1000 sockets by a bare ws server (bench/ws-baseline.mjs)`);
    out.fanoutBare = await wsBaselineFanout(fseed.groups.fanout, ROUNDS);
  }
  return out;
}

// ---- the run ----
if (!fs.existsSync(HUB)) throw new Error('dist/server.cjs is missing: run npm run build (npm ci does it)');
const t0 = Date.now();
const loadBefore = os.loadavg();
const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, at: new Date().toISOString() } };

if (want('baseline')) {
  log(`bare node:http baseline: ${WARMUP} s warm-up, ${SECONDS} s measured`);
  const bare = await start([path.join(root, 'bench', 'baseline.mjs')], {}, 'baseline');
  await cannon(bare.url, WARMUP);
  results.baseline = await measured(bare.proc.pid!, () => cannon(bare.url, SECONDS));
  await bare.stop();
}
results.NORMAL = want('naive') || want('http') || want('ws') || want('fanout') ? await decisionRuns('NORMAL') : {};
if (want('memory')) {
  log('memory per connected agent');
  results.memory = await memory([1000, 10_000]);
}
if (want('startup')) {
  // With NODE_EXTRA_CA_CERTS set, Node reads and parses that file of certificates while it boots,
  // before any program code runs (Debian's bundle of about 140: 80-90 ms on this machine, the same for
  // every program). The hub makes no outgoing TLS connection and does not use them. The start-up rows
  // are measured as Node starts by default, without it; when this environment sets it, the hub and the
  // floor are measured with it too.
  const caFile = process.env.NODE_EXTRA_CA_CERTS;
  const plain = caFile ? { NODE_EXTRA_CA_CERTS: undefined } : {};
  log('start-up: spawn to listening, idle RSS (5 fresh starts of what npm start runs)');
  results.startup = await startup([HUB], 5, false, plain);
  results.restart = await startup([HUB], 5, true, plain);
  results.startupBare = await startup([path.join(root, 'bench', 'baseline.mjs')], 5, false, plain);
  results.startupRef = await startup([NAIVE], 5, false, plain);
  results.startupTsx = await startup(['--import', 'tsx', 'server.ts'], 1, false, plain);
  if (caFile) {
    log(`start-up again with this environment's NODE_EXTRA_CA_CERTS=${caFile}`);
    results.startupCa = { ...(await startup([HUB], 5)), caFile };
    results.startupBareCa = await startup([path.join(root, 'bench', 'baseline.mjs')], 5);
  }
}
if (want('full')) results.FULL = await decisionRuns('FULL');

if (PROFILE) nameProfiles();

// ---- the table ----
const base = (results.baseline as Throughput | undefined)?.rps;
const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
const ratio = (rps: number) => (base ? f(rps / base, 3) : '–');
const rows: string[][] = [];
const baseCpu = (results.baseline as { cpuUs?: number } | undefined)?.cpuUs;
const tp = (name: string, t: (Throughput & { exhausted?: boolean; cpuUs?: number; cpuShare?: number }) | undefined, target: string) => {
  if (!t) return;
  const cpu = t.cpuUs === undefined ? '' : `${f(t.cpuUs, 0)} µs (${f(t.cpuShare! * 100, 0)}% of a core)`;
  const cpuRatio = t.cpuUs && baseCpu ? f(baseCpu / t.cpuUs, 3) : '';
  rows.push([name, `${f(t.rps, 0)} req/s`, `${f(t.p50, 2)} ms`, `${f(t.p99, 2)} ms`, ratio(t.rps), cpu, cpuRatio, target + (t.bad ? ` (${t.bad} failed)` : '') + (t.exhausted ? ' (ran out of offers)' : '')]);
};
tp('bare node:http baseline', results.baseline as Throughput, '');
const N = results.NORMAL as Record<string, Throughput>;
const F = (results.FULL ?? {}) as Record<string, Throughput>;
tp('  reference: naive server (bench/naive.mjs), HTTP, NORMAL', N.naive, '');
tp('accept over HTTP, NORMAL', N.http, '≥ 0.25 × baseline, p99 < 10 ms');
tp('accept over WebSocket, NORMAL', N.ws, '');
tp('  reference: naive server, HTTP, FULL', F.naive, '');
tp('accept over HTTP, FULL', F.http, '≥ 0.12 × baseline');
tp('accept over WebSocket, FULL', F.ws, '');
type Fan = { p50: number; p99: number; firstP50: number; answerP50: number; rounds: number; warm: number; coldMax: number };
const fo = N.fanout as unknown as Fan | undefined;
if (fo) rows.push([`fan-out to 1000 agents (${fo.rounds} rounds): last frame`, `first frame p50 ${f(fo.firstP50, 1)} ms`, `${f(fo.p50, 1)} ms`, `${f(fo.p99, 1)} ms`, '', '', '', 'last frame p99 < 25 ms']);
if (fo) rows.push(['  the match call answered (after its COMMIT)', '', `${f(fo.answerP50, 1)} ms`, '', '', '', '', '']);
if (fo) rows.push([`  the first ${fo.warm} rounds after start (not counted above): slowest`, `${f(fo.coldMax, 1)} ms`, '', '', '', '', '', '']);
const fb = N.fanoutBare as unknown as Fan | undefined;
if (fb) rows.push(['  floor: bare ws broadcast to 1000 sockets, same measure', `first frame p50 ${f(fb.firstP50, 1)} ms`, `${f(fb.p50, 1)} ms`, `${f(fb.p99, 1)} ms`, '', '', '', '']);
if (fb) rows.push([`  floor: its first ${fb.warm} rounds: slowest`, `${f(fb.coldMax, 1)} ms`, '', '', '', '', '', '']);
const mem = results.memory as { baseMb: number; points: { n: number; kbPerAgent: number; rssMb: number }[] } | undefined;
for (const p of mem?.points ?? []) rows.push([`memory per connected agent at ${p.n}`, `${f(p.kbPerAgent, 1)} KB`, `RSS ${f(p.rssMb, 1)} MB`, '', '', '', '', p.n >= 10_000 ? '≤ 10 KB' : '']);
const st = results.startup as { readyMs: number; rssMb: number; runs: number } | undefined;
const ca = results.startupCa as { readyMs: number; rssMb: number; runs: number; caFile: string } | undefined;
const plainNote = ca ? ', NODE_EXTRA_CA_CERTS unset' : '';
if (st) rows.push([`idle RSS / spawn to listening (npm start, new database, median of ${st.runs}${plainNote})`, `${f(st.rssMb, 1)} MB`, `${f(st.readyMs, 0)} ms`, '', '', '', '', '≤ 64 MB, ≤ 150 ms']);
const rs = results.restart as { readyMs: number; rssMb: number; runs: number } | undefined;
if (rs) rows.push([`  the same on an existing database (a restart, median of ${rs.runs})`, `${f(rs.rssMb, 1)} MB`, `${f(rs.readyMs, 0)} ms`, '', '', '', '', '']);
const floor = results.startupBare as { readyMs: number; rssMb: number } | undefined;
if (floor) rows.push(['  floor: bench/baseline.mjs (bare node:http), same measure', `${f(floor.rssMb, 1)} MB`, `${f(floor.readyMs, 0)} ms`, '', '', '', '', '']);
const ref = results.startupRef as { readyMs: number; rssMb: number } | undefined;
if (ref) rows.push(['  reference: bench/naive.mjs (plain JS: http + ws + better-sqlite3), same measure', `${f(ref.rssMb, 1)} MB`, `${f(ref.readyMs, 0)} ms`, '', '', '', '', '']);
const tsx = results.startupTsx as { readyMs: number; rssMb: number } | undefined;
if (tsx) rows.push(['  for comparison: node --import tsx server.ts', `${f(tsx.rssMb, 1)} MB`, `${f(tsx.readyMs, 0)} ms`, '', '', '', '', '']);
if (ca) rows.push([`npm start with this environment's NODE_EXTRA_CA_CERTS=${ca.caFile} (median of ${ca.runs})`, `${f(ca.rssMb, 1)} MB`, `${f(ca.readyMs, 0)} ms`, '', '', '', '', '']);
const floorCa = results.startupBareCa as { readyMs: number; rssMb: number } | undefined;
if (floorCa) rows.push(['  floor: bench/baseline.mjs, the same way', `${f(floorCa.rssMb, 1)} MB`, `${f(floorCa.readyMs, 0)} ms`, '', '', '', '', '']);

const head = ['measure', 'throughput / size', 'p50', 'p99', 'ratio', 'server CPU per request', 'CPU ratio', 'target'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const m = results.machine as { cpus: number; model: string; memGiB: number; node: string };
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
process.stdout.write(`\nValence bench — ${m.cpus} × ${m.model}, ${m.memGiB} GiB, Node ${m.node}, ${CONNECTIONS} connections, ${SECONDS} s runs, ${Math.round((Date.now() - t0) / 1000)} s in all\n`);
process.stdout.write(`load average before ${load(loadBefore)}, after ${load(os.loadavg())} (above ~0.3 other work shared the ${m.cpus} cores: read the ratios and CPU per request)\n\n`);
process.stdout.write([line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n') + '\n');
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
process.exit(0);
