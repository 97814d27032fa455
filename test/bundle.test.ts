// What `npm start` runs: dist/server.cjs, the loader scripts/build.mjs writes, compiling the bundle
// dist/hub.cjs from its V8 code cache. Always run by Node (the bundle loads better-sqlite3), also
// when the suite itself runs under Deno.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { request, tempDir, uniq } from './helpers.ts';
import { exitedCleanly, root, spawnServer } from './spawn.ts';

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
// Under Deno, node:child_process runs a bare "node" with Deno itself: name the real binary.
const node = isDeno ? execFileSync('sh', ['-c', 'command -v node']).toString().trim() : process.execPath;
const dist = path.join(root, 'dist');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

before(() => {
  // The build npm ci and npm start make (a no-op unless a source file is newer than the bundle).
  execFileSync(node, [path.join(root, 'scripts', 'build.mjs'), '--if-stale', '--quiet'], { cwd: root, stdio: 'inherit' });
});

test('the build leaves the bundle, its loader, and a code cache named after the bundle', () => {
  const source = fs.readFileSync(path.join(dist, 'hub.cjs'), 'utf8');
  assert.match(source, /^\(function \(exports, require, module, __filename, __dirname\) \{/);
  const sha = crypto.createHash('sha1').update(source).digest('hex').slice(0, 16);
  const caches = fs.readdirSync(dist).filter((f) => f.endsWith('.cache'));
  assert.deepEqual(caches, [`hub.cjs.${sha}.cache`]);
  assert.ok(fs.statSync(path.join(dist, caches[0])).size > 10_000, 'the cache holds compiled code');
  // The loader is CommonJS (an ES module entry starts Node's ES module loader); earlier builds' one is gone.
  assert.match(fs.readFileSync(path.join(dist, 'server.cjs'), 'utf8'), /require\('node:vm'\)/);
  assert.equal(fs.existsSync(path.join(dist, 'server.mjs')), false);
});

test('the bundle runs the hub: listening line, a registration, a decline, and a clean stop', async () => {
  const dir = tempDir('valence-bundle-');
  dirs.push(dir);
  const hub = await spawnServer({ VALENCE_DB: path.join(dir, 'valence.db') }, [], [node, [path.join(dist, 'server.cjs')]]);
  try {
    const health = await request(hub.url, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const agent = await request(hub.url, 'POST', '/api/agents/register', { body: { name: uniq('bundled') } });
    assert.equal(agent.status, 201);
    assert.match(agent.body.apiKey, /^hc_agent_[A-Za-z0-9_-]{43,}$/);
    const bad = await request(hub.url, 'POST', '/api/agents/register', { body: { name: '' } });
    assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.issues[0].path], [400, 'invalid_body', 'name']);
    const unknown = await request(hub.url, 'POST', '/api/agent/v1/offers/nope/decision', { key: agent.body.apiKey, body: { accept: false } });
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'offer_not_found']);
    // The schema files beside the sources are found from inside the bundle (the database was made).
    assert.ok(fs.existsSync(path.join(dir, 'valence.db')));
  } finally {
    hub.proc.kill('SIGTERM');
  }
  const exit = await hub.exited;
  assert.ok(exitedCleanly(exit), JSON.stringify(exit));
});

test('the bundle takes the commands too: --help', () => {
  const out = execFileSync(node, [path.join(dist, 'server.cjs'), '--help'], { cwd: root }).toString();
  assert.match(out, /^valence — the hub: HTTP API and agent gateway\./);
  assert.match(out, /create-admin --email E --name N/);
});
