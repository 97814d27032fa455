// The hub program itself: start-up output, first-start admin set-up, --help, commands, refusals.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request, tempDir } from './helpers.ts';
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

  const copy = path.join(d, 'backup.db');
  const b = await runProgram('server.ts', ['backup', copy], { VALENCE_DB: file });
  assert.equal(b.code, 0, b.stderr);
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
  } finally {
    hub.proc.kill('SIGTERM');
    await hub.exited;
  }
});
