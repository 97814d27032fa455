// Tasks and matching over HTTP (SPEC §2, §4.3, §5): create, list, view, edit while DRAFT, publish,
// cancel, matching rules, and offer expiry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { match, openTask, registerAgent, registerBuyer, type ApiResponse, type TestHub, startTestHub, uniq, assertError, assertStateRefusal, issuePaths, waitFor } from './helpers.ts';
import { connectAgent } from './ws-client.ts';

describe('tasks', () => {
  let hub: TestHub;
  let buyer: { userId: string; apiKey: string };
  let otherBuyer: { userId: string; apiKey: string };
  before(async () => {
    hub = await startTestHub({ registerLimit: 0 });
    buyer = await registerBuyer(hub);
    otherBuyer = await registerBuyer(hub);
  });
  after(async () => {
    await hub.stop();
  });

  const view = (id: string, key = buyer.apiKey) => hub.api('GET', `/api/buyer/tasks/${id}`, { key });
  const create = (body: Record<string, unknown>, key = buyer.apiKey) => hub.api('POST', '/api/buyer/tasks', { key, body });

  describe('create, view, list', () => {
    test('create without publish → 201 DRAFT with the fields given', async () => {
      const deadline = '2030-01-02T03:04:05.000Z';
      const res = await create({ title: 'Write a haiku', description: 'About SQLite.', category: 'writing', deadline });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
      const t = res.body.task;
      assert.match(t.id, /^[A-Za-z0-9_-]{8,}$/);
      assert.equal(t.status, 'DRAFT');
      assert.equal(t.title, 'Write a haiku');
      assert.equal(t.description, 'About SQLite.');
      assert.equal(t.category, 'writing');
      assert.equal(Date.parse(t.deadline), Date.parse(deadline));
    });

    test('publish: true → 201 OPEN at once', async () => {
      const res = await create({ title: 't', description: 'd', publish: true });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.task.status, 'OPEN');
      assert.equal(res.body.task.category ?? null, null);
    });

    test('view: {ok, task, offers:[], assignment:null, deliverable:null} for a fresh task', async () => {
      const created = await create({ title: 'view me', description: 'd' });
      const res = await view(created.body.task.id);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.task.id, created.body.task.id);
      assert.equal(res.body.task.title, 'view me');
      assert.equal(res.body.task.status, 'DRAFT');
      assert.deepEqual(res.body.offers, []);
      assert.equal(res.body.assignment, null);
      assert.equal(res.body.deliverable, null);
    });

    test("list: the buyer's own tasks only", async () => {
      const mine = await create({ title: uniq('mine'), description: 'd' });
      const theirs = await create({ title: uniq('theirs'), description: 'd' }, otherBuyer.apiKey);
      const res = await hub.api('GET', '/api/buyer/tasks', { key: buyer.apiKey });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.ok(Array.isArray(res.body.tasks), `tasks is a list (${res.text.slice(0, 200)})`);
      const ids = res.body.tasks.map((t: { id: string }) => t.id);
      assert.ok(ids.includes(mine.body.task.id));
      assert.ok(!ids.includes(theirs.body.task.id), "another buyer's task is not listed");
      assert.ok(!res.text.includes(theirs.body.task.title));
    });

    const invalid: { name: string; body: Record<string, unknown>; path: string }[] = [
      { name: 'no title', body: { description: 'd' }, path: 'title' },
      { name: 'empty title', body: { title: '', description: 'd' }, path: 'title' },
      { name: 'no description', body: { title: 't' }, path: 'description' },
      { name: 'title is a number', body: { title: 1, description: 'd' }, path: 'title' },
      { name: 'publish is a string', body: { title: 't', description: 'd', publish: 'yes' }, path: 'publish' },
      { name: 'deadline is not a time', body: { title: 't', description: 'd', deadline: 'tomorrow-ish' }, path: 'deadline' },
      { name: 'offerTtlSeconds 0 (below 1 s)', body: { title: 't', description: 'd', offerTtlSeconds: 0 }, path: 'offerTtlSeconds' },
      { name: 'offerTtlSeconds over 7 days', body: { title: 't', description: 'd', offerTtlSeconds: 7 * 86400 + 1 }, path: 'offerTtlSeconds' },
      { name: 'offerTtlSeconds fractional', body: { title: 't', description: 'd', offerTtlSeconds: 1.5 }, path: 'offerTtlSeconds' },
    ];
    for (const c of invalid) {
      test(`create 400 invalid_body: ${c.name}`, async () => {
        const res = await create(c.body);
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes(c.path), `issues name ${c.path}: ${res.text}`);
      });
    }

    test('offerTtlSeconds of exactly 7 days is accepted', async () => {
      const res = await create({ title: 't', description: 'd', offerTtlSeconds: 7 * 86400 });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ok, true);
    });

    test('without a key or session: 401', async () => {
      assertError(await hub.api('POST', '/api/buyer/tasks', { body: { title: 't', description: 'd' } }), 401, 'unauthorized');
      assertError(await hub.api('GET', '/api/buyer/tasks'), 401, 'unauthorized');
    });
  });

  describe('edit, publish, cancel', () => {
    test('PATCH while DRAFT changes the task', async () => {
      const created = await create({ title: 'old', description: 'old d', category: 'a' });
      const id = created.body.task.id;
      const res = await hub.api('PATCH', `/api/buyer/tasks/${id}`, { key: buyer.apiKey, body: { title: 'new ✓', description: 'new d', category: 'b' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      const v = await view(id);
      assert.equal(v.body.task.title, 'new ✓');
      assert.equal(v.body.task.description, 'new d');
      assert.equal(v.body.task.category, 'b');
      assert.equal(v.body.task.status, 'DRAFT');
    });

    test('PATCH: a deadline left out is kept, null clears it, and so does an empty category', async () => {
      const created = await create({ title: 't', description: 'd', category: 'a', deadline: '2030-01-01T00:00:00.000Z' });
      const id = created.body.task.id;
      const kept = await hub.api('PATCH', `/api/buyer/tasks/${id}`, { key: buyer.apiKey, body: { title: 't2' } });
      assert.deepEqual([kept.status, kept.body.task.deadline, kept.body.task.category], [200, '2030-01-01T00:00:00.000Z', 'a']);
      const cleared = await hub.api('PATCH', `/api/buyer/tasks/${id}`, { key: buyer.apiKey, body: { deadline: null, category: '' } });
      assert.deepEqual([cleared.status, cleared.body.task.deadline, cleared.body.task.category], [200, null, null]);
    });

    test('PATCH with an invalid field: 400 invalid_body, task unchanged', async () => {
      const created = await create({ title: 'keep', description: 'd' });
      const res = await hub.api('PATCH', `/api/buyer/tasks/${created.body.task.id}`, { key: buyer.apiKey, body: { title: 42 } });
      assertError(res, 400, 'invalid_body');
      assert.ok(issuePaths(res).includes('title'));
      assert.equal((await view(created.body.task.id)).body.task.title, 'keep');
    });

    test('PATCH once OPEN is refused and changes nothing', async () => {
      const task = await openTask(hub, buyer.apiKey, { title: 'fixed' });
      const res = await hub.api('PATCH', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey, body: { title: 'changed' } });
      assertStateRefusal(res, 'PATCH an OPEN task');
      assert.equal((await view(task.id)).body.task.title, 'fixed');
    });

    test('publish: DRAFT → OPEN', async () => {
      const created = await create({ title: 't', description: 'd' });
      const id = created.body.task.id;
      const res = await hub.api('POST', `/api/buyer/tasks/${id}/publish`, { key: buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal((await view(id)).body.task.status, 'OPEN');
    });

    test('cancel a DRAFT → CANCELLED; it cannot be published or edited afterwards', async () => {
      const created = await create({ title: 't', description: 'd' });
      const id = created.body.task.id;
      const res = await hub.api('POST', `/api/buyer/tasks/${id}/cancel`, { key: buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal((await view(id)).body.task.status, 'CANCELLED');
      assertStateRefusal(await hub.api('POST', `/api/buyer/tasks/${id}/publish`, { key: buyer.apiKey, body: {} }), 'publish a cancelled task');
      assertStateRefusal(await hub.api('PATCH', `/api/buyer/tasks/${id}`, { key: buyer.apiKey, body: { title: 'x' } }), 'edit a cancelled task');
      assert.equal((await view(id)).body.task.status, 'CANCELLED');
    });

    test('cancel an OPEN task with pending offers → CANCELLED and every offer WITHDRAWN', async () => {
      const category = uniq('cancel');
      const agents = [await registerAgent(hub, { category }), await registerAgent(hub, { category })];
      const task = await openTask(hub, buyer.apiKey, { category });
      const offers = await match(hub, buyer.apiKey, task.id);
      assert.equal(offers.length, 2);
      const res = await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      const v = await view(task.id);
      assert.equal(v.body.task.status, 'CANCELLED');
      assert.deepEqual(v.body.offers.map((o: { status: string }) => o.status), ['WITHDRAWN', 'WITHDRAWN']);
      // Matching a cancelled task makes no new offers.
      assertError(await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} }), 400, 'task_not_open');
      const decision = await hub.api('POST', `/api/agent/v1/offers/${offers[0].offerId}/decision`, {
        key: agents.find((a) => a.userId === offers[0].workerUserId)!.apiKey,
        body: { accept: true },
      });
      assertError(decision, 400, 'task_not_open', 'accepting an offer of a cancelled task');
    });

    test('a COMPLETED task cannot be cancelled', async () => {
      const category = uniq('done');
      const agent = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      const acc = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);
      const sub = await hub.api('POST', `/api/agent/v1/assignments/${acc.body.assignmentId}/submit`, { key: agent.apiKey, body: { contentText: 'done' } });
      assert.equal(sub.status, 200, sub.text);
      const rev = await hub.api('POST', `/api/buyer/assignments/${acc.body.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assert.equal(rev.status, 200, rev.text);
      assert.equal((await view(task.id)).body.task.status, 'COMPLETED');
      assertStateRefusal(await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey, body: {} }), 'cancel COMPLETED');
      assert.equal((await view(task.id)).body.task.status, 'COMPLETED');
    });

    test('cancel an ASSIGNED task → CANCELLED (allowed before COMPLETED)', async () => {
      const category = uniq('assigned');
      const agent = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      const acc = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);
      const res = await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal((await view(task.id)).body.task.status, 'CANCELLED');
    });
  });

  describe("another buyer's task is 404 task_not_found (ids cannot be probed)", () => {
    let id: string;
    before(async () => {
      id = (await openTask(hub, buyer.apiKey, { title: 'private' })).id;
    });
    const cases: { name: string; method: string; path: (id: string) => string; body?: unknown }[] = [
      { name: 'view', method: 'GET', path: (id) => `/api/buyer/tasks/${id}` },
      { name: 'edit', method: 'PATCH', path: (id) => `/api/buyer/tasks/${id}`, body: { title: 'x' } },
      { name: 'publish', method: 'POST', path: (id) => `/api/buyer/tasks/${id}/publish`, body: {} },
      { name: 'cancel', method: 'POST', path: (id) => `/api/buyer/tasks/${id}/cancel`, body: {} },
      { name: 'match', method: 'POST', path: (id) => `/api/buyer/tasks/${id}/match`, body: {} },
    ];
    for (const c of cases) {
      test(`${c.name}: another buyer's task and an unknown id answer alike`, async () => {
        const theirs = await hub.api(c.method, c.path(id), { key: otherBuyer.apiKey, body: c.body });
        assertError(theirs, 404, 'task_not_found', "another buyer's task");
        assert.ok(!theirs.text.includes('private'));
        const unknown = await hub.api(c.method, c.path('no-such-task-id'), { key: buyer.apiKey, body: c.body });
        assertError(unknown, 404, 'task_not_found', 'unknown task');
      });
    }
    test('the task is untouched by those attempts', async () => {
      const v = await view(id);
      assert.equal(v.status, 200);
      assert.equal(v.body.task.status, 'OPEN');
      assert.equal(v.body.task.title, 'private');
      assert.deepEqual(v.body.offers, []);
    });
  });

  describe('matching (SPEC §5)', () => {
    test('offers go to agents of the same category, with the {offerId, workerUserId, delivered} shape', async () => {
      const category = uniq('cat');
      const a1 = await registerAgent(hub, { category });
      const a2 = await registerAgent(hub, { category });
      await registerAgent(hub, { category: uniq('elsewhere') });
      const task = await openTask(hub, buyer.apiKey, { category });
      const res = await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      assert.equal(res.body.offers.length, 2);
      for (const o of res.body.offers) {
        assert.deepEqual(Object.keys(o).sort(), ['delivered', 'offerId', 'workerUserId']);
        assert.match(o.offerId, /^[A-Za-z0-9_-]{8,}$/);
        assert.equal(o.delivered, false, 'nobody is connected');
      }
      assert.deepEqual(res.body.offers.map((o: { workerUserId: string }) => o.workerUserId).sort(), [a1.userId, a2.userId].sort());
    });

    test("the buyer's view lists each offer with its fields; expiry is offerTtlSeconds after creation", async () => {
      const category = uniq('view');
      const agent = await registerAgent(hub, { category, name: 'Viewed Agent' });
      const task = await openTask(hub, buyer.apiKey, { category, offerTtlSeconds: 120 });
      const [made] = await match(hub, buyer.apiKey, task.id);
      const v = await view(task.id);
      assert.equal(v.status, 200);
      assert.equal(v.body.offers.length, 1);
      const o = v.body.offers[0];
      assert.equal(o.id, made.offerId);
      assert.equal(o.workerUserId, agent.userId);
      assert.equal(o.workerName, 'Viewed Agent');
      assert.equal(o.status, 'PENDING');
      assert.equal(o.reason ?? null, null);
      assert.equal(o.decidedAt ?? null, null);
      const ttl = Date.parse(o.expiresAt) - Date.parse(o.createdAt);
      assert.ok(Math.abs(ttl - 120_000) <= 1000, `expiresAt − createdAt ≈ 120 s (got ${ttl} ms)`);
    });

    test('the default offer lifetime is 900 s', async () => {
      const category = uniq('ttl');
      await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      await match(hub, buyer.apiKey, task.id);
      const [o] = (await view(task.id)).body.offers;
      const ttl = Date.parse(o.expiresAt) - Date.parse(o.createdAt);
      assert.ok(Math.abs(ttl - 900_000) <= 1000, `≈ 900 s (got ${ttl} ms)`);
    });

    test('a task without a category matches agents of every category, never the buyer', async () => {
      const agents = [await registerAgent(hub, { category: uniq('x') }), await registerAgent(hub, { category: uniq('y') }), await registerAgent(hub, { category: uniq('z') })];
      const task = await openTask(hub, buyer.apiKey);
      const offers = await match(hub, buyer.apiKey, task.id, 1000);
      const offered = offers.map((o) => o.workerUserId);
      for (const a of agents) assert.ok(offered.includes(a.userId), `agent ${a.name} is offered the task`);
      assert.ok(!offered.includes(buyer.userId), 'the buyer is never matched to its own task');
      assert.ok(!offered.includes(otherBuyer.userId), 'buyers are not workers');
      assert.equal(new Set(offered).size, offered.length, 'one offer per worker');
    });

    test('running it again never duplicates; it offers only workers not yet offered', async () => {
      const category = uniq('again');
      const a1 = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      const first = await match(hub, buyer.apiKey, task.id);
      assert.deepEqual(first.map((o) => o.workerUserId), [a1.userId]);
      const second = await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} });
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(second.body, { ok: true, offers: [] });
      const a2 = await registerAgent(hub, { category });
      const third = await match(hub, buyer.apiKey, task.id);
      assert.deepEqual(third.map((o) => o.workerUserId), [a2.userId]);
      const v = await view(task.id);
      assert.equal(v.body.offers.length, 2);
      assert.deepEqual(v.body.offers.map((o: { workerUserId: string }) => o.workerUserId).sort(), [a1.userId, a2.userId].sort());
    });

    test('limit caps each run; later runs continue with the rest', async () => {
      const category = uniq('limit');
      const agents = [];
      for (let i = 0; i < 5; i++) agents.push(await registerAgent(hub, { category }));
      const task = await openTask(hub, buyer.apiKey, { category });
      const runs = [await match(hub, buyer.apiKey, task.id, 2), await match(hub, buyer.apiKey, task.id, 2), await match(hub, buyer.apiKey, task.id, 2), await match(hub, buyer.apiKey, task.id, 2)];
      assert.deepEqual(runs.map((r) => r.length), [2, 2, 1, 0]);
      const all = runs.flat().map((o) => o.workerUserId).sort();
      assert.deepEqual(all, agents.map((a) => a.userId).sort(), 'each agent exactly once');
    });

    test('the default limit is 10', async () => {
      const category = uniq('ten');
      for (let i = 0; i < 11; i++) await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      assert.equal((await match(hub, buyer.apiKey, task.id)).length, 10);
      assert.equal((await match(hub, buyer.apiKey, task.id)).length, 1);
    });

    const badLimits: { name: string; limit: unknown }[] = [
      { name: '0', limit: 0 },
      { name: '1001', limit: 1001 },
      { name: 'a string', limit: '5' },
      { name: 'a fraction', limit: 2.5 },
      { name: 'negative', limit: -1 },
    ];
    for (const c of badLimits) {
      test(`limit ${c.name}: 400 invalid_body naming limit, and no offers made`, async () => {
        const category = uniq('badlimit');
        await registerAgent(hub, { category });
        const task = await openTask(hub, buyer.apiKey, { category });
        const res = await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: { limit: c.limit } });
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes('limit'), res.text);
        assert.deepEqual((await view(task.id)).body.offers, []);
      });
    }

    test('a DRAFT task: 400 task_not_open', async () => {
      const category = uniq('draft');
      await registerAgent(hub, { category });
      const created = await create({ title: 't', description: 'd', category });
      const res = await hub.api('POST', `/api/buyer/tasks/${created.body.task.id}/match`, { key: buyer.apiKey, body: {} });
      assertError(res, 400, 'task_not_open');
      assert.deepEqual((await view(created.body.task.id)).body.offers, []);
    });

    test('an ASSIGNED task: 400 task_not_open', async () => {
      const category = uniq('taken');
      const a = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      const acc = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: a.apiKey, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);
      await registerAgent(hub, { category });
      assertError(await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} }), 400, 'task_not_open');
    });

    test('maxConcurrent: an agent at its limit is not matched; one under it is', async () => {
      const category = uniq('busy');
      const busy = await registerAgent(hub, { category });
      const patch = await hub.api('PATCH', '/api/agent/v1/me', { key: busy.apiKey, body: { maxConcurrent: 1 } });
      assert.equal(patch.status, 200, patch.text);
      const first = await openTask(hub, buyer.apiKey, { category });
      const [offer] = await match(hub, buyer.apiKey, first.id);
      assert.equal(offer.workerUserId, busy.userId);
      const acc = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: busy.apiKey, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);

      const free = await registerAgent(hub, { category });
      const second = await openTask(hub, buyer.apiKey, { category });
      const offers = await match(hub, buyer.apiKey, second.id);
      assert.deepEqual(offers.map((o) => o.workerUserId), [free.userId], 'only the agent under its limit');

      // Once its assignment is ACCEPTED it no longer counts, and the next run offers it the task.
      const sub = await hub.api('POST', `/api/agent/v1/assignments/${acc.body.assignmentId}/submit`, { key: busy.apiKey, body: { contentText: 'done' } });
      assert.equal(sub.status, 200, sub.text);
      const rev = await hub.api('POST', `/api/buyer/assignments/${acc.body.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assert.equal(rev.status, 200, rev.text);
      const later = await match(hub, buyer.apiKey, second.id);
      assert.deepEqual(later.map((o) => o.workerUserId), [busy.userId]);
    });

    test('the order: connected now first, then fewest open assignments, then least recently offered, then oldest registration', async () => {
      const category = uniq('order');
      const names = ['A', 'B', 'C', 'D'];
      const agents: Record<string, { userId: string; apiKey: string }> = {};
      for (const name of names) {
        const before = Date.now();
        agents[name] = await registerAgent(hub, { category, name: `${category} ${name}` });
        await waitFor('the next millisecond (registrations at distinct times)', () => Date.now() > before || undefined);
      }
      const nameOf = (userId: string) => names.find((n) => agents[n].userId === userId);
      const offered: Record<string, string> = {}; // task → offer id, per agent
      const next = async (limit: number) => {
        const task = await openTask(hub, buyer.apiKey, { category });
        const made = await match(hub, buyer.apiKey, task.id, limit);
        for (const o of made) offered[`${task.id} ${nameOf(o.workerUserId)}`] = o.offerId;
        const before = Date.now();
        await waitFor('the next millisecond (offers at distinct times)', () => Date.now() > before || undefined);
        return { task, names: made.map((o) => nameOf(o.workerUserId)) };
      };
      // Never offered anything: oldest registration first, one at a time.
      const first = [];
      for (let i = 0; i < 4; i++) first.push((await next(1)).names[0]);
      assert.deepEqual(first, ['A', 'B', 'C', 'D']);
      // Each offered once: the least recently offered first.
      const b = await next(1);
      assert.deepEqual(b.names, ['A']);
      // D was offered after C and B, but is connected now.
      const d = await connectAgent(hub.gatewayUrl!, agents.D.apiKey);
      assert.deepEqual((await next(1)).names, ['D']);
      d.close();
      await waitFor('D no longer connected', () => !hub.gateway.notifier.isConnected(agents.D.userId) || undefined);
      // B takes a task (one open assignment): C, the least recently offered of the others, comes before it.
      const mine = Object.entries(offered).find(([k]) => k.endsWith(' B'))!;
      const acc = await hub.api('POST', `/api/agent/v1/offers/${mine[1]}/decision`, { key: agents.B.apiKey, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);
      assert.deepEqual((await next(1)).names, ['C']);
      // All four at once, in the whole order: no open assignment and least recently offered (A, then D,
      // then C), then B with its open assignment.
      assert.deepEqual((await next(4)).names, ['A', 'D', 'C', 'B']);
    });

    test('maxConcurrent 0 means no limit', async () => {
      const category = uniq('unlimited');
      const agent = await registerAgent(hub, { category });
      for (let i = 0; i < 3; i++) {
        const task = await openTask(hub, buyer.apiKey, { category });
        const [offer] = await match(hub, buyer.apiKey, task.id);
        assert.equal(offer?.workerUserId, agent.userId, `task ${i + 1} is offered`);
        const acc = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
        assert.equal(acc.status, 200, acc.text);
      }
    });
  });

  describe('offer expiry', () => {
    test('an offer past its offerTtlSeconds becomes EXPIRED; deciding it is 400 offer_expired', async () => {
      const category = uniq('expire');
      const agent = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category, offerTtlSeconds: 1 });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      const expired = await waitFor('the offer to show EXPIRED', async () => {
        const v = await view(task.id);
        const o = v.body.offers.find((x: { id: string }) => x.id === offer.offerId);
        return o?.status === 'EXPIRED' ? o : undefined;
      });
      assert.ok(Date.now() >= Date.parse(expired.expiresAt), 'not before its expiry');
      for (const accept of [true, false]) {
        const res = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept } });
        assertError(res, 400, 'offer_expired', `accept:${accept}`);
      }
      const v = await view(task.id);
      assert.equal(v.body.task.status, 'OPEN', 'the task stays open');
      assert.equal(v.body.assignment, null);
    });

    test('a PENDING offer past its expiry is refused even before the sweep runs', async () => {
      const slow = await startTestHub({ registerLimit: 0, sweepSeconds: 3600 });
      try {
        const category = uniq('unswept');
        const b = await registerBuyer(slow);
        const agent = await registerAgent(slow, { category });
        const task = await openTask(slow, b.apiKey, { category, offerTtlSeconds: 1 });
        const [offer] = await match(slow, b.apiKey, task.id);
        const first = (await slow.api('GET', `/api/buyer/tasks/${task.id}`, { key: b.apiKey })).body.offers[0];
        await waitFor('the clock to pass the expiry', () => (Date.now() > Date.parse(first.expiresAt) + 50 ? true : undefined));
        const res = await slow.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
        assertError(res, 400, 'offer_expired');
        const v = await slow.api('GET', `/api/buyer/tasks/${task.id}`, { key: b.apiKey });
        assert.equal(v.body.offers[0].status, 'EXPIRED', 'checked on read');
        assert.equal(v.body.assignment, null);
      } finally {
        await slow.stop();
      }
    });

    test('a later match run does not re-offer a worker whose offer expired (one offer per worker per task)', async () => {
      const category = uniq('noredo');
      const agent = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category, offerTtlSeconds: 1 });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      assert.equal(offer.workerUserId, agent.userId);
      await waitFor('the offer to expire', async () => {
        const v = await view(task.id);
        return v.body.offers[0].status === 'EXPIRED' ? true : undefined;
      });
      const again = await hub.api('POST', `/api/buyer/tasks/${task.id}/match`, { key: buyer.apiKey, body: {} });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.body, { ok: true, offers: [] }, 'UNIQUE(taskId, workerUserId): one offer per worker per task');
    });
  });
});
