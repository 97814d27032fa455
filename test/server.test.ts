// The hub program itself: start-up output, first-start admin set-up, --help, commands, refusals.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { request, tempDir } from './helpers.ts';
import { connect, connectAgent, type Frame } from './ws-client.ts';
import { exitedCleanly, runProgram, spawnServer } from './spawn.ts';
import { openDatabase } from '../lib/storage/index.ts';
import { LATEST_VERSION } from '../lib/storage/migrations.ts';

const dirs: string[] = [];
const dir = () => {
  const d = tempDir('valence-server-');
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('first start prints both addresses and a one-time set-up link; the link creates the admin once', async () => {
  const db = path.join(dir(), 'data', 'valence.db');
  const hub = await spawnServer({ VALENCE_DB: db });
  try {
    assert.match(hub.lines[0], /^valence listening on http:\/\/127\.0\.0\.1:\d+ \(agents: ws:\/\/127\.0\.0\.1:\d+\/agent-ws\)$/);
    const setupLine = await hub.waitLine(/\/setup\?token=/);
    const link = /(http:\/\/\S+\/setup\?token=\S+)/.exec(setupLine)![1];
    assert.ok(fs.existsSync(db), 'the database file and its folder are created on first start');

    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<form method="post" action="\/setup">/);

    const token = new URL(link).searchParams.get('token')!;
    const wrong = await request(hub.url, 'POST', '/setup', { body: { token: 'nope', name: 'Root', email: 'root@example.test', password: 'long enough' } });
    assert.deepEqual([wrong.status, wrong.body.error.code], [404, 'not_found']);
    const weak = await request(hub.url, 'POST', '/setup', { body: { token, name: 'Root', email: 'root@example.test', password: 'short' } });
    assert.deepEqual([weak.status, weak.body.error.code, weak.body.error.issues[0].path], [400, 'invalid_body', 'password']);
    const made = await request(hub.url, 'POST', '/setup', { body: { token, name: 'Root', email: 'root@example.test', password: 'long enough' } });
    assert.equal(made.status, 201);
    assert.equal(made.body.ok, true);
    const again = await request(hub.url, 'POST', '/setup', { body: { token, name: 'Two', email: 'two@example.test', password: 'long enough' } });
    assert.equal(again.status, 404, 'the link works once');

    const login = await request(hub.url, 'POST', '/api/auth/login', { body: { email: 'root@example.test', password: 'long enough' } });
    assert.equal(login.status, 200);
    assert.equal(login.body.user.role, 'ADMIN');
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const users = await request(hub.url, 'GET', '/api/admin/users', { cookie });
    assert.equal(users.status, 200);
    assert.deepEqual(users.body.users.map((u: { role: string; email: string }) => [u.role, u.email]), [['ADMIN', 'root@example.test']]);
  } finally {
    hub.proc.kill('SIGTERM');
    const exit = await hub.exited;
    assert.ok(exitedCleanly(exit), JSON.stringify(exit));
  }
  // Once an admin exists no set-up link is printed.
  const second = await spawnServer({ VALENCE_DB: db });
  second.proc.kill('SIGTERM');
  await second.exited;
  assert.ok(!second.lines.some((l) => l.includes('/setup')), second.lines.join('\n'));
});

test('--help lists every configuration variable', async () => {
  const r = await runProgram('server.ts', ['--help']);
  assert.equal(r.code, 0);
  for (const v of ['HOST', 'PORT', 'AGENT_WS_PORT', 'VALENCE_DB', 'VALENCE_REGISTRATION', 'VALENCE_REGISTER_LIMIT', 'TRUST_PROXY', 'VALENCE_SYNCHRONOUS']) {
    assert.match(r.stdout, new RegExp(`^  ${v} `, 'm'), v);
  }
});

test('a bad configuration value stops the start with a clear sentence', async () => {
  const r = await runProgram('server.ts', [], { VALENCE_REGISTRATION: 'maybe', VALENCE_DB: path.join(dir(), 'v.db') });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /VALENCE_REGISTRATION must be one of open, closed, not "maybe"/);
});

