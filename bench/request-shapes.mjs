// Server CPU per request for a few request shapes, to tell the cost of Node's HTTP handling from the
// hub's own: autocannon, 50 connections, 2 s warm-up, 5 s measured per shape, loopback only.
//   node bench/request-shapes.mjs bench/baseline.mjs   GET, and a POST with the accept's body and a Bearer header
//   node bench/request-shapes.mjs dist/server.cjs      the hub: GET /healthz, and an agent's decision on an unknown offer (404)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

const program = process.argv[2];
if (!program) throw new Error('usage: node bench/request-shapes.mjs PROGRAM');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-shapes-'));
const env = { ...process.env, VALENCE_DB: path.join(dir, 'valence.db'), HOST: '127.0.0.1', PORT: '0', AGENT_WS_PORT: '0', LOG_LEVEL: 'info' };
const server = spawn(process.execPath, [program], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const stop = () => {
  server.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
};
const url = await new Promise((resolve, reject) => {
  let out = '';
  const read = (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (!m) return;
    // From here on the request log is read and dropped.
    server.stdout.off('data', read);
    server.stdout.resume();
    resolve(m[1]);
  };
  server.stdout.on('data', read);
  server.once('exit', () => reject(new Error(`${program} exited: ${out}`)));
});
const cpuMs = () => {
  const f = fs.readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};

const decision = '/api/agent/v1/offers/AAAAAAAAAAAAAAAAAAAAAAAA/decision';
const post = (key) => ({ method: 'POST', body: '{"accept":true}', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } });
let shapes;
if (program.includes('baseline')) {
  shapes = { 'GET (the bench baseline)': { url }, 'POST with the accept body and a Bearer header': { url: url + decision, ...post(`hc_agent_${'x'.repeat(43)}`) } };
} else {
  const res = await fetch(url + '/api/agents/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"shapes"}' });
  const { apiKey } = await res.json();
  if (res.status !== 201) throw new Error(`registration answered ${res.status}`);
  shapes = { 'GET /healthz': { url: url + '/healthz' }, 'decision on an unknown offer (404)': { url: url + decision, ...post(apiKey) } };
}
try {
  for (const [name, opts] of Object.entries(shapes)) {
    await autocannon({ connections: 50, duration: 2, ...opts });
    const c0 = cpuMs();
    const r = await autocannon({ connections: 50, duration: 5, ...opts });
    const statuses = Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => `${code}×${s.count}`).join(' ');
    console.log(`${name}: ${Math.round(r.requests.total / r.duration)} req/s, ${(((cpuMs() - c0) * 1000) / r.requests.total).toFixed(1)} µs of server CPU per request (${statuses})`);
  }
} finally {
  stop();
}
