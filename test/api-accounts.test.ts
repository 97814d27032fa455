// Accounts over HTTP (SPEC §3, §4.1, §4.3): registration of agents, buyers and workers, Bearer
// authentication with every 401 case, /me, key rotation, sessions with forgery protection, and the
// registration policy (closed, per-address limit, TRUST_PROXY).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './spawn.ts';
import { openTask, registerAgent, registerBuyer, type ApiResponse, type TestHub, startTestHub, uniq, PASSWORD, assertError, issuePaths } from './helpers.ts';

const AGENT_KEY = /^hc_agent_[A-Za-z0-9_-]{43,}$/; // 32+ random bytes in base64url
const BUYER_KEY = /^hc_buyer_[A-Za-z0-9_-]{32,}$/;
const OPAQUE_ID = /^[A-Za-z0-9_-]{8,}$/;

const email = (p: string) => `${uniq(p)}@example.test`;

/** Signs in and returns the session cookie ("name=value"), its Set-Cookie line and the CSRF token. */
async function login(hub: TestHub, emailAddr: string, password = PASSWORD) {
  const res = await hub.api('POST', '/api/auth/login', { body: { email: emailAddr, password } });
  assert.equal(res.status, 200, `login (body ${res.text})`);
  assert.equal(res.body.ok, true);
  assert.equal(typeof res.body.csrfToken, 'string', 'login returns csrfToken');
  assert.ok(res.body.csrfToken.length >= 16, 'csrfToken is not trivially short');
  const setCookies = res.headers.getSetCookie();
  assert.ok(setCookies.length >= 1, 'login sets a cookie');
  const setCookie = setCookies[0];
  return { cookie: setCookie.split(';')[0], setCookie, csrfToken: res.body.csrfToken as string, res };
}

/** A hub of its own — a fresh install, no admin yet — stopped after fn. */
async function onFreshHub(fn: (hub: TestHub) => Promise<void>) {
  const hub = await startTestHub({ registerLimit: 0 });
  try {
    await fn(hub);
  } finally {
    await hub.stop();
  }
}

/** Makes the first admin with the hub's one-time set-up token and signs in as it. */
async function firstAdmin(hub: TestHub) {
  const admin = { name: 'Admin', email: email('admin'), password: PASSWORD, token: hub.setup.token };
  assert.equal((await hub.api('POST', '/setup', { body: admin })).status, 201);
  return login(hub, admin.email);
}

async function registerWorker(hub: TestHub, fields: Record<string, unknown> = {}) {
  const body = { name: uniq('worker'), email: email('worker'), password: PASSWORD, ...fields };
  const res = await hub.api('POST', '/api/workers/register', { body });
  assert.equal(res.status, 201, `worker registration (body ${res.text})`);
  return { ...(res.body as { userId: string }), email: body.email as string };
}

/** The one string in a body that looks like an agent key (the rotation answer names no field in the SPEC). */
function agentKeyIn(body: Record<string, unknown>): string | undefined {
  return Object.values(body).find((v): v is string => typeof v === 'string' && v.startsWith('hc_agent_'));
}