test('a database newer than the code is refused', async () => {
  const file = path.join(dir(), 'newer.db');
  const db = openDatabase(file);
  db.exec(`PRAGMA user_version = ${LATEST_VERSION + 1}`);
  db.close();
  const r = await runProgram('server.ts', [], { VALENCE_DB: file, PORT: '0', AGENT_WS_PORT: 'off' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /newer than this hub knows/);
});

test('create-admin and backup commands', async () => {
  const d = dir();
  const file = path.join(d, 'v.db');
  const made = await runProgram('server.ts', ['create-admin', '--email', 'ops@example.test', '--name', 'Ops'], { VALENCE_DB: file }, 'a strong password\n');
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^admin created: \S+/);
  const dup = await runProgram('server.ts', ['create-admin', '--email', 'ops@example.test'], { VALENCE_DB: file }, 'another password\n');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);

  assert.match(made.stdout, new RegExp(`^admin created: \\S+ \\(in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'));
  const copy = path.join(d, 'backup.db');
  const b = await runProgram('server.ts', ['backup', copy], { VALENCE_DB: file });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, `backup of ${file} written to ${copy}\n`);
  // No database at VALENCE_DB: nothing to copy, and no empty database made there.
  const missing = path.join(d, 'nowhere', 'v.db');
  const none = await runProgram('server.ts', ['backup', path.join(d, 'empty-copy.db')], { VALENCE_DB: missing });
  assert.deepEqual([none.code, none.stderr], [1, `valence: no database at ${missing}; set VALENCE_DB to the hub's database file\n`]);
  assert.ok(!fs.existsSync(missing) && !fs.existsSync(path.join(d, 'empty-copy.db')));
  const noFile = await runProgram('server.ts', ['backup'], { VALENCE_DB: file });
  assert.deepEqual([noFile.code, noFile.stderr], [2, 'valence: backup needs the file to write, e.g. npm start -- backup /path/to/copy.db\n']);
  const restored = openDatabase(copy, { migrate: false });
  assert.deepEqual(restored.prepare(`SELECT role, email FROM users`).all().map((r) => ({ ...r })), [{ role: 'ADMIN', email: 'ops@example.test' }]);
  restored.close();
});

test('AGENT_WS_PORT=off serves agents on the main port only', async () => {
  const hub = await spawnServer({ VALENCE_DB: path.join(dir(), 'v.db'), AGENT_WS_PORT: 'off' });
  try {
    assert.equal(hub.gatewayUrl, hub.url.replace('http://', 'ws://') + '/agent-ws');
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

test('every answered request is one JSON log line: time, level, method, path (quoted as JSON), status, ms', async () => {
  const hub = await spawnServer({ VALENCE_DB: path.join(dir(), 'valence.db'), LOG_LEVEL: 'info' });
  try {
    const odd = '/no/such/"quoted"\\path';
    const res = await fetch(hub.url + odd.replace('"', '%22').replace('"', '%22').replace('\\', '%5C'));
    assert.equal(res.status, 404);
    const health = await request(hub.url, 'GET', '/healthz');
    assert.equal(health.status, 200);
    const lines = [await hub.waitLine(/"path":"\/no\/such/), await hub.waitLine(/"path":"\/healthz"/)].map((l) => JSON.parse(l));
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['t', 'level', 'msg', 'method', 'path', 'status', 'ms']);
      assert.ok(Math.abs(Date.parse(l.t) - Date.now()) < 60_000, l.t);
      assert.equal(typeof l.ms, 'number');
    }
    assert.deepEqual(lines.map((l) => [l.level, l.msg, l.method, l.path, l.status]), [
      ['info', 'request', 'GET', '/no/such/%22quoted%22%5Cpath', 404],
      ['info', 'request', 'GET', '/healthz', 200],
    ]);
    // What Node's HTTP parser refuses never becomes a request object; its answer is logged too.
    const { port } = new URL(hub.url);
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.end('FOO / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.resume();
    await new Promise((resolve) => sock.on('close', resolve));
    const refused = JSON.parse(await hub.waitLine(/"msg":"request refused by the HTTP parser"/));
    assert.deepEqual([refused.level, refused.status, refused.code], ['info', 501, 'method_not_implemented']);
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

/** Waits until `count` lines match. */
async function waitForLines(hub: { lines: string[]; waitLine: (re: RegExp) => Promise<string> }, re: RegExp, count: number) {
  await hub.waitLine(re);
  const deadline = Date.now() + 10_000;
  while (hub.lines.filter((l) => re.test(l)).length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} lines match ${re}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// SPEC §3 and §9: a key is never logged, not even when a client puts it where an id goes.
test('a key sent in a path (as an offer id, or on an unknown route) is logged as its prefix only', async () => {
  const hub = await spawnServer({ VALENCE_DB: path.join(dir(), 'valence.db'), LOG_LEVEL: 'info' });
  try {
    const reg = await request(hub.url, 'POST', '/api/agents/register', { body: { name: 'Pasted its key' } });
    assert.equal(reg.status, 201, reg.text);
    const key: string = reg.body.apiKey;
    const decision = await request(hub.url, 'POST', `/api/agent/v1/offers/${key}/decision`, { key, body: { accept: true } });
    assert.equal(decision.status, 404, decision.text);
    assert.equal(decision.body.error.code, 'offer_not_found');
    const unknown = await request(hub.url, 'GET', `/api/nope/${key}`);
    assert.equal(unknown.status, 404, unknown.text);
    // Percent-encoded, however much of it: the hub decodes the path, so the log must too.
    const body = key.slice('hc_agent_'.length);
    const encoded = [`hc%5Fagent%5F${body}`, `hc_agent_%${body.charCodeAt(0).toString(16)}${body.slice(1)}`, `hc_%61gent_${body}`];
    for (const e of encoded) {
      const res = await request(hub.url, 'GET', `/api/encoded/${e}`);
      assert.equal(res.status, 404, res.text);
    }
    const lines = [await hub.waitLine(/"path":"\/api\/agent\/v1\/offers\//), await hub.waitLine(/"path":"\/api\/nope\//)].map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.method, l.path, l.status]), [
      ['POST', '/api/agent/v1/offers/hc_agent_…/decision', 404],
      ['GET', '/api/nope/hc_agent_…', 404],
    ]);
    await waitForLines(hub, /"path":"\/api\/encoded\//, encoded.length);
    const encodedLines = hub.lines.filter((l) => l.includes('"path":"/api/encoded/')).map((l) => JSON.parse(l).path);
    assert.deepEqual(encodedLines, encoded.map(() => '/api/encoded/hc_agent_…'));
    // A frame type that ends in a key, past the 100 characters a type is logged with.
    const ws = await connectAgent(hub.gatewayUrl, key);
    ws.send({ type: 'x'.repeat(76) + key });
    assert.equal((await ws.next((f) => f.code === 'unknown_type')).status, 400);
    const typeLine = JSON.parse(await hub.waitLine(/"msg":"frame","type":"xxxx/));
    assert.equal(typeLine.type, 'x'.repeat(76) + 'hc_agent_…');
    ws.close();
    const secret = key.slice('hc_agent_'.length);
    assert.ok(!hub.lines.some((l) => l.includes(secret)) && !hub.stderr().includes(secret), 'the key appears in no log line');
    // The display prefix (12 characters) still names the key in the log.
    const registered = JSON.parse(await hub.waitLine(/"msg":"agent registered"/));
    assert.equal(registered.keyPrefix, key.slice(0, 12));
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

// SPEC §9: one JSON line per request or event, over the agent socket too.
test('the agent socket logs each request frame (type, agent, status, ms), each refused frame, and each refused socket, never a key', async () => {
  const hub = await spawnServer({ VALENCE_DB: path.join(dir(), 'valence.db'), LOG_LEVEL: 'info' });
  try {
    const reg = await request(hub.url, 'POST', '/api/agents/register', { body: { name: 'Logged' } });
    assert.equal(reg.status, 201, reg.text);
    const s = await connectAgent(hub.gatewayUrl, reg.body.apiKey);
    const unknown = await s.request({ type: 'offer_decision', requestId: 'r1', offerId: 'no-such-offer', accept: true });
    assert.deepEqual([unknown.type, unknown.code], ['error', 'offer_not_found']);
    const repeat = await s.request({ type: 'offer_decision', requestId: 'r1', offerId: 'no-such-offer', accept: true });
    assert.deepEqual(repeat, unknown);
    s.send({ type: 'teleport' });
    assert.equal((await s.next((f) => f.code === 'unknown_type', 5000, 'unknown_type')).status, 400);
    const lines = await Promise.all([
      hub.waitLine(/"msg":"frame","type":"offer_decision"/),
      hub.waitLine(/"msg":"frame","type":"teleport"/),
    ]);
    const decisions = hub.lines.filter((l) => l.includes('"msg":"frame","type":"offer_decision"')).map((l) => JSON.parse(l));
    assert.equal(decisions.length, 2, 'the repeat is logged too');
    for (const l of decisions) {
      assert.deepEqual(Object.keys(l), ['t', 'level', 'msg', 'type', 'agentId', 'status', 'ms']);
      assert.deepEqual([l.level, l.agentId, l.status, typeof l.ms], ['info', reg.body.agentId, 404, 'number']);
    }
    assert.deepEqual((({ type, agentId, status }) => ({ type, agentId, status }))(JSON.parse(lines[1])), { type: 'teleport', agentId: reg.body.agentId, status: 400 });
    s.close();

    // A key the hub refuses, on the auth frame and on the handshake: logged without the key.
    const bad = 'hc_agent_' + 'x'.repeat(43);
    const refused = await connectAgent(hub.gatewayUrl, bad).catch((err: Error) => err);
    assert.ok(refused instanceof Error, 'the auth frame with an unknown key is refused');
    const line = JSON.parse(await hub.waitLine(/"msg":"agent socket refused"/));
    assert.deepEqual([line.level, line.code], ['info', 'unauthorized']);
    const viaHeader = await connect(hub.gatewayUrl, { headers: { Authorization: `Bearer ${bad}` } }).catch((err: Error & { status?: number }) => err);
    assert.equal((viaHeader as { status?: number }).status, 401, 'the handshake with an unknown key is refused');
    const hs = JSON.parse(await hub.waitLine(/"path":"\/agent-ws","status":401/));
    assert.deepEqual([hs.msg, hs.method], ['request', 'GET']);
    assert.ok(!hub.lines.some((l) => l.includes('x'.repeat(43))) && !hub.stderr().includes('x'.repeat(43)), 'no key in the log');
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

test('a client that hangs up in the middle of its body is not a server error: no error line, no 500', async () => {
  const hub = await spawnServer({ VALENCE_DB: path.join(dir(), 'valence.db'), LOG_LEVEL: 'info' });
  try {
    const { port } = new URL(hub.url);
    const sock = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => sock.on('connect', resolve));
    // With Expect: 100-continue the hub says when it has the headers and is reading the body.
    sock.write('POST /api/agents/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
    const interim = await new Promise<string>((resolve) => sock.once('data', (b: Buffer) => resolve(b.toString())));
    assert.match(interim, /^HTTP\/1\.1 100 Continue/);
    sock.write('{"na');
    sock.destroy();
    const line = JSON.parse(await hub.waitLine(/"path":"\/api\/agents\/register"/));
    assert.deepEqual([line.level, line.status], ['info', 400]);
    const metrics = await fetch(hub.url + '/metrics');
    const text = await metrics.text();
    assert.equal(metrics.status, 200);
    assert.doesNotMatch(text, /status="5\d\d"/);
    assert.ok(!hub.lines.some((l) => l.includes('"level":"error"')), hub.lines.join('\n'));
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

// SPEC §9: graceful shutdown finishes in-flight requests. Over the socket that means every decision
// the hub commits is acknowledged before its socket is closed with 1001; one that arrives during the
// shutdown is refused (503 shutting_down) and not made.
test('SIGTERM during a stream of decisions over /agent-ws: every committed decision was acknowledged, every refused one was not made', async () => {
  const db = path.join(dir(), 'valence.db');
  let hub = await spawnServer({ VALENCE_DB: db });
  const agents: { key: string; userId: string }[] = [];
  const offers = new Map<string, string[]>(); // agent userId → its offers, in the order it decides them
  const buyer = await request(hub.url, 'POST', '/api/buyers/register', { body: { name: 'Stream buyer', email: 'stream@example.test', password: 'long enough' } });
  assert.equal(buyer.status, 201, buyer.text);
  const category = 'shutdown-stream';
  for (let i = 0; i < 20; i++) {
    const r = await request(hub.url, 'POST', '/api/agents/register', { body: { name: `Streamer ${i}`, category } });
    assert.equal(r.status, 201, r.text);
    agents.push({ key: r.body.apiKey, userId: r.body.userId });
    offers.set(r.body.userId, []);
  }
  const tasks: string[] = [];
  for (let t = 0; t < 10; t++) {
    const made = await request(hub.url, 'POST', '/api/buyer/tasks', { key: buyer.body.apiKey, body: { title: `Task ${t}`, description: 'Declined by all.', category, publish: true } });
    assert.equal(made.status, 201, made.text);
    tasks.push(made.body.task.id);
    const m = await request(hub.url, 'POST', `/api/buyer/tasks/${made.body.task.id}/match`, { key: buyer.body.apiKey, body: { limit: 20 } });
    assert.equal(m.status, 200, m.text);
    for (const o of m.body.offers) offers.get(o.workerUserId)!.push(o.offerId);
  }
  const sockets = await Promise.all(agents.map((a) => connectAgent(hub.gatewayUrl, a.key)));
  // Each agent declines its offers one after the other, the next as soon as the last is answered.
  const replies = new Map<string, Frame>(); // offerId → the reply
  let acks = 0;
  let stopAt: () => void;
  const fortyAcks = new Promise<void>((r) => (stopAt = r));
  const streams = agents.map(async (a, i) => {
    for (const offerId of offers.get(a.userId)!) {
      let reply: Frame;
      try {
        reply = await sockets[i].request({ type: 'offer_decision', offerId, accept: false, reason: 'stream' }, 10_000);
      } catch {
        return; // the socket closed before this decision was answered (or sent)
      }
      replies.set(offerId, reply);
      if (reply.type !== 'ack') return;
      if (++acks === 40) stopAt();
    }
  });
  await fortyAcks;
  hub.proc.kill('SIGTERM');
  const closes = await Promise.all(sockets.map((s) => s.closed));
  await Promise.all(streams);
  assert.ok(exitedCleanly(await hub.exited));
  assert.deepEqual(new Set(closes.map((c) => c.code)), new Set([1001]));

  hub = await spawnServer({ VALENCE_DB: db });
  try {
    let made = 0;
    for (const taskId of tasks) {
      const view = await request(hub.url, 'GET', `/api/buyer/tasks/${taskId}`, { key: buyer.body.apiKey });
      assert.equal(view.status, 200, view.text);
      for (const o of view.body.offers as { id: string; status: string }[]) {
        const reply = replies.get(o.id);
        if (o.status === 'DECLINED') {
          made++;
          assert.deepEqual(reply && { ...reply, requestId: undefined }, { type: 'ack', requestId: undefined, ok: true, accept: false }, `offer ${o.id} was declined: its agent was told`);
        } else {
          assert.equal(o.status, 'PENDING', o.id);
          if (reply) assert.deepEqual([reply.type, reply.status, reply.code], ['error', 503, 'shutting_down'], `offer ${o.id} is still pending: its agent was not told otherwise`);
        }
      }
    }
    assert.ok(made >= 40 && made < 200, `${made} decisions made before the shutdown`);
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});

test('a hub killed (SIGKILL) as the first pending_offer of a match arrives: after a restart every offer an agent received exists and can be taken', async () => {
  const env = { VALENCE_DB: path.join(dir(), 'valence.db'), VALENCE_REGISTER_LIMIT: '0' };
  let hub = await spawnServer(env);
  const category = 'crash-at-the-push';
  const agents: { key: string; userId: string }[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await request(hub.url, 'POST', '/api/agents/register', { body: { name: `Crash agent ${i}`, category } });
    assert.equal(r.status, 201, r.text);
    agents.push({ key: r.body.apiKey, userId: r.body.userId });
  }
  const buyer = await request(hub.url, 'POST', '/api/buyers/register', { body: { name: 'Crash buyer', email: 'crash@example.test', password: 'long enough' } });
  assert.equal(buyer.status, 201, buyer.text);
  const task = await request(hub.url, 'POST', '/api/buyer/tasks', { key: buyer.body.apiKey, body: { title: 'Killed at the push', description: 'One hundred agents.', category, publish: true } });
  assert.equal(task.status, 201, task.text);
  const sockets = await Promise.all(agents.map((a) => connectAgent(hub.gatewayUrl, a.key)));
  // The first frame to arrive kills the hub: the others are wherever the hub was when it died.
  const received = new Map<string, string>(); // agent userId → the offer id its frame named
  sockets.forEach((s, i) =>
    s.ws.on('message', (data) => {
      const f = JSON.parse(String(data));
      if (f.type !== 'pending_offer') return;
      if (received.size === 0) hub.proc.kill('SIGKILL');
      received.set(agents[i].userId, f.offerId);
    })
  );
  const matched = await request(hub.url, 'POST', `/api/buyer/tasks/${task.body.task.id}/match`, { key: buyer.body.apiKey, body: { limit: 100 } }).catch((err: Error) => err);
  await Promise.all(sockets.map((s) => s.closed));
  assert.equal((await hub.exited).signal, 'SIGKILL');
  assert.ok(received.size >= 1, 'the first frame arrived');
  if (!(matched instanceof Error)) assert.equal(matched.status, 200, matched.text); // answered before the kill landed

  hub = await spawnServer(env);
  try {
    const view = await request(hub.url, 'GET', `/api/buyer/tasks/${task.body.task.id}`, { key: buyer.body.apiKey });
    assert.equal(view.status, 200, view.text);
    const stored = new Map((view.body.offers as { id: string; workerUserId: string; status: string }[]).map((o) => [o.workerUserId, o]));
    for (const [userId, offerId] of received) {
      assert.deepEqual([stored.get(userId)?.id, stored.get(userId)?.status], [offerId, 'PENDING'], `the offer agent ${userId} received is stored`);
    }
    // Each agent that heard of an offer finds it again on reconnecting; the first to accept wins.
    const [firstUser, firstOffer] = [...received][0];
    const again = await connectAgent(hub.gatewayUrl, agents.find((a) => a.userId === firstUser)!.key);
    const replayed = await again.next((f) => f.type === 'pending_offer' && f.offerId === firstOffer, 5000, 'the replayed offer');
    assert.equal(replayed.task.id, task.body.task.id);
    const ack = await again.request({ type: 'offer_decision', offerId: firstOffer, accept: true });
    assert.deepEqual([ack.type, ack.ok, ack.accept, typeof ack.assignmentId], ['ack', true, true, 'string'], JSON.stringify(ack));
    const after = await request(hub.url, 'GET', `/api/buyer/tasks/${task.body.task.id}`, { key: buyer.body.apiKey });
    assert.deepEqual([after.status, after.body.task.status, after.body.assignment?.id], [200, 'ASSIGNED', ack.assignmentId]);
    again.close();
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});
