// Bad input never yields a 5xx, a crash or a stack trace (SPEC §4): malformed JSON, oversized bodies,
// wrong content types, unknown routes and methods, wrong shapes and types, oversized strings, huge
// numbers, unicode, and ids that are not ids.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { match, openTask, registerAgent, registerBuyer, type ApiResponse, type RequestOpts, type TestHub, startTestHub, uniq } from './helpers.ts';

/** Every error body: {ok:false, error:{code, message}}, a snake_case code, and nothing that looks like a stack. */
function assertCleanError(res: ApiResponse, status: number, code: string | RegExp, what: string) {
  assert.equal(res.status, status, `${what}: status (body ${res.text.slice(0, 300)})`);
  assert.ok(res.body && typeof res.body === 'object', `${what}: a JSON body (got ${res.text.slice(0, 200)})`);
  assert.equal(res.body.ok, false, `${what}: ok:false`);
  if (typeof code === 'string') assert.equal(res.body.error?.code, code, `${what}: error.code (body ${res.text.slice(0, 300)})`);
  else assert.match(res.body.error?.code ?? '', code, `${what}: error.code`);
  assert.match(res.body.error.code, /^[a-z][a-z0-9_]*$/, `${what}: snake_case code`);
  assert.equal(typeof res.body.error.message, 'string', `${what}: error.message`);
  assert.ok(res.body.error.message.length > 0);
  assertNoStack(res, what);
}