describe('accounts', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ registerLimit: 0 });
  });
  after(async () => {
    await hub.stop();
  });

  describe('agent registration', () => {
    test('201 with agentId, userId, name, category and a fresh hc_agent_ key', async () => {
      const name = uniq('Agent');
      const res = await hub.api('POST', '/api/agents/register', { body: { name, category: 'writing', email: email('agent') } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.name, name);
      assert.equal(res.body.category, 'writing');
      assert.match(res.body.agentId, OPAQUE_ID);
      assert.match(res.body.userId, OPAQUE_ID);
      assert.notEqual(res.body.agentId, res.body.userId);
      assert.doesNotMatch(res.body.agentId, /^\d+$/, 'ids are not sequential integers');
      assert.match(res.body.apiKey, AGENT_KEY);
    });

    test('only name is required; category comes back null', async () => {
      const res = await hub.api('POST', '/api/agents/register', { body: { name: uniq('bare') } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.category ?? null, null);
      assert.match(res.body.apiKey, AGENT_KEY);
    });

    test('every registration gets a different key and different ids', async () => {
      const a = await registerAgent(hub);
      const b = await registerAgent(hub);
      assert.notEqual(a.apiKey, b.apiKey);
      assert.notEqual(a.agentId, b.agentId);
      assert.notEqual(a.userId, b.userId);
    });

    const invalid: { name: string; body: unknown; paths: string[] }[] = [
      { name: 'missing name', body: { category: 'x' }, paths: ['name'] },
      { name: 'empty name', body: { name: '' }, paths: ['name'] },
      { name: 'name of 101 characters', body: { name: 'n'.repeat(101) }, paths: ['name'] },
      { name: 'name is a number', body: { name: 42 }, paths: ['name'] },
      { name: 'name is null', body: { name: null }, paths: ['name'] },
      { name: 'email is not an email', body: { name: 'ok', email: 'not-an-email' }, paths: ['email'] },
      { name: 'category is a number', body: { name: 'ok', category: 7 }, paths: ['category'] },
      { name: 'two bad fields are both named', body: { name: '', email: 'nope' }, paths: ['name', 'email'] },
    ];
    for (const c of invalid) {
      test(`400 invalid_body naming the field: ${c.name}`, async () => {
        const res = await hub.api('POST', '/api/agents/register', { body: c.body });
        assertError(res, 400, 'invalid_body');
        const paths = issuePaths(res);
        for (const p of c.paths) assert.ok(paths.includes(p), `issues name "${p}" (got ${JSON.stringify(paths)})`);
        assert.equal(res.body.apiKey, undefined);
      });
    }

    test('a name of exactly 100 characters is accepted', async () => {
      const name = 'é'.repeat(100);
      const res = await hub.api('POST', '/api/agents/register', { body: { name } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.name, name);
    });

    test('409 email_taken for an email already in use, by an agent or by a buyer', async () => {
      const addr = email('dup');
      const first = await hub.api('POST', '/api/agents/register', { body: { name: 'first', email: addr } });
      assert.equal(first.status, 201, first.text);
      const again = await hub.api('POST', '/api/agents/register', { body: { name: 'second', email: addr } });
      assertError(again, 409, 'email_taken', 'agent with a taken email');
      assert.equal(again.body.apiKey, undefined);
      const buyer = await hub.api('POST', '/api/buyers/register', { body: { name: 'b', email: addr, password: PASSWORD } });
      assertError(buyer, 409, 'email_taken', 'buyer with a taken email');
      const worker = await hub.api('POST', '/api/workers/register', { body: { name: 'w', email: addr, password: PASSWORD } });
      assertError(worker, 409, 'email_taken', 'worker with a taken email');
    });
  });

  describe('buyer and worker registration', () => {
    test('buyer: 201 {ok, userId, apiKey} with an hc_buyer_ key, and no password echoed', async () => {
      const res = await hub.api('POST', '/api/buyers/register', { body: { name: 'Buyer', email: email('buyer'), password: PASSWORD } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
      assert.match(res.body.userId, OPAQUE_ID);
      assert.match(res.body.apiKey, BUYER_KEY);
      assert.ok(!res.text.includes(PASSWORD), 'the password is never sent back');
    });

    test('worker: 201 {ok, userId} and no key', async () => {
      const res = await hub.api('POST', '/api/workers/register', { body: { name: 'Worker', email: email('worker'), password: PASSWORD, category: 'writing' } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
      assert.match(res.body.userId, OPAQUE_ID);
      assert.equal(res.body.apiKey, undefined);
      assert.ok(!res.text.includes(PASSWORD));
    });

    const invalid: { name: string; route: string; body: unknown; paths: string[] }[] = [
      { name: 'buyer without email', route: '/api/buyers/register', body: { name: 'b', password: PASSWORD }, paths: ['email'] },
      { name: 'buyer without password', route: '/api/buyers/register', body: { name: 'b', email: email('b') }, paths: ['password'] },
      { name: 'buyer without name', route: '/api/buyers/register', body: { email: email('b'), password: PASSWORD }, paths: ['name'] },
      { name: 'buyer with a bad email', route: '/api/buyers/register', body: { name: 'b', email: 'x@', password: PASSWORD }, paths: ['email'] },
      { name: 'worker without password', route: '/api/workers/register', body: { name: 'w', email: email('w') }, paths: ['password'] },
      { name: 'worker with a numeric category', route: '/api/workers/register', body: { name: 'w', email: email('w'), password: PASSWORD, category: 1 }, paths: ['category'] },
    ];
    for (const c of invalid) {
      test(`400 invalid_body: ${c.name}`, async () => {
        const res = await hub.api('POST', c.route, { body: c.body });
        assertError(res, 400, 'invalid_body');
        const paths = issuePaths(res);
        for (const p of c.paths) assert.ok(paths.includes(p), `issues name "${p}" (got ${JSON.stringify(paths)})`);
      });
    }
  });

  describe('Bearer authentication (SPEC §3)', () => {
    let agent: Awaited<ReturnType<typeof registerAgent>>;
    let buyer: Awaited<ReturnType<typeof registerBuyer>>;
    before(async () => {
      agent = await registerAgent(hub);
      buyer = await registerBuyer(hub);
    });

    const routes: { method: string; path: string; body?: unknown }[] = [
      { method: 'GET', path: '/api/agent/v1/me' },
      { method: 'POST', path: '/api/agent/v1/offers/some-offer/decision', body: { accept: true } },
      { method: 'POST', path: '/api/agent/v1/assignments/some-assignment/submit', body: { contentText: 'x' } },
      { method: 'GET', path: '/api/worker/assignments' },
    ];
    const cases: { name: string; header: () => string | undefined }[] = [
      { name: 'missing Authorization header', header: () => undefined },
      { name: 'Basic scheme', header: () => 'Basic ' + btoa('user:pass') },
      { name: 'a valid key under another scheme', header: () => `Token ${agent.apiKey}` },
      { name: 'Bearer with nothing after it', header: () => 'Bearer ' },
      { name: 'a key without the hc_agent_ prefix', header: () => `Bearer ${agent.apiKey.slice('hc_agent_'.length)}` },
      { name: 'an unknown hc_agent_ key', header: () => `Bearer hc_agent_${'A'.repeat(43)}` },
      { name: 'a buyer key (the user is not an agent)', header: () => `Bearer ${buyer.apiKey}` },
    ];
    for (const r of routes) {
      for (const c of cases) {
        test(`401 unauthorized on ${r.method} ${r.path}: ${c.name}`, async () => {
          const h = c.header();
          const res = await hub.api(r.method, r.path, { body: r.body, headers: h === undefined ? {} : { Authorization: h } });
          assertError(res, 401, 'unauthorized');
        });
      }
    }

    test('a good key passes on the same routes (the 401s above are about the key)', async () => {
      const me = await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.ok, true);
      const decision = await hub.api('POST', '/api/agent/v1/offers/some-offer/decision', { key: agent.apiKey, body: { accept: true } });
      assertError(decision, 404, 'offer_not_found');
      const submit = await hub.api('POST', '/api/agent/v1/assignments/some-assignment/submit', { key: agent.apiKey, body: { contentText: 'x' } });
      assertError(submit, 404, 'assignment_not_found');
      const list = await hub.api('GET', '/api/worker/assignments', { key: agent.apiKey });
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body, { ok: true, assignments: [] });
    });

    test('an agent key on a buyer route is 401 or 403, never a success', async () => {
      const res = await hub.api('POST', '/api/buyer/tasks', { key: agent.apiKey, body: { title: 't', description: 'd' } });
      assert.ok(res.status === 401 || res.status === 403, `status ${res.status} (${res.text})`);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.error.code, res.status === 401 ? 'unauthorized' : 'forbidden');
    });
  });

  describe('/api/agent/v1/me', () => {
    test('GET shows the profile with keyPrefix = first 12 characters, never the key', async () => {
      const before = Date.now();
      const reg = await registerAgent(hub, { category: 'research' });
      const res = await hub.api('GET', '/api/agent/v1/me', { key: reg.apiKey });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.agentId, reg.agentId);
      assert.equal(res.body.userId, reg.userId);
      assert.equal(res.body.name, reg.name);
      assert.equal(res.body.category, 'research');
      assert.equal(res.body.keyPrefix, reg.apiKey.slice(0, 12));
      assert.equal(res.body.maxConcurrent, 0, 'maxConcurrent defaults to 0 (no limit)');
      assert.equal(typeof res.body.createdAt, 'string');
      assert.ok(Date.parse(res.body.createdAt) >= before - 2000, 'createdAt is an ISO time');
      assert.ok(res.body.createdAt.endsWith('Z'), 'times are UTC');
      assert.ok('lastSeenAt' in res.body, 'lastSeenAt is present (null or a time)');
      assert.equal(res.body.apiKey, undefined);
      assert.ok(!res.text.includes(reg.apiKey), 'the key never appears');
      assert.ok(!res.text.includes(reg.apiKey.slice(12)), 'not even its secret part');
      assert.ok(!/keyHash|key_hash/.test(res.text), 'nor its hash');
    });

    test('PATCH changes name, category and maxConcurrent; GET shows them', async () => {
      const reg = await registerAgent(hub, { category: 'a' });
      const res = await hub.api('PATCH', '/api/agent/v1/me', { key: reg.apiKey, body: { name: 'Renamed 🤖', category: 'b', maxConcurrent: 3 } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.ok(!res.text.includes(reg.apiKey));
      const me = await hub.api('GET', '/api/agent/v1/me', { key: reg.apiKey });
      assert.equal(me.status, 200);
      assert.equal(me.body.name, 'Renamed 🤖');
      assert.equal(me.body.category, 'b');
      assert.equal(me.body.maxConcurrent, 3);
      assert.equal(me.body.keyPrefix, reg.apiKey.slice(0, 12));
    });

    test('PATCH with one field leaves the others as they were', async () => {
      const reg = await registerAgent(hub, { category: 'keep' });
      const res = await hub.api('PATCH', '/api/agent/v1/me', { key: reg.apiKey, body: { maxConcurrent: 2 } });
      assert.equal(res.status, 200, res.text);
      const me = await hub.api('GET', '/api/agent/v1/me', { key: reg.apiKey });
      assert.equal(me.body.name, reg.name);
      assert.equal(me.body.category, 'keep');
      assert.equal(me.body.maxConcurrent, 2);
    });

    const invalid: { name: string; body: unknown; path: string }[] = [
      { name: 'negative maxConcurrent', body: { maxConcurrent: -1 }, path: 'maxConcurrent' },
      { name: 'fractional maxConcurrent', body: { maxConcurrent: 1.5 }, path: 'maxConcurrent' },
      { name: 'maxConcurrent as a string', body: { maxConcurrent: '2' }, path: 'maxConcurrent' },
      { name: 'empty name', body: { name: '' }, path: 'name' },
      { name: 'name of 101 characters', body: { name: 'x'.repeat(101) }, path: 'name' },
    ];
    for (const c of invalid) {
      test(`PATCH 400 invalid_body: ${c.name}`, async () => {
        const reg = await registerAgent(hub);
        const res = await hub.api('PATCH', '/api/agent/v1/me', { key: reg.apiKey, body: c.body });
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes(c.path), res.text);
        const me = await hub.api('GET', '/api/agent/v1/me', { key: reg.apiKey });
        assert.equal(me.body.name, reg.name, 'nothing changed');
        assert.equal(me.body.maxConcurrent, 0, 'nothing changed');
      });
    }
  });

  describe('key rotation', () => {
    test('the new key works and the old one is 401 at once', async () => {
      const reg = await registerAgent(hub);
      const res = await hub.api('POST', '/api/agent/v1/key/rotate', { key: reg.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      const fresh = agentKeyIn(res.body);
      assert.ok(fresh, `the answer carries the new key (${res.text})`);
      assert.match(fresh, AGENT_KEY);
      assert.notEqual(fresh, reg.apiKey);

      const old = await hub.api('GET', '/api/agent/v1/me', { key: reg.apiKey });
      assertError(old, 401, 'unauthorized', 'old key');
      const oldRotate = await hub.api('POST', '/api/agent/v1/key/rotate', { key: reg.apiKey, body: {} });
      assertError(oldRotate, 401, 'unauthorized', 'old key rotating again');

      const me = await hub.api('GET', '/api/agent/v1/me', { key: fresh });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.agentId, reg.agentId, 'same agent');
      assert.equal(me.body.userId, reg.userId);
      assert.equal(me.body.keyPrefix, fresh.slice(0, 12));
      assert.ok(!me.text.includes(fresh), 'the new key is not shown again');
    });

    test('rotating twice leaves only the newest key alive', async () => {
      const reg = await registerAgent(hub);
      const one = await hub.api('POST', '/api/agent/v1/key/rotate', { key: reg.apiKey, body: {} });
      const k1 = agentKeyIn(one.body)!;
      const two = await hub.api('POST', '/api/agent/v1/key/rotate', { key: k1, body: {} });
      assert.equal(two.status, 200, two.text);
      const k2 = agentKeyIn(two.body)!;
      assert.match(k2, AGENT_KEY);
      for (const [label, key] of [['first', reg.apiKey], ['second', k1]] as const) {
        assertError(await hub.api('GET', '/api/agent/v1/me', { key }), 401, 'unauthorized', `${label} key`);
      }
      const me = await hub.api('GET', '/api/agent/v1/me', { key: k2 });
      assert.equal(me.status, 200);
      assert.equal(me.body.agentId, reg.agentId);
    });

    test('rotation needs a key', async () => {
      assertError(await hub.api('POST', '/api/agent/v1/key/rotate', { body: {} }), 401, 'unauthorized');
    });
  });

  describe('sessions', () => {
    test('login sets an HttpOnly, SameSite session cookie and never echoes the password', async () => {
      const w = await registerWorker(hub);
      const s = await login(hub, w.email);
      assert.match(s.setCookie, /;\s*HttpOnly/i);
      assert.match(s.setCookie, /;\s*SameSite=(Lax|Strict)/i);
      assert.match(s.cookie, /^[^=;\s]+=[^;\s]{16,}$/, 'a name=value cookie with a long value');
      assert.ok(!s.res.text.includes(PASSWORD));
      const list = await hub.api('GET', '/api/worker/assignments', { cookie: s.cookie });
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body, { ok: true, assignments: [] });
    });

    const badLogins: { name: string; body: (addr: string) => unknown; status: number; code: string }[] = [
      { name: 'wrong password', body: (addr) => ({ email: addr, password: 'wrong password' }), status: 401, code: 'unauthorized' },
      { name: 'unknown email', body: () => ({ email: email('nobody'), password: PASSWORD }), status: 401, code: 'unauthorized' },
      { name: 'no password', body: (addr) => ({ email: addr }), status: 400, code: 'invalid_body' },
    ];
    for (const c of badLogins) {
      test(`login refused: ${c.name}`, async () => {
        const w = await registerWorker(hub);
        const res = await hub.api('POST', '/api/auth/login', { body: c.body(w.email) });
        assertError(res, c.status, c.code);
        assert.deepEqual(res.headers.getSetCookie().filter((sc) => !/max-age=0|expires=thu, 01 jan 1970/i.test(sc)), [], 'no session cookie');
      });
    }

    test('a buyer signs in with the same email and password it registered with', async () => {
      const addr = email('buyer');
      await registerBuyer(hub, { email: addr, password: PASSWORD });
      const s = await login(hub, addr);
      const res = await hub.api('GET', '/api/buyer/tasks', { cookie: s.cookie });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
    });

    test('logout ends the session: the cookie is 401 afterwards', async () => {
      const w = await registerWorker(hub);
      const s = await login(hub, w.email);
      const out = await hub.api('POST', '/api/auth/logout', { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrfToken }, body: {} });
      assert.equal(out.status, 200, out.text);
      assert.equal(out.body.ok, true);
      const res = await hub.api('GET', '/api/worker/assignments', { cookie: s.cookie });
      assertError(res, 401, 'unauthorized');
    });

    test('a made-up session cookie is 401', async () => {
      const w = await registerWorker(hub);
      const s = await login(hub, w.email);
      const forged = s.cookie.split('=')[0] + '=' + 'A'.repeat(43);
      assertError(await hub.api('GET', '/api/worker/assignments', { cookie: forged }), 401, 'unauthorized');
    });
  });

  describe('cross-site forgery protection for cookie requests', () => {
    let addr: string;
    let s: Awaited<ReturnType<typeof login>>;
    let other: Awaited<ReturnType<typeof login>>;
    let buyerKey: string;
    before(async () => {
      addr = email('csrf-buyer');
      buyerKey = (await registerBuyer(hub, { email: addr, password: PASSWORD })).apiKey;
      s = await login(hub, addr);
      const otherAddr = email('csrf-other');
      await registerBuyer(hub, { email: otherAddr, password: PASSWORD });
      other = await login(hub, otherAddr);
    });

    const newTask = { title: 'csrf', description: 'made with a cookie' };
    const cases: { name: string; headers: () => Record<string, string>; status: number; code?: string }[] = [
      { name: 'no X-CSRF-Token header', headers: () => ({}), status: 403, code: 'forbidden' },
      { name: 'a wrong token', headers: () => ({ 'X-CSRF-Token': 'not-the-token' }), status: 403, code: 'forbidden' },
      { name: 'an empty token', headers: () => ({ 'X-CSRF-Token': '' }), status: 403, code: 'forbidden' },
      { name: "another session's token", headers: () => ({ 'X-CSRF-Token': other.csrfToken }), status: 403, code: 'forbidden' },
      { name: 'the token login returned', headers: () => ({ 'X-CSRF-Token': s.csrfToken }), status: 201 },
    ];
    for (const c of cases) {
      test(`POST /api/buyer/tasks with the cookie and ${c.name} → ${c.status}`, async () => {
        const res = await hub.api('POST', '/api/buyer/tasks', { cookie: s.cookie, headers: c.headers(), body: newTask });
        if (c.code) {
          assertError(res, c.status, c.code);
        } else {
          assert.equal(res.status, c.status, res.text);
          assert.equal(res.body.ok, true);
          assert.equal(res.body.task.title, 'csrf');
        }
      });
    }

    test('a refused forgery changed nothing', async () => {
      const title = uniq('forged');
      const res = await hub.api('POST', '/api/buyer/tasks', { cookie: s.cookie, body: { title, description: 'x' } });
      assertError(res, 403, 'forbidden');
      const list = await hub.api('GET', '/api/buyer/tasks', { key: buyerKey });
      assert.equal(list.status, 200);
      assert.ok(!list.text.includes(title), 'no task was created');
    });

    test('other state-changing cookie requests are protected too (publish, logout)', async () => {
      const draft = await hub.api('POST', '/api/buyer/tasks', { key: buyerKey, body: { title: 'draft', description: 'd' } });
      assert.equal(draft.status, 201, draft.text);
      const publish = await hub.api('POST', `/api/buyer/tasks/${draft.body.task.id}/publish`, { cookie: s.cookie, body: {} });
      assertError(publish, 403, 'forbidden', 'publish without token');
      const view = await hub.api('GET', `/api/buyer/tasks/${draft.body.task.id}`, { cookie: s.cookie });
      assert.equal(view.status, 200, 'a GET with the cookie needs no token');
      assert.equal(view.body.task.status, 'DRAFT', 'still a draft');
      const logout = await hub.api('POST', '/api/auth/logout', { cookie: s.cookie, body: {} });
      assertError(logout, 403, 'forbidden', 'logout without token');
      const still = await hub.api('GET', '/api/buyer/tasks', { cookie: s.cookie });
      assert.equal(still.status, 200, 'the session survived the forged logout');
    });

    test('Bearer-key requests need no token', async () => {
      const task = await openTask(hub, buyerKey);
      assert.equal(task.status, 'OPEN');
    });
  });
});

describe('first start and revoked keys', () => {
  // The one-time set-up token is what the hub prints on its first start (SPEC §3, §9).
  test('a fresh hub has no admin and one set-up token; it works once, a wrong one never', () => onFreshHub(async (hub) => {
    const token = hub.setup.token;
    assert.equal(typeof token, 'string', 'a fresh install offers a set-up link');
    assert.ok(token!.length >= 16);
    const admin = { name: 'Admin', email: email('admin'), password: PASSWORD };
    const wrong = await hub.api('POST', '/setup', { body: { ...admin, token: 'x'.repeat(token!.length) } });
    assert.equal(wrong.status, 404, wrong.text);
    assert.equal(wrong.body.ok, false);
    const ok = await hub.api('POST', '/setup', { body: { ...admin, token } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.ok, true);
    const again = await hub.api('POST', '/setup', { body: { ...admin, email: email('admin2'), token } });
    assert.equal(again.status, 404, again.text);
    assert.equal(again.body.ok, false);
    const s = await login(hub, admin.email);
    assert.equal(s.res.body.ok, true);
  }));

  test('the set-up link makes one admin even when several requests use it at once', () => onFreshHub(async (hub) => {
    const bodies = [1, 2, 3, 4, 5, 6].map((i) => ({ name: `Admin ${i}`, email: email(`admin${i}`), password: PASSWORD, token: hub.setup.token }));
    const answers = await Promise.all(bodies.map((body) => hub.api('POST', '/setup', { body })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 404, 404, 404, 404, 404]);
    const winner = bodies[answers.findIndex((a) => a.status === 201)];
    const s = await login(hub, winner.email);
    const users = await hub.api('GET', '/api/admin/users', { cookie: s.cookie });
    assert.equal(users.status, 200);
    assert.deepEqual(users.body.users.filter((u: { role: string }) => u.role === 'ADMIN').map((u: { email: string }) => u.email), [winner.email]);
  }));

  test('an admin made with the create-admin command on the same database ends the set-up link', () => onFreshHub(async (hub) => {
    const token = hub.setup.token!;
    assert.equal((await hub.api('GET', `/setup?token=${token}`)).status, 200, 'the link works while no admin exists');
    const made = await runProgram('server.ts', ['create-admin', '--email', email('ops'), '--name', 'Ops'], { VALENCE_DB: hub.cfg.dbPath }, 'a strong password\n');
    assert.equal(made.code, 0, made.stderr);
    assert.equal((await hub.api('GET', `/setup?token=${token}`)).status, 404);
    const late = await hub.api('POST', '/setup', { body: { name: 'Late', email: email('late'), password: PASSWORD, token } });
    assertError(late, 404, 'not_found', 'the link after create-admin');
  }));

  // The set-up page as a browser uses it: an HTML form, HTML answers (SPEC §8 pages; §9 set-up link).
  test('the set-up form answers a browser in HTML: a bad link says so, an error keeps the name and email', () => onFreshHub(async (hub) => {
    const token = hub.setup.token!;
    const form = (fields: Record<string, string>) =>
      hub.api('POST', '/setup', { raw: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const bad = await hub.api('GET', '/setup?token=not-the-token');
    assert.equal(bad.status, 404);
    assert.match(bad.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(bad.text, /This set-up link is not valid/);
    assert.match(bad.text, /<link rel="stylesheet" href="\/static\/style\.css">/, 'the site\'s stylesheet');
    const css = await hub.api('GET', '/static/style.css');
    assert.deepEqual([css.status, css.headers.get('content-type')], [200, 'text/css; charset=utf-8']);
    const fields = { token, name: 'Ada <Root>', email: 'root@example.test', password: 'short' };
    const weak = await form(fields);
    assert.equal(weak.status, 400);
    assert.match(weak.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(weak.text, /role="alert">Check the form: password must be at least 8 characters\.</);
    assert.match(weak.text, /id="name" name="name" required maxlength="100" value="Ada &#60;Root&#62;"/);
    assert.match(weak.text, /id="email" name="email" type="email" required value="root@example.test"/);
    assert.doesNotMatch(weak.text, /value="short"/, 'the password is never written back');
    const made = await form({ ...fields, password: 'long enough' });
    assert.equal(made.status, 201);
    assert.match(made.text, /The admin account exists/);
    const used = await form({ ...fields, password: 'long enough' });
    assert.equal(used.status, 404);
    assert.match(used.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(used.text, /This set-up link is not valid/);
  }));

  test('a key an admin revoked is 401 at once', () => onFreshHub(async (hub) => {
    const s = await firstAdmin(hub);
    const agent = await registerAgent(hub);
    assert.equal((await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey })).status, 200);
    const revoke = await hub.api('POST', `/api/admin/agents/${agent.agentId}/revoke`, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrfToken }, body: {} });
    assert.equal(revoke.status, 200, revoke.text);
    assert.equal(revoke.body.ok, true);
    assertError(await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey }), 401, 'unauthorized', 'revoked key on /me');
    assertError(await hub.api('POST', '/api/agent/v1/offers/x/decision', { key: agent.apiKey, body: { accept: true } }), 401, 'unauthorized', 'revoked key on a decision');
    assertError(await hub.api('POST', '/api/agent/v1/key/rotate', { key: agent.apiKey, body: {} }), 401, 'unauthorized', 'a revoked key cannot rotate itself back');
  }));
  test('the only active admin cannot be disabled (409 last_admin); once there is a second, it can', () => onFreshHub(async (hub) => {
    const s = await firstAdmin(hub);
    const me = s.res.body.user.id as string;
    const csrf = { 'X-CSRF-Token': s.csrfToken };
    const refused = await hub.api('POST', `/api/admin/users/${me}/disable`, { cookie: s.cookie, headers: csrf, body: {} });
    assertError(refused, 409, 'last_admin', 'disabling the only admin');
    assert.equal(refused.body.error.message, 'This is the only active admin of this hub; create another admin before disabling it.');
    const still = await hub.api('GET', '/api/admin/users', { cookie: s.cookie });
    assert.equal(still.status, 200, 'the admin is still signed in and active');
    assert.equal(still.body.users.find((u: { id: string }) => u.id === me).disabled, false);
    const secondEmail = email('admin2');
    const second = await hub.api('POST', '/api/admin/users', { cookie: s.cookie, headers: csrf, body: { role: 'ADMIN', name: 'Second admin', email: secondEmail, password: PASSWORD } });
    assert.equal(second.status, 201, second.text);
    const off = await hub.api('POST', `/api/admin/users/${me}/disable`, { cookie: s.cookie, headers: csrf, body: {} });
    assert.deepEqual([off.status, off.body], [200, { ok: true, userId: me, disabled: true }]);
    const s2 = await login(hub, secondEmail);
    const lastOne = await hub.api('POST', `/api/admin/users/${second.body.userId}/disable`, { cookie: s2.cookie, headers: { 'X-CSRF-Token': s2.csrfToken }, body: {} });
    assertError(lastOne, 409, 'last_admin', 'the second admin, now the only active one');
  }));
  test('a user an admin disabled is signed out everywhere and told so when signing in with the right password', () => onFreshHub(async (hub) => {
    const s = await firstAdmin(hub);
    const worker = await registerWorker(hub);
    const session = await login(hub, worker.email);
    const off = await hub.api('POST', `/api/admin/users/${worker.userId}/disable`, { cookie: s.cookie, headers: { 'X-CSRF-Token': s.csrfToken }, body: {} });
    assert.deepEqual([off.status, off.body], [200, { ok: true, userId: worker.userId, disabled: true }]);
    assertError(await hub.api('GET', '/api/worker/assignments', { cookie: session.cookie }), 401, 'unauthorized', 'the old session is gone');
    const right = await hub.api('POST', '/api/auth/login', { body: { email: worker.email, password: PASSWORD } });
    assertError(right, 403, 'forbidden', 'the right password');
    assert.equal(right.body.error.message, 'This account is disabled. Ask an admin of this hub.');
    assert.equal(right.headers.get('set-cookie'), null, 'no session for a disabled user');
    const wrong = await hub.api('POST', '/api/auth/login', { body: { email: worker.email, password: 'not the password' } });
    assertError(wrong, 401, 'unauthorized', 'a wrong password says nothing about the account');
    assert.equal(wrong.body.error.message, 'Email or password is wrong.');
  }));
});

describe("an agent's category after PATCH", () => {
  // The category an agent sets is the one matching uses and the admin list shows; clearing it ("")
  // means no category, not the one it registered with.
  test('matching and the admin list follow the category set last', () => onFreshHub(async (hub) => {
    const s = await firstAdmin(hub);
    const buyer = await registerBuyer(hub);
    const [first, second] = [uniq('first'), uniq('second')];
    const agent = await registerAgent(hub, { category: first });
    const listed = async () => {
      const res = await hub.api('GET', '/api/admin/users', { cookie: s.cookie });
      assert.equal(res.status, 200, res.text);
      return res.body.users.find((u: { id: string }) => u.id === agent.userId);
    };
    const offeredFor = async (category: string | null) => {
      const task = await openTask(hub, buyer.apiKey, { category });
      return (await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} })).body.offers.some((o: { workerUserId: string }) => o.workerUserId === agent.userId);
    };
    assert.equal((await listed()).category, first);

    const moved = await hub.api('PATCH', '/api/agent/v1/me', { key: agent.apiKey, body: { category: second } });
    assert.deepEqual([moved.status, moved.body.category], [200, second]);
    assert.equal((await listed()).category, second);
    assert.deepEqual([await offeredFor(second), await offeredFor(first)], [true, false]);

    const cleared = await hub.api('PATCH', '/api/agent/v1/me', { key: agent.apiKey, body: { category: '' } });
    assert.deepEqual([cleared.status, cleared.body.category], [200, null]);
    assert.equal((await listed()).category, null);
    assert.deepEqual([await offeredFor(first), await offeredFor(second), await offeredFor(null)], [false, false, true]);
  }));
});

describe('registration policy', () => {
  test('VALENCE_REGISTRATION=closed: every registration route is 403 registration_closed', async () => {
    const hub = await startTestHub({ registration: 'closed' });
    try {
      const routes: [string, unknown][] = [
        ['/api/agents/register', { name: 'a' }],
        ['/api/buyers/register', { name: 'b', email: email('closed'), password: PASSWORD }],
        ['/api/workers/register', { name: 'w', email: email('closed'), password: PASSWORD }],
      ];
      for (const [route, body] of routes) {
        const res = await hub.api('POST', route, { body });
        assertError(res, 403, 'registration_closed', route);
        assert.equal(res.body.apiKey, undefined);
      }
      const health = await hub.api('GET', '/healthz');
      assert.equal(health.status, 200);
    } finally {
      await hub.stop();
    }
  });

  test('VALENCE_REGISTER_LIMIT=2: the third registration from one address is 429 rate_limited with Retry-After', async () => {
    const hub = await startTestHub({ registerLimit: 2 });
    try {
      for (let i = 0; i < 2; i++) {
        const ok = await hub.api('POST', '/api/agents/register', { body: { name: `a${i}` } });
        assert.equal(ok.status, 201, `registration ${i + 1}: ${ok.text}`);
      }
      const third = await hub.api('POST', '/api/agents/register', { body: { name: 'a3' } });
      assertError(third, 429, 'rate_limited');
      assert.equal(third.body.apiKey, undefined);
      const retry = third.headers.get('retry-after');
      assert.ok(retry !== null, 'Retry-After is set');
      assert.match(retry, /^\d+$/, 'Retry-After is whole seconds');
      assert.ok(Number(retry) >= 1 && Number(retry) <= 3600, `Retry-After within the hour (got ${retry})`);
      // The limit counts registrations from the address, whatever is being registered.
      const buyer = await hub.api('POST', '/api/buyers/register', { body: { name: 'b', email: email('limited'), password: PASSWORD } });
      assertError(buyer, 429, 'rate_limited', 'buyer registration past the limit');
      const worker = await hub.api('POST', '/api/workers/register', { body: { name: 'w', email: email('limited'), password: PASSWORD } });
      assertError(worker, 429, 'rate_limited', 'worker registration past the limit');
      // Other routes are not limited.
      const health = await hub.api('GET', '/healthz');
      assert.equal(health.status, 200);
    } finally {
      await hub.stop();
    }
  });

  test('TRUST_PROXY=1: different X-Forwarded-For addresses get separate limits', async () => {
    const hub = await startTestHub({ registerLimit: 2, trustProxy: true });
    try {
      const reg = (ip: string, name: string) => hub.api('POST', '/api/agents/register', { body: { name }, headers: { 'X-Forwarded-For': ip } });
      for (let i = 0; i < 2; i++) assert.equal((await reg('203.0.113.1', `a${i}`)).status, 201);
      assertError(await reg('203.0.113.1', 'a3'), 429, 'rate_limited', 'third from 203.0.113.1');
      for (let i = 0; i < 2; i++) {
        const res = await reg('203.0.113.2', `b${i}`);
        assert.equal(res.status, 201, `registration ${i + 1} from 203.0.113.2: ${res.text}`);
        assert.match(res.body.apiKey, AGENT_KEY);
      }
      assertError(await reg('203.0.113.2', 'b3'), 429, 'rate_limited', 'third from 203.0.113.2');
    } finally {
      await hub.stop();
    }
  });

  test('without TRUST_PROXY, X-Forwarded-For is ignored: all requests share one limit', async () => {
    const hub = await startTestHub({ registerLimit: 2, trustProxy: false });
    try {
      const reg = (ip: string, name: string) => hub.api('POST', '/api/agents/register', { body: { name }, headers: { 'X-Forwarded-For': ip } });
      assert.equal((await reg('203.0.113.1', 'a1')).status, 201);
      assert.equal((await reg('203.0.113.2', 'a2')).status, 201);
      assertError(await reg('203.0.113.3', 'a3'), 429, 'rate_limited', 'a third address, same real client');
    } finally {
      await hub.stop();
    }
  });
});