function assertNoStack(res: ApiResponse, what: string) {
  assert.doesNotMatch(res.text, /\n\s+at |\bat [\w.<>]+ \(|node:internal|\.ts:\d+:\d+|\.js:\d+:\d+|SqliteError|ZodError/, `${what}: no stack trace or internals`);
  assert.equal(res.body?.stack, undefined);
  assert.equal(res.body?.error?.stack, undefined);
}

describe('bad input', () => {
  let hub: TestHub;
  let agent: Awaited<ReturnType<typeof registerAgent>>;
  let buyer: Awaited<ReturnType<typeof registerBuyer>>;
  let offerId: string;
  let assignmentId: string;
  let taskId: string;

  before(async () => {
    hub = await startTestHub({ registerLimit: 0 });
    const category = uniq('input');
    agent = await registerAgent(hub, { category });
    buyer = await registerBuyer(hub);
    const task = await openTask(hub, buyer.apiKey, { category });
    taskId = task.id;
    [{ offerId }] = await match(hub, buyer.apiKey, task.id);
    // A second task gives the agent an assignment to submit to.
    const t2 = await openTask(hub, buyer.apiKey, { category });
    const [o2] = await match(hub, buyer.apiKey, t2.id);
    const acc = await hub.api('POST', `/api/agent/v1/offers/${o2.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
    assert.equal(acc.status, 200, acc.text);
    assignmentId = acc.body.assignmentId;
  });
  after(async () => {
    await hub.stop();
  });

  describe('transport-level errors', () => {
    interface Case { name: string; method: string; path: () => string; opts: () => RequestOpts; status: number; code: string | RegExp }
    const json = { 'Content-Type': 'application/json' };
    const cases: Case[] = [
      { name: 'malformed JSON on registration', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: '{"name":', headers: json }), status: 400, code: 'invalid_json' },
      { name: 'malformed JSON on a decision', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, opts: () => ({ key: agent.apiKey, raw: '{accept: true}', headers: json }), status: 400, code: 'invalid_json' },
      { name: 'trailing garbage after JSON', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: '{"name":"a"} x', headers: json }), status: 400, code: 'invalid_json' },
      // {"name":"\xff\xfe"}: a body that is valid apart from its bytes, so the bytes alone are refused.
      { name: 'invalid UTF-8 bytes in JSON', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: json }), status: 400, code: 'invalid_json' },
      { name: 'an empty body where one is required', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: '', headers: json }), status: 400, code: /^(invalid_json|invalid_body)$/ },
      { name: 'a body over 1 MiB', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: JSON.stringify({ name: 'a', pad: 'x'.repeat(1024 * 1024) }), headers: json }), status: 413, code: 'body_too_large' },
      { name: 'a body over 1 MiB on submit', method: 'POST', path: () => `/api/agent/v1/assignments/${assignmentId}/submit`, opts: () => ({ key: agent.apiKey, raw: JSON.stringify({ contentText: 'x'.repeat(1024 * 1024 + 10) }), headers: json }), status: 413, code: 'body_too_large' },
      { name: 'text/plain body', method: 'POST', path: () => '/api/agents/register', opts: () => ({ raw: '{"name":"a"}', headers: { 'Content-Type': 'text/plain' } }), status: 415, code: 'unsupported_media_type' },
      { name: 'a form body (curl -d without -H)', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, opts: () => ({ key: agent.apiKey, raw: 'accept=true', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), status: 415, code: 'unsupported_media_type' },
      { name: 'multipart body', method: 'POST', path: () => '/api/buyer/tasks', opts: () => ({ key: buyer.apiKey, raw: '--x\r\n\r\n--x--', headers: { 'Content-Type': 'multipart/form-data; boundary=x' } }), status: 415, code: 'unsupported_media_type' },
      { name: 'unknown API route', method: 'GET', path: () => '/api/nothing/here', opts: () => ({}), status: 404, code: 'not_found' },
      { name: 'unknown agent route', method: 'POST', path: () => '/api/agent/v1/teleport', opts: () => ({ key: agent.apiKey, body: {} }), status: 404, code: 'not_found' },
    ];
    for (const c of cases) {
      test(`${c.name} → ${c.status}`, async () => {
        const res = await hub.api(c.method, c.path(), c.opts());
        assertCleanError(res, c.status, c.code, c.name);
      });
    }

    test('the body limit is not applied to a body just under 1 MiB', async () => {
      const name = 'big';
      const raw = JSON.stringify({ name, category: uniq('big'), pad: 'x'.repeat(1024 * 1024 - 200) });
      const res = await hub.api('POST', '/api/agents/register', { raw, headers: { 'Content-Type': 'application/json' } });
      // Unknown keys may be stripped or refused, but the size is not the problem.
      assert.notEqual(res.status, 413, res.text.slice(0, 200));
      assert.ok(res.status === 201 || res.status === 400, `201 or 400 (got ${res.status})`);
      if (res.status === 400) assertCleanError(res, 400, 'invalid_body', 'unknown key');
      else assert.equal(res.body.name, name);
    });

    // Routes that take no body still hold a body sent anyway to SPEC §4, and do nothing when it fails.
    test('a route that takes no body refuses a malformed, non-JSON or oversized one, and does nothing', async () => {
      const draft = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title: 'Kept a draft', description: 'd' } });
      assert.equal(draft.status, 201, draft.text);
      const publish = `/api/buyer/tasks/${draft.body.task.id}/publish`;
      const refused: [RequestOpts['raw'], Record<string, string>, number, string][] = [
        ['{"this is": not json', json, 400, 'invalid_json'],
        ['garbage{', { 'Content-Type': 'text/plain' }, 415, 'unsupported_media_type'],
        ['x'.repeat(1024 * 1024 + 1), { 'Content-Type': 'image/png' }, 413, 'body_too_large'],
      ];
      for (const [raw, headers, status, code] of refused) {
        assertCleanError(await hub.api('POST', publish, { key: buyer.apiKey, raw, headers }), status, code, `publish with ${code}`);
        assertCleanError(await hub.api('POST', '/api/agent/v1/key/rotate', { key: agent.apiKey, raw, headers }), status, code, `agent key rotation with ${code}`);
      }
      const view = await hub.api('GET', `/api/buyer/tasks/${draft.body.task.id}`, { key: buyer.apiKey });
      assert.deepEqual([view.status, view.body.task.status], [200, 'DRAFT'], 'the task was not published');
      assert.equal((await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey })).status, 200, 'the key was not rotated');
      // No body, an empty one, or an empty JSON object: done.
      const none = await hub.api('POST', publish, { key: buyer.apiKey });
      assert.deepEqual([none.status, none.body.task.status], [200, 'OPEN']);
      const empty = await hub.api('POST', publish, { key: buyer.apiKey, raw: '', headers: json });
      assert.deepEqual([empty.status, empty.body.ok], [200, true]);
      const obj = await hub.api('POST', publish, { key: buyer.apiKey, raw: '{}', headers: json });
      assert.deepEqual([obj.status, obj.body.ok], [200, true]);
      // A route whose body is optional takes none, or an object: JSON null is not one.
      assertCleanError(await hub.api('POST', `${publish.replace('/publish', '/match')}`, { key: buyer.apiKey, raw: 'null', headers: json }), 400, 'invalid_body', 'match with null');
      const bare = await hub.api('POST', publish.replace('/publish', '/match'), { key: buyer.apiKey });
      assert.deepEqual([bare.status, bare.body.ok], [200, true]);
    });

    // What Node's own HTTP parser refuses never reaches a route; it is answered in the same JSON shape.
    test('requests the HTTP parser refuses get JSON errors too: unknown method 501, huge headers 431, broken framing 400, Expect 417, CONNECT 405', async () => {
      const raw = (text: string) => new Promise<string>((resolve, reject) => {
        const { port } = new URL(hub.url);
        const sock = net.connect(Number(port), '127.0.0.1', () => sock.end(text));
        let got = '';
        sock.setEncoding('utf8');
        sock.on('data', (d: string) => (got += d));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
      });
      const cases: [string, number, string][] = [
        ['FOO /api/agents/register HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'method_not_implemented'],
        [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
        ['POST /api/agents/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', 400, 'bad_request'],
        ['POST /api/agents/register HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400, 'bad_request'],
        ['POST /api/agents/register HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 2\r\n\r\n{}', 417, 'expectation_failed'],
        ['CONNECT example.invalid:443 HTTP/1.1\r\nHost: example.invalid:443\r\n\r\n', 405, 'method_not_allowed'],
      ];
      for (const [req, status, code] of cases) {
        const answer = await raw(req);
        const what = req.slice(0, 40);
        assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${answer.slice(0, 200)}`);
        assert.match(answer, /\r\nContent-Type: application\/json; charset=utf-8\r\n/i, what);
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
        assert.deepEqual([body.ok, body.error.code, typeof body.error.message], [false, code, 'string'], what);
      }
      assert.equal((await hub.api('GET', '/healthz')).status, 200, 'the hub is still serving');
    });

    test('application/json with a charset parameter is JSON', async () => {
      const res = await hub.api('POST', '/api/agents/register', { raw: JSON.stringify({ name: 'charset', category: uniq('charset') }), headers: { 'Content-Type': 'application/json; charset=utf-8' } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.name, 'charset');
    });

    const wrongMethods: { path: string; method: string; allow: string[] }[] = [
      { path: '/api/agents/register', method: 'GET', allow: ['POST'] },
      { path: '/api/agents/register', method: 'DELETE', allow: ['POST'] },
      { path: '/api/agent/v1/me', method: 'DELETE', allow: ['GET', 'PATCH'] },
      { path: '/api/agent/v1/me', method: 'POST', allow: ['GET', 'PATCH'] },
      { path: '/api/agent/v1/offers/abc/decision', method: 'GET', allow: ['POST'] },
      { path: '/api/agent/v1/assignments/abc/submit', method: 'PUT', allow: ['POST'] },
      { path: '/api/buyer/tasks', method: 'DELETE', allow: ['GET', 'POST'] },
      { path: '/healthz', method: 'POST', allow: ['GET'] },
    ];
    for (const c of wrongMethods) {
      test(`${c.method} ${c.path} → 405 method_not_allowed with Allow: ${c.allow.join(', ')}`, async () => {
        const res = await hub.api(c.method, c.path, { key: agent.apiKey });
        assertCleanError(res, 405, 'method_not_allowed', `${c.method} ${c.path}`);
        const allow = (res.headers.get('allow') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        for (const m of c.allow) assert.ok(allow.includes(m), `Allow names ${m} (got "${res.headers.get('allow')}")`);
        assert.ok(!allow.includes(c.method), `Allow does not name ${c.method}`);
      });
    }
  });

  describe('wrong shapes and types', () => {
    interface Case { name: string; method: string; path: () => string; key?: () => string; body?: unknown; raw?: string; path_?: string }
    const withKey = () => agent.apiKey;
    const asBuyer = () => buyer.apiKey;
    const cases: Case[] = [
      { name: 'registration body is an array', method: 'POST', path: () => '/api/agents/register', body: [{ name: 'a' }] },
      { name: 'registration body is null', method: 'POST', path: () => '/api/agents/register', raw: 'null' },
      { name: 'registration body is a string', method: 'POST', path: () => '/api/agents/register', body: 'name' },
      { name: 'registration body is a number', method: 'POST', path: () => '/api/agents/register', raw: '42' },
      { name: 'registration body is true', method: 'POST', path: () => '/api/agents/register', raw: 'true' },
      { name: 'decision body is an array', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, body: [true] },
      { name: 'decision body is null', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, raw: 'null' },
      { name: 'decision accept is an object', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, body: { accept: { yes: true } }, path_: 'accept' },
      { name: 'decision accept is "false"', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, body: { accept: 'false' }, path_: 'accept' },
      { name: 'decision reason of 2001 characters', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, body: { accept: false, reason: 'r'.repeat(2001) }, path_: 'reason' },
      { name: 'decision reason is an array', method: 'POST', path: () => `/api/agent/v1/offers/${offerId}/decision`, key: withKey, body: { accept: false, reason: ['a'] }, path_: 'reason' },
      { name: 'submit body is a string', method: 'POST', path: () => `/api/agent/v1/assignments/${assignmentId}/submit`, key: withKey, body: 'text' },
      { name: 'submit contentText is null', method: 'POST', path: () => `/api/agent/v1/assignments/${assignmentId}/submit`, key: withKey, body: { contentText: null }, path_: 'contentText' },
      { name: 'submit contentText over 200 000 characters', method: 'POST', path: () => `/api/agent/v1/assignments/${assignmentId}/submit`, key: withKey, body: { contentText: 'c'.repeat(200_001) }, path_: 'contentText' },
      { name: 'name of 101 characters', method: 'POST', path: () => '/api/agents/register', body: { name: 'n'.repeat(101) }, path_: 'name' },
      { name: 'name of 101 emoji', method: 'POST', path: () => '/api/agents/register', body: { name: '🤖'.repeat(101) }, path_: 'name' },
      { name: 'task title is an array', method: 'POST', path: () => '/api/buyer/tasks', key: asBuyer, body: { title: ['t'], description: 'd' }, path_: 'title' },
      { name: 'task body is an array', method: 'POST', path: () => '/api/buyer/tasks', key: asBuyer, body: [] },
      { name: 'match limit 1e308', method: 'POST', path: () => `/api/buyer/tasks/${taskId}/match`, key: asBuyer, body: { limit: 1e308 }, path_: 'limit' },
      { name: 'match limit 1e400 (Infinity once parsed)', method: 'POST', path: () => `/api/buyer/tasks/${taskId}/match`, key: asBuyer, raw: '{"limit": 1e400}', path_: 'limit' },
      { name: 'match limit past 2^53', method: 'POST', path: () => `/api/buyer/tasks/${taskId}/match`, key: asBuyer, raw: '{"limit": 9007199254740993}', path_: 'limit' },
      { name: 'match body is an array', method: 'POST', path: () => `/api/buyer/tasks/${taskId}/match`, key: asBuyer, body: [5] },
      { name: 'maxConcurrent 1e20', method: 'PATCH', path: () => '/api/agent/v1/me', key: withKey, body: { maxConcurrent: 1e20 }, path_: 'maxConcurrent' },
      { name: 'maxConcurrent -1e308', method: 'PATCH', path: () => '/api/agent/v1/me', key: withKey, body: { maxConcurrent: -1e308 }, path_: 'maxConcurrent' },
      { name: 'offerTtlSeconds 1e15', method: 'POST', path: () => '/api/buyer/tasks', key: asBuyer, body: { title: 't', description: 'd', offerTtlSeconds: 1e15 }, path_: 'offerTtlSeconds' },
      { name: 'a huge number where a string belongs', method: 'POST', path: () => '/api/agents/register', raw: '{"name": 1e999}', path_: 'name' },
      { name: 'deeply nested JSON', method: 'POST', path: () => '/api/agents/register', raw: '{"name":' + '['.repeat(5000) + ']'.repeat(5000) + '}', path_: 'name' },
    ];
    for (const c of cases) {
      test(`${c.name} → 400 invalid_body`, async () => {
        const opts: RequestOpts = c.raw !== undefined ? { raw: c.raw, headers: { 'Content-Type': 'application/json' } } : { body: c.body };
        if (c.key) opts.key = c.key();
        const res = await hub.api(c.method, c.path(), opts);
        assertCleanError(res, 400, 'invalid_body', c.name);
        if (c.path_) {
          const paths = (res.body.error.issues ?? []).map((i: { path: string }) => i.path);
          assert.ok(paths.includes(c.path_), `issues name ${c.path_} (got ${JSON.stringify(paths)})`);
        }
      });
    }

    test('nothing above changed the state: the offer is PENDING, the assignment ASSIGNED', async () => {
      const v = await hub.api('GET', `/api/buyer/tasks/${taskId}`, { key: buyer.apiKey });
      assert.equal(v.status, 200);
      assert.equal(v.body.offers[0].status, 'PENDING');
      const list = await hub.api('GET', '/api/agent/v1/assignments', { key: agent.apiKey });
      assert.equal(list.body.assignments[0].id, assignmentId);
      assert.equal(list.body.assignments[0].status, 'ASSIGNED');
      assert.equal(list.body.assignments[0].deliverable, null);
    });

    test('contentText of exactly 200 000 characters is accepted whole', async () => {
      const category = uniq('long');
      const a = await registerAgent(hub, { category });
      const t = await openTask(hub, buyer.apiKey, { category });
      const [o] = await match(hub, buyer.apiKey, t.id);
      const acc = await hub.api('POST', `/api/agent/v1/offers/${o.offerId}/decision`, { key: a.apiKey, body: { accept: true } });
      const text = 'é'.repeat(200_000);
      const res = await hub.api('POST', `/api/agent/v1/assignments/${acc.body.assignmentId}/submit`, { key: a.apiKey, body: { contentText: text } });
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(res.body.status, 'SUBMITTED');
      const v = await hub.api('GET', `/api/buyer/tasks/${t.id}`, { key: buyer.apiKey });
      assert.equal(v.body.deliverable.contentText.length, 200_000);
      assert.equal(v.body.deliverable.contentText, text);
    });
  });

  describe('unicode', () => {
    const names = ['Zoë Agent', '智能体 助手', '🤖🦾 Robo', 'עברית עם ניקוד', 'e\u0301 combining', '👩‍👩‍👧‍👦 family', '𝕍𝕒𝕝𝕖𝕟𝕔𝕖', '<script>alert(1)</script> & "quotes"'];
    for (const name of names) {
      test(`agent name ${JSON.stringify(name)} is accepted and returned intact`, async () => {
        const res = await hub.api('POST', '/api/agents/register', { body: { name, category: name } });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.name, name);
        assert.equal(res.body.category, name);
        const me = await hub.api('GET', '/api/agent/v1/me', { key: res.body.apiKey });
        assert.equal(me.status, 200);
        assert.equal(me.body.name, name);
        assert.equal(me.body.category, name);
        assert.match(me.headers.get('content-type') ?? '', /^application\/json/);
      });
    }

    test('half a surrogate pair (a lone \\ud800 escape) is refused, in a value or a key; a whole pair written as escapes is kept', async () => {
      const json = { 'Content-Type': 'application/json' };
      for (const raw of ['{"name":"a\\ud800b"}', '{"name":"a\\uDC00"}', '{"name":"x","category":"\\udbff"}', '{"name":"x","\\ud800":1}']) {
        assertCleanError(await hub.api('POST', '/api/agents/register', { raw, headers: json }), 400, 'invalid_json', raw);
      }
      const pair = await hub.api('POST', '/api/agents/register', { raw: '{"name":"robot \\ud83e\\udd16","category":"a\\\\ud800"}', headers: json });
      assert.equal(pair.status, 201, pair.text);
      assert.deepEqual([pair.body.name, pair.body.category], ['robot 🤖', 'a\\ud800'], 'an escaped backslash before "ud800" is plain text');
      const me = await hub.api('GET', '/api/agent/v1/me', { key: pair.body.apiKey });
      assert.deepEqual([me.status, me.body.name], [200, 'robot 🤖']);
    });

    test('task title, description and a decline reason keep their emoji and scripts', async () => {
      const category = '分类 🧪';
      const a = await registerAgent(hub, { category, name: 'Ünïcødé 🤖' });
      const title = 'Übersetze „das“ → 日本語 🗾';
      const description = 'Line one\nLine two — with “quotes” and \'apostrophes\' and a 🐘';
      const created = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title, description, category, publish: true } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.task.title, title);
      const [o] = await match(hub, buyer.apiKey, created.body.task.id);
      assert.equal(o.workerUserId, a.userId, 'a unicode category matches itself');
      const reason = 'Keine Zeit 😴 — 忙しい';
      const dec = await hub.api('POST', `/api/agent/v1/offers/${o.offerId}/decision`, { key: a.apiKey, body: { accept: false, reason } });
      assert.equal(dec.status, 200, dec.text);
      const v = await hub.api('GET', `/api/buyer/tasks/${created.body.task.id}`, { key: buyer.apiKey });
      assert.equal(v.body.task.title, title);
      assert.equal(v.body.task.description, description);
      assert.equal(v.body.task.category, category);
      assert.equal(v.body.offers[0].reason, reason);
      assert.equal(v.body.offers[0].workerName, 'Ünïcødé 🤖');
    });
  });

  describe('ids that are not ids', () => {
    const bad = ['..%2F..%2Fetc', '%ZZ', 'x'.repeat(5000), '%00', "1'%20OR%20'1'='1", '%F0%9F%A4%96', '1', '-1', 'null', 'undefined'];
    const routes: { name: string; method: string; path: (id: string) => string; key: () => string; body?: unknown; code: string }[] = [
      { name: 'offer decision', method: 'POST', path: (id) => `/api/agent/v1/offers/${id}/decision`, key: () => agent.apiKey, body: { accept: true }, code: 'offer_not_found' },
      { name: 'assignment submit', method: 'POST', path: (id) => `/api/agent/v1/assignments/${id}/submit`, key: () => agent.apiKey, body: { contentText: 'x' }, code: 'assignment_not_found' },
      { name: 'assignment start', method: 'POST', path: (id) => `/api/agent/v1/assignments/${id}/start`, key: () => agent.apiKey, body: {}, code: 'assignment_not_found' },
      { name: 'buyer task view', method: 'GET', path: (id) => `/api/buyer/tasks/${id}`, key: () => buyer.apiKey, code: 'task_not_found' },
      { name: 'buyer task match', method: 'POST', path: (id) => `/api/buyer/tasks/${id}/match`, key: () => buyer.apiKey, body: {}, code: 'task_not_found' },
      { name: 'buyer review', method: 'POST', path: (id) => `/api/buyer/assignments/${id}/review`, key: () => buyer.apiKey, body: { decision: 'accept' }, code: 'assignment_not_found' },
    ];
    for (const r of routes) {
      test(`${r.name}: ids that are not ids → 404 ${r.code}`, async () => {
        for (const id of bad) {
          const res = await hub.api(r.method, r.path(id), { key: r.key(), body: r.body });
          assertCleanError(res, 404, r.code, `${r.name} with id ${id.slice(0, 40)}`);
        }
      });
    }
  });

  test('paths: an empty id is no route (404 not_found), a percent-encoded id names its resource, HEAD is answered as GET without a body', async () => {
    const empty = await hub.api('POST', '/api/agent/v1/offers//decision', { key: agent.apiKey, body: { accept: true } });
    assertCleanError(empty, 404, 'not_found', 'an empty offer id');
    const encoded = [...taskId].map((ch) => '%' + ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    const view = await hub.api('GET', `/api/buyer/tasks/${encoded}`, { key: buyer.apiKey });
    assert.equal(view.status, 200, view.text);
    assert.equal(view.body.task.id, taskId);
    const head = await hub.api('HEAD', `/api/buyer/tasks/${taskId}`, { key: buyer.apiKey });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.match(head.headers.get('content-type') ?? '', /^application\/json/);
    // A path with more segments than any route, and one that differs only in a literal segment.
    assertCleanError(await hub.api('GET', `/api/buyer/tasks/${taskId}/x/y`, { key: buyer.apiKey }), 404, 'not_found', 'too many segments');
    assertCleanError(await hub.api('POST', `/api/agent/v1/offers/${offerId}/decisions`, { key: agent.apiKey, body: { accept: true } }), 404, 'not_found', 'a misspelt literal segment');
  });

  test('every route still answers: GET /healthz → 200', async () => {
    const res = await hub.api('GET', '/healthz');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.ok, true);
    const me = await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey });
    assert.equal(me.status, 200);
    assert.equal(me.body.agentId, agent.agentId);
  });
});