describe('password guessing', () => {
  test('ten failed sign-ins from one address in 15 minutes, then 429 with Retry-After; another address is not affected', async () => {
    const hub = await startTestHub({ trustProxy: true });
    try {
      const email = `${uniq('guess')}@example.test`;
      await registerBuyer(hub, { email, password: PASSWORD });
      const from = (ip: string, password: string) =>
        hub.api('POST', '/api/auth/login', { body: { email, password }, headers: { 'X-Forwarded-For': ip } });
      // A success does not count against the address.
      assert.equal((await from('192.0.2.1', PASSWORD)).status, 200);
      for (let i = 0; i < 10; i++) assertError(await from('192.0.2.1', `wrong ${i}`), 401, 'unauthorized', `attempt ${i + 1}`);
      const blocked = await from('192.0.2.1', PASSWORD);
      assertError(blocked, 429, 'rate_limited');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0, 'Retry-After in seconds');
      const other = await from('192.0.2.2', PASSWORD);
      assert.equal(other.status, 200);
      assert.equal(other.body.ok, true);
    } finally {
      await hub.stop();
    }
  });
});

describe('blank optional fields', () => {
  test('"" for an optional category or email means none, as forms send it', async () => {
    const hub = await startTestHub();
    try {
      const reg = await hub.api('POST', '/api/agents/register', { body: { name: uniq('blank'), category: '', email: '' } });
      assert.equal(reg.status, 201);
      assert.equal(reg.body.category, null);
      const set = await hub.api('PATCH', '/api/agent/v1/me', { key: reg.body.apiKey, body: { category: 'writing' } });
      assert.deepEqual([set.status, set.body.category], [200, 'writing']);
      const cleared = await hub.api('PATCH', '/api/agent/v1/me', { key: reg.body.apiKey, body: { category: '' } });
      assert.deepEqual([cleared.status, cleared.body.category], [200, null]);
      const buyer = await registerBuyer(hub);
      const task = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title: 'Blank category', description: 'x', category: '' } });
      assert.deepEqual([task.status, task.body.task.category], [201, null]);
      const wrong = await hub.api('POST', '/api/agents/register', { body: { name: uniq('blank'), category: 5 } });
      assertError(wrong, 400, 'invalid_body');
      assert.deepEqual(wrong.body.error.issues, [{ path: 'category', message: 'must be a string' }]);
    } finally {
      await hub.stop();
    }
  });
});
