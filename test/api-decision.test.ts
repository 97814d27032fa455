// The decision (SPEC §4.2) as a table of cases, then submit, start, review, the assignment lists,
// the human worker's routes, and first-confirm-wins under real concurrent HTTP connections.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { match, openTask, registerAgent, registerBuyer, type ApiResponse, type TestHub, startTestHub, tempDir, uniq, PASSWORD, assertError, assertStateRefusal, issuePaths, waitFor } from './helpers.ts';
import { openDatabase } from '../lib/storage/index.ts';
import { createDomain } from '../lib/domain/index.ts';
import { nobody } from '../lib/domain/context.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { createMetrics } from '../lib/http/metrics.ts';
import { toAppError } from '../lib/errors.ts';
import { connectAgent } from './ws-client.ts';

type Agent = Awaited<ReturnType<typeof registerAgent>>;

/** POST over its own TCP connection (agent: false), so many of these are really concurrent. */
// deno-lint-ignore no-explicit-any
function postOwnConnection(base: string, path: string, key: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: u.hostname, port: Number(u.port), path, method: 'POST', agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(new TextEncoder().encode(data).length), Authorization: `Bearer ${key}`, Connection: 'close' },
      },
      (res) => {
        const chunks: Uint8Array[] = [];
        res.on('data', (c: Uint8Array) => chunks.push(c));
        res.on('end', () => {
          const text = new TextDecoder().decode(concat(chunks));
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

describe('decision, submit, review', () => {
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

  const view = (taskId: string) => hub.api('GET', `/api/buyer/tasks/${taskId}`, { key: buyer.apiKey });
  const decide = (key: string, offerId: string, body: unknown) => hub.api('POST', `/api/agent/v1/offers/${offerId}/decision`, { key, body });
  const submit = (key: string, id: string, body: unknown) => hub.api('POST', `/api/agent/v1/assignments/${id}/submit`, { key, body });

  /** n agents in a fresh category, an OPEN task in it, and one offer for each agent (offers[i] belongs to agents[i]). */
  async function scene(n: number, taskFields: Record<string, unknown> = {}) {
    const category = uniq('scene');
    const agents: Agent[] = [];
    for (let i = 0; i < n; i++) agents.push(await registerAgent(hub, { category }));
    const task = await openTask(hub, buyer.apiKey, { category, ...taskFields });
    const made = await match(hub, buyer.apiKey, task.id, 1000);
    assert.equal(made.length, n, 'every agent of the scene got an offer');
    const offers = agents.map((a) => made.find((o) => o.workerUserId === a.userId)!.offerId);
    return { category, agents, task, offers };
  }

  /** Accepts and submits: an assignment in SUBMITTED. */
  async function submitted(text = 'first version') {
    const s = await scene(1);
    const acc = await decide(s.agents[0].apiKey, s.offers[0], { accept: true });
    assert.equal(acc.status, 200, acc.text);
    const sub = await submit(s.agents[0].apiKey, acc.body.assignmentId, { contentText: text });
    assert.equal(sub.status, 200, sub.text);
    return { ...s, agent: s.agents[0], assignmentId: acc.body.assignmentId as string };
  }

  describe('SPEC §4.2 step by step', () => {
    type Step =
      | { by: number; offerOf: number | 'unknown'; body: Record<string, unknown>; status: number; code?: string; sameAs?: number; expect?: Record<string, unknown> }
      | { action: 'cancel' | 'expire' };
    interface Case { name: string; agents: number; ttl?: number; steps: Step[]; offers?: string[]; taskStatus?: string }
    const A = { accept: true };
    const D = { accept: false };
    const cases: Case[] = [
      { name: '1. unknown offer → 404 offer_not_found', agents: 1, steps: [{ by: 0, offerOf: 'unknown', body: A, status: 404, code: 'offer_not_found' }], offers: ['PENDING'] },
      {
        name: "2. another worker's offer → 403 forbidden (accept or decline), offer untouched", agents: 2,
        steps: [{ by: 1, offerOf: 0, body: A, status: 403, code: 'forbidden' }, { by: 1, offerOf: 0, body: D, status: 403, code: 'forbidden' }],
        offers: ['PENDING', 'PENDING'], taskStatus: 'OPEN',
      },
      {
        name: '3. accept repeated by its owner → 200, same body', agents: 2,
        steps: [{ by: 0, offerOf: 0, body: A, status: 200, expect: { ok: true, accept: true } }, { by: 0, offerOf: 0, body: A, status: 200, sameAs: 0 }],
        offers: ['ACCEPTED', 'WITHDRAWN'], taskStatus: 'ASSIGNED',
      },
      {
        name: '3. decline repeated by its owner → 200, same body', agents: 1,
        steps: [{ by: 0, offerOf: 0, body: { accept: false, reason: 'busy' }, status: 200, expect: { ok: true, accept: false } }, { by: 0, offerOf: 0, body: { accept: false, reason: 'busy' }, status: 200, sameAs: 0 }],
        offers: ['DECLINED'], taskStatus: 'OPEN',
      },
      {
        name: '3 before 6. a repeated accept after the task was cancelled still answers as the first time', agents: 1,
        steps: [{ by: 0, offerOf: 0, body: A, status: 200 }, { action: 'cancel' }, { by: 0, offerOf: 0, body: A, status: 200, sameAs: 0 }],
      },
      {
        name: '4. expired offer → 400 offer_expired (accept and decline)', agents: 2, ttl: 1,
        steps: [{ action: 'expire' }, { by: 0, offerOf: 0, body: A, status: 400, code: 'offer_expired' }, { by: 0, offerOf: 0, body: D, status: 400, code: 'offer_expired' }],
        offers: ['EXPIRED', 'EXPIRED'], taskStatus: 'OPEN',
      },
      {
        name: '2 before 4. an expired offer of another worker → 403 forbidden', agents: 2, ttl: 1,
        steps: [{ action: 'expire' }, { by: 1, offerOf: 0, body: A, status: 403, code: 'forbidden' }],
      },
      {
        name: '5. accept after another worker won (offer WITHDRAWN) → 409 task_already_assigned, every time', agents: 3,
        steps: [
          { by: 0, offerOf: 0, body: A, status: 200 },
          { by: 1, offerOf: 1, body: A, status: 409, code: 'task_already_assigned' },
          { by: 2, offerOf: 2, body: A, status: 409, code: 'task_already_assigned' },
          { by: 1, offerOf: 1, body: A, status: 409, code: 'task_already_assigned' },
        ],
        offers: ['ACCEPTED', 'WITHDRAWN', 'WITHDRAWN'], taskStatus: 'ASSIGNED',
      },
      {
        name: '5 before 6. accept of a withdrawn offer after the winner\'s task was cancelled → 409 task_already_assigned', agents: 2,
        steps: [{ by: 0, offerOf: 0, body: A, status: 200 }, { action: 'cancel' }, { by: 1, offerOf: 1, body: A, status: 409, code: 'task_already_assigned' }],
      },
      {
        name: '6. accept on a cancelled task → 400 task_not_open', agents: 2,
        steps: [{ action: 'cancel' }, { by: 0, offerOf: 0, body: A, status: 400, code: 'task_not_open' }],
        offers: ['WITHDRAWN', 'WITHDRAWN'], taskStatus: 'CANCELLED',
      },
      {
        name: '6. decline on a cancelled task → 400 task_not_open (a decline never gets 409)', agents: 1,
        steps: [{ action: 'cancel' }, { by: 0, offerOf: 0, body: D, status: 400, code: 'task_not_open' }],
        offers: ['WITHDRAWN'], taskStatus: 'CANCELLED',
      },
      {
        name: "6. decline of an offer withdrawn because someone else won → 400 offer_not_pending", agents: 2,
        steps: [{ by: 0, offerOf: 0, body: A, status: 200 }, { by: 1, offerOf: 1, body: D, status: 400, code: 'offer_not_pending' }],
        offers: ['ACCEPTED', 'WITHDRAWN'], taskStatus: 'ASSIGNED',
      },
      {
        name: '6. decline after your own accept → 400 offer_not_pending, the assignment stays', agents: 1,
        steps: [{ by: 0, offerOf: 0, body: A, status: 200 }, { by: 0, offerOf: 0, body: D, status: 400, code: 'offer_not_pending' }],
        offers: ['ACCEPTED'], taskStatus: 'ASSIGNED',
      },
      {
        name: '6. accept after your own decline → 400 offer_not_pending', agents: 1,
        steps: [{ by: 0, offerOf: 0, body: D, status: 200 }, { by: 0, offerOf: 0, body: A, status: 400, code: 'offer_not_pending' }],
        offers: ['DECLINED'], taskStatus: 'OPEN',
      },
      {
        name: '6, not 5. accept after your own decline, once another worker won → 400 offer_not_pending', agents: 2,
        steps: [
          { by: 0, offerOf: 0, body: D, status: 200 },
          { by: 1, offerOf: 1, body: A, status: 200 },
          { by: 0, offerOf: 0, body: A, status: 400, code: 'offer_not_pending' },
        ],
        offers: ['DECLINED', 'ACCEPTED'], taskStatus: 'ASSIGNED',
      },
      {
        name: "8/9. a decline leaves the others free: the next agent's accept wins", agents: 2,
        steps: [{ by: 0, offerOf: 0, body: D, status: 200, expect: { ok: true, accept: false } }, { by: 1, offerOf: 1, body: A, status: 200 }],
        offers: ['DECLINED', 'ACCEPTED'], taskStatus: 'ASSIGNED',
      },
      {
        name: '9. accept → assignment, offer ACCEPTED, task ASSIGNED, other PENDING offers WITHDRAWN', agents: 4,
        steps: [{ by: 2, offerOf: 2, body: A, status: 200, expect: { ok: true, accept: true } }],
        offers: ['WITHDRAWN', 'WITHDRAWN', 'ACCEPTED', 'WITHDRAWN'], taskStatus: 'ASSIGNED',
      },
    ];

    for (const c of cases) {
      test(c.name, async () => {
        const s = await scene(c.agents, c.ttl ? { offerTtlSeconds: c.ttl } : {});
        const answers: ApiResponse[] = [];
        for (const [i, step] of c.steps.entries()) {
          if ('action' in step) {
            if (step.action === 'cancel') {
              const res = await hub.api('POST', `/api/buyer/tasks/${s.task.id}/cancel`, { key: buyer.apiKey, body: {} });
              assert.equal(res.status, 200, `cancel: ${res.text}`);
            } else {
              await waitFor('every offer to expire', async () => {
                const v = await view(s.task.id);
                return v.body.offers.every((o: { status: string }) => o.status === 'EXPIRED') ? true : undefined;
              });
            }
            answers.push(undefined as unknown as ApiResponse);
            continue;
          }
          const offerId = step.offerOf === 'unknown' ? 'no-such-offer' : s.offers[step.offerOf];
          const res = await decide(s.agents[step.by].apiKey, offerId, step.body);
          answers.push(res);
          const label = `step ${i + 1}`;
          if (step.code) {
            assertError(res, step.status, step.code, label);
          } else {
            assert.equal(res.status, step.status, `${label}: ${res.text}`);
            assert.equal(res.body.ok, true, label);
            assert.equal(res.body.accept, step.body.accept, label);
            if (step.body.accept) assert.match(res.body.assignmentId, /^[A-Za-z0-9_-]{8,}$/, `${label}: assignmentId`);
            else assert.deepEqual(res.body, { ok: true, accept: false }, label);
          }
          if (step.expect) for (const [k, v] of Object.entries(step.expect)) assert.equal(res.body[k], v, `${label}: ${k}`);
          if (step.sameAs !== undefined) assert.deepEqual(res.body, answers[step.sameAs].body, `${label}: same body as step ${step.sameAs + 1}`);
        }
        const v = await view(s.task.id);
        assert.equal(v.status, 200);
        if (c.offers) {
          const byId = new Map(v.body.offers.map((o: { id: string; status: string }) => [o.id, o.status]));
          assert.deepEqual(s.offers.map((id) => byId.get(id)), c.offers, 'offer states afterwards');
        }
        if (c.taskStatus) assert.equal(v.body.task.status, c.taskStatus, 'task state afterwards');
        // At most one assignment, and if any, it is the one the accepting step returned.
        const won = answers.find((a) => a?.status === 200 && a.body.accept === true);
        if (won) assert.equal(v.body.assignment?.id, won.body.assignmentId, 'the assignment is the winner\'s');
        else assert.equal(v.body.assignment, null, 'no assignment');
      });
    }

    test('7. an agent at its maxConcurrent → 403 not_eligible; the offer stays PENDING', async () => {
      const category = uniq('limit');
      const agent = await registerAgent(hub, { category });
      const patch = await hub.api('PATCH', '/api/agent/v1/me', { key: agent.apiKey, body: { maxConcurrent: 1 } });
      assert.equal(patch.status, 200, patch.text);
      const t1 = await openTask(hub, buyer.apiKey, { category });
      const t2 = await openTask(hub, buyer.apiKey, { category });
      const [o1] = await match(hub, buyer.apiKey, t1.id);
      const [o2] = await match(hub, buyer.apiKey, t2.id);
      const first = await decide(agent.apiKey, o1.offerId, { accept: true });
      assert.equal(first.status, 200, first.text);
      const second = await decide(agent.apiKey, o2.offerId, { accept: true });
      assertError(second, 403, 'not_eligible');
      const v = await view(t2.id);
      assert.equal(v.body.offers[0].status, 'PENDING');
      assert.equal(v.body.task.status, 'OPEN');
      assert.equal(v.body.assignment, null);
      // A decline is still possible at the limit.
      const decline = await decide(agent.apiKey, o2.offerId, { accept: false, reason: 'full' });
      assert.equal(decline.status, 200, decline.text);
      assert.deepEqual(decline.body, { ok: true, accept: false });
    });

    test('7. once the first assignment is ACCEPTED, the agent is eligible again', async () => {
      const category = uniq('free-again');
      const agent = await registerAgent(hub, { category });
      await hub.api('PATCH', '/api/agent/v1/me', { key: agent.apiKey, body: { maxConcurrent: 1 } });
      const t1 = await openTask(hub, buyer.apiKey, { category });
      const t2 = await openTask(hub, buyer.apiKey, { category });
      const [o1] = await match(hub, buyer.apiKey, t1.id);
      const [o2] = await match(hub, buyer.apiKey, t2.id);
      const a1 = await decide(agent.apiKey, o1.offerId, { accept: true });
      assertError(await decide(agent.apiKey, o2.offerId, { accept: true }), 403, 'not_eligible');
      assert.equal((await submit(agent.apiKey, a1.body.assignmentId, { contentText: 'x' })).status, 200);
      const rev = await hub.api('POST', `/api/buyer/assignments/${a1.body.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assert.equal(rev.status, 200, rev.text);
      const a2 = await decide(agent.apiKey, o2.offerId, { accept: true });
      assert.equal(a2.status, 200, a2.text);
      assert.equal(a2.body.accept, true);
    });

    test('8. the decline reason is stored and shown in the buyer\'s task view', async () => {
      const s = await scene(1);
      const before = Date.now();
      const res = await decide(s.agents[0].apiKey, s.offers[0], { accept: false, reason: 'Capacity' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true, accept: false });
      const [o] = (await view(s.task.id)).body.offers;
      assert.equal(o.status, 'DECLINED');
      assert.equal(o.reason, 'Capacity');
      assert.ok(Date.parse(o.decidedAt) >= before - 2000, 'decidedAt is set');
    });

    const badBodies: { name: string; body: unknown; path: string }[] = [
      { name: 'accept missing', body: { reason: 'x' }, path: 'accept' },
      { name: 'accept as a string', body: { accept: 'true' }, path: 'accept' },
      { name: 'accept as a number', body: { accept: 1 }, path: 'accept' },
      { name: 'accept null', body: { accept: null }, path: 'accept' },
      { name: 'reason of 2001 characters', body: { accept: false, reason: 'r'.repeat(2001) }, path: 'reason' },
      { name: 'reason as a number', body: { accept: false, reason: 5 }, path: 'reason' },
    ];
    for (const c of badBodies) {
      test(`400 invalid_body naming the field: ${c.name}; the offer stays PENDING`, async () => {
        const s = await scene(1);
        const res = await decide(s.agents[0].apiKey, s.offers[0], c.body);
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes(c.path), res.text);
        assert.equal((await view(s.task.id)).body.offers[0].status, 'PENDING');
      });
    }

    test('a reason of exactly 2000 characters is kept whole', async () => {
      const s = await scene(1);
      const reason = 'ü'.repeat(2000);
      const res = await decide(s.agents[0].apiKey, s.offers[0], { accept: false, reason });
      assert.equal(res.status, 200, res.text);
      assert.equal((await view(s.task.id)).body.offers[0].reason, reason);
    });
  });

  describe('submit and start', () => {
    test('submit from ASSIGNED → {ok, assignmentId, status:"SUBMITTED", revision:1}', async () => {
      const s = await scene(1);
      const acc = await decide(s.agents[0].apiKey, s.offers[0], { accept: true });
      const res = await submit(s.agents[0].apiKey, acc.body.assignmentId, { contentText: 'Deliverable: summary and link https://example.test/x' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true, assignmentId: acc.body.assignmentId, status: 'SUBMITTED', revision: 1 });
      const v = await view(s.task.id);
      assert.equal(v.body.assignment.status, 'SUBMITTED');
      assert.equal(v.body.deliverable.contentText, 'Deliverable: summary and link https://example.test/x');
      assert.equal(v.body.deliverable.revision, 1);
    });

    test('start: ASSIGNED → IN_PROGRESS; submit from IN_PROGRESS works', async () => {
      const s = await scene(1);
      const key = s.agents[0].apiKey;
      const acc = await decide(key, s.offers[0], { accept: true });
      const res = await hub.api('POST', `/api/agent/v1/assignments/${acc.body.assignmentId}/start`, { key, body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.ok, true);
      const list = await hub.api('GET', '/api/agent/v1/assignments', { key });
      assert.equal(list.body.assignments[0].status, 'IN_PROGRESS');
      assert.equal((await view(s.task.id)).body.assignment.status, 'IN_PROGRESS');
      const sub = await submit(key, acc.body.assignmentId, { contentText: 'done' });
      assert.equal(sub.status, 200, sub.text);
      assert.equal(sub.body.status, 'SUBMITTED');
    });

    test('start once SUBMITTED is refused', async () => {
      const s = await submitted();
      const res = await hub.api('POST', `/api/agent/v1/assignments/${s.assignmentId}/start`, { key: s.agent.apiKey, body: {} });
      assertStateRefusal(res, 'start a SUBMITTED assignment');
      assert.equal((await view(s.task.id)).body.assignment.status, 'SUBMITTED');
    });

    test('start and submit: unknown id 404 assignment_not_found, another agent 403 forbidden', async () => {
      const s = await submitted();
      const stranger = await registerAgent(hub, { category: uniq('stranger') });
      for (const action of ['start', 'submit']) {
        const body = action === 'submit' ? { contentText: 'mine now' } : {};
        assertError(await hub.api('POST', `/api/agent/v1/assignments/no-such-assignment/${action}`, { key: s.agent.apiKey, body }), 404, 'assignment_not_found', `${action} unknown`);
        assertError(await hub.api('POST', `/api/agent/v1/assignments/${s.assignmentId}/${action}`, { key: stranger.apiKey, body }), 403, 'forbidden', `${action} of another agent`);
      }
      assert.equal((await view(s.task.id)).body.deliverable.contentText, 'first version', 'the stranger changed nothing');
    });

    test('submit twice → 400 not_submittable (SUBMITTED)', async () => {
      const s = await submitted();
      const res = await submit(s.agent.apiKey, s.assignmentId, { contentText: 'again' });
      assertError(res, 400, 'not_submittable');
      const v = await view(s.task.id);
      assert.equal(v.body.deliverable.contentText, 'first version');
      assert.equal(v.body.deliverable.revision, 1);
    });

    test('403 comes before the state check: a stranger submitting to a SUBMITTED assignment gets forbidden', async () => {
      const s = await submitted();
      const stranger = await registerAgent(hub, { category: uniq('stranger') });
      assertError(await submit(stranger.apiKey, s.assignmentId, { contentText: 'x' }), 403, 'forbidden');
    });

    const badSubmits: { name: string; body: unknown }[] = [
      { name: 'empty contentText', body: { contentText: '' } },
      { name: 'contentText missing', body: {} },
      { name: 'contentText a number', body: { contentText: 5 } },
      { name: 'contentText an object', body: { contentText: { text: 'x' } } },
    ];
    for (const c of badSubmits) {
      test(`submit 400 invalid_body: ${c.name}`, async () => {
        const s = await scene(1);
        const acc = await decide(s.agents[0].apiKey, s.offers[0], { accept: true });
        const res = await submit(s.agents[0].apiKey, acc.body.assignmentId, c.body);
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes('contentText'), res.text);
        assert.equal((await view(s.task.id)).body.assignment.status, 'ASSIGNED');
      });
    }
  });

  describe('review', () => {
    test('accept → {ok, status:"ACCEPTED"}, task COMPLETED; submitting again → 400 not_submittable', async () => {
      const s = await submitted();
      const res = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { ok: true, status: 'ACCEPTED' });
      const v = await view(s.task.id);
      assert.equal(v.body.task.status, 'COMPLETED');
      assert.equal(v.body.assignment.status, 'ACCEPTED');
      assertError(await submit(s.agent.apiKey, s.assignmentId, { contentText: 'more' }), 400, 'not_submittable', 'submit after ACCEPTED');
      assertStateRefusal(await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'reject' } }), 'review after ACCEPTED');
      assert.equal((await view(s.task.id)).body.task.status, 'COMPLETED');
    });

    test('reject → REJECTED with feedback; resubmit → revision 2; history and feedback kept', async () => {
      const s = await submitted('version one');
      const rej = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'reject', feedback: 'Please add sources.' } });
      assert.equal(rej.status, 200, rej.text);
      assert.deepEqual(rej.body, { ok: true, status: 'REJECTED' });

      const mine = await hub.api('GET', '/api/agent/v1/assignments', { key: s.agent.apiKey });
      const a = mine.body.assignments.find((x: { id: string }) => x.id === s.assignmentId);
      assert.equal(a.status, 'REJECTED');
      assert.equal(a.feedback, 'Please add sources.');
      assert.equal(a.deliverable.contentText, 'version one');
      assert.equal((await view(s.task.id)).body.task.status, 'ASSIGNED', 'a rejection keeps the task with its worker');

      const re = await submit(s.agent.apiKey, s.assignmentId, { contentText: 'version two' });
      assert.equal(re.status, 200, re.text);
      assert.deepEqual(re.body, { ok: true, assignmentId: s.assignmentId, status: 'SUBMITTED', revision: 2 });

      const v = await view(s.task.id);
      assert.equal(v.body.assignment.status, 'SUBMITTED');
      const d = v.body.deliverable;
      assert.equal(d.contentText, 'version two');
      assert.equal(d.revision, 2);
      assert.equal(typeof d.id, 'string');
      assert.ok(Array.isArray(d.history), 'history is a list');
      const byRevision = new Map(d.history.map((h: { revision: number }) => [h.revision, h]));
      const h1 = byRevision.get(1) as { contentText: string; feedback: string | null; submittedAt: string };
      assert.ok(h1, `revision 1 is in the history (${JSON.stringify(d.history)})`);
      assert.equal(h1.contentText, 'version one');
      assert.equal(h1.feedback, 'Please add sources.');
      assert.ok(!Number.isNaN(Date.parse(h1.submittedAt)));
      const h2 = byRevision.get(2) as { contentText: string; feedback: string | null };
      assert.ok(h2, 'every submission is kept, the current one too');
      assert.equal(h2.contentText, 'version two');
      assert.equal(h2.feedback ?? null, null);

      const done = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assert.deepEqual(done.body, { ok: true, status: 'ACCEPTED' });
      const finished = await view(s.task.id);
      assert.equal(finished.body.task.status, 'COMPLETED');
      // feedback is the buyer's last rejection note (SPEC §4.1): the accept keeps it.
      assert.deepEqual([finished.body.assignment.status, finished.body.assignment.feedback], ['ACCEPTED', 'Please add sources.']);
      const theirs = (await hub.api('GET', '/api/agent/v1/assignments', { key: s.agent.apiKey })).body.assignments.find((x: { id: string }) => x.id === s.assignmentId);
      assert.deepEqual([theirs.status, theirs.feedback], ['ACCEPTED', 'Please add sources.']);
    });

    test('review before anything was submitted is refused', async () => {
      const s = await scene(1);
      const acc = await decide(s.agents[0].apiKey, s.offers[0], { accept: true });
      const res = await hub.api('POST', `/api/buyer/assignments/${acc.body.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
      assertStateRefusal(res, 'review an ASSIGNED assignment');
      assert.equal((await view(s.task.id)).body.task.status, 'ASSIGNED');
    });

    const badReviews: { name: string; body: unknown }[] = [
      { name: 'decision missing', body: {} },
      { name: 'decision "maybe"', body: { decision: 'maybe' } },
      { name: 'decision true', body: { decision: true } },
    ];
    for (const c of badReviews) {
      test(`review 400 invalid_body: ${c.name}`, async () => {
        const s = await submitted();
        const res = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: buyer.apiKey, body: c.body });
        assertError(res, 400, 'invalid_body');
        assert.ok(issuePaths(res).includes('decision'), res.text);
        assert.equal((await view(s.task.id)).body.assignment.status, 'SUBMITTED');
      });
    }

    test("review of an unknown assignment is 404; another buyer's is refused", async () => {
      const s = await submitted();
      assertError(await hub.api('POST', '/api/buyer/assignments/no-such-assignment/review', { key: buyer.apiKey, body: { decision: 'accept' } }), 404, 'assignment_not_found');
      const res = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: otherBuyer.apiKey, body: { decision: 'accept' } });
      assert.ok(res.status === 403 || res.status === 404, `403 or 404 (got ${res.status} ${res.text})`);
      assert.equal(res.body.ok, false);
      assert.equal(res.body.error.code, res.status === 403 ? 'forbidden' : 'assignment_not_found');
      assert.equal((await view(s.task.id)).body.assignment.status, 'SUBMITTED');
    });

    test('an agent key cannot review', async () => {
      const s = await submitted();
      const res = await hub.api('POST', `/api/buyer/assignments/${s.assignmentId}/review`, { key: s.agent.apiKey, body: { decision: 'accept' } });
      assert.ok(res.status === 401 || res.status === 403, `401 or 403 (got ${res.status})`);
      assert.equal(res.body.ok, false);
      assert.equal((await view(s.task.id)).body.assignment.status, 'SUBMITTED');
    });
  });

  describe('assignment lists (SPEC §4.1 shape)', () => {
    test('GET /api/worker/assignments and /api/agent/v1/assignments: the same list, newest first, full shape', async () => {
      const category = uniq('lists');
      const agent = await registerAgent(hub, { category });
      const deadline = '2031-05-06T07:08:09.000Z';
      const t1 = await openTask(hub, buyer.apiKey, { category, title: 'older', description: 'first one', deadline });
      const [o1] = await match(hub, buyer.apiKey, t1.id);
      const a1 = await decide(agent.apiKey, o1.offerId, { accept: true });
      assert.equal((await submit(agent.apiKey, a1.body.assignmentId, { contentText: 'older work' })).status, 200);
      const t0 = Date.now();
      await waitFor('the clock to move on', () => (Date.now() > t0 + 2 ? true : undefined));
      const t2 = await openTask(hub, buyer.apiKey, { category, title: 'newer', description: 'second one' });
      const [o2] = await match(hub, buyer.apiKey, t2.id);
      const a2 = await decide(agent.apiKey, o2.offerId, { accept: true });

      const viaWorker = await hub.api('GET', '/api/worker/assignments', { key: agent.apiKey });
      const viaAgent = await hub.api('GET', '/api/agent/v1/assignments', { key: agent.apiKey });
      for (const [label, res] of [['worker route', viaWorker], ['agent route', viaAgent]] as const) {
        assert.equal(res.status, 200, `${label}: ${res.text}`);
        assert.equal(res.body.ok, true);
        assert.deepEqual(res.body.assignments.map((a: { id: string }) => a.id), [a2.body.assignmentId, a1.body.assignmentId], `${label}: newest first`);
        const [newer, older] = res.body.assignments;
        assert.deepEqual(
          { ...older, createdAt: undefined, updatedAt: undefined, deliverable: { ...older.deliverable, submittedAt: undefined } },
          {
            id: a1.body.assignmentId, status: 'SUBMITTED', taskId: t1.id, offerId: o1.offerId, workerUserId: agent.userId,
            createdAt: undefined, updatedAt: undefined,
            task: { id: t1.id, title: 'older', description: 'first one', category, deadline: older.task.deadline },
            deliverable: { contentText: 'older work', submittedAt: undefined, revision: 1 },
            feedback: null,
          },
          `${label}: the submitted assignment`,
        );
        assert.equal(Date.parse(older.task.deadline), Date.parse(deadline));
        for (const t of [older.createdAt, older.updatedAt, older.deliverable.submittedAt]) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        assert.equal(newer.status, 'ASSIGNED');
        assert.equal(newer.deliverable, null);
        assert.equal(newer.feedback, null);
        assert.deepEqual(newer.task, { id: t2.id, title: 'newer', description: 'second one', category, deadline: null });
      }
      assert.deepEqual(viaWorker.body, viaAgent.body);
    });

    test('?include=taskStatus adds the task status to each assignment; without it the list is SPEC §4.1\'s shape', async () => {
      const category = uniq('withstatus');
      const agent = await registerAgent(hub, { category });
      const task = await openTask(hub, buyer.apiKey, { category });
      const [offer] = await match(hub, buyer.apiKey, task.id);
      const acc = await decide(agent.apiKey, offer.offerId, { accept: true });
      assert.equal(acc.status, 200, acc.text);
      const plain = await hub.api('GET', '/api/worker/assignments', { key: agent.apiKey });
      assert.equal(plain.status, 200);
      assert.deepEqual(Object.keys(plain.body.assignments[0]).sort(), ['createdAt', 'deliverable', 'feedback', 'id', 'offerId', 'status', 'task', 'taskId', 'updatedAt', 'workerUserId']);
      const agentPlain = await hub.api('GET', '/api/agent/v1/assignments', { key: agent.apiKey });
      assert.deepEqual(Object.keys(agentPlain.body.assignments[0]).sort(), Object.keys(plain.body.assignments[0]).sort());
      // Both lists, the worker's and the agent's own (an agent that only polls learns of a cancellation this way).
      const withStatus = async (route: string) => {
        const res = await hub.api('GET', `${route}?include=taskStatus`, { key: agent.apiKey });
        assert.equal(res.status, 200);
        const a = res.body.assignments[0];
        assert.equal(a.id, acc.body.assignmentId);
        return [a.status, a.taskStatus];
      };
      const routes = ['/api/worker/assignments', '/api/agent/v1/assignments'];
      for (const r of routes) assert.deepEqual(await withStatus(r), ['ASSIGNED', 'ASSIGNED'], r);
      assert.equal((await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey, body: {} })).status, 200);
      for (const r of routes) assert.deepEqual(await withStatus(r), ['ASSIGNED', 'CANCELLED'], r);
      const one = await hub.api('GET', `/api/agent/v1/assignments/${acc.body.assignmentId}?include=taskStatus`, { key: agent.apiKey });
      assert.deepEqual([one.status, one.body.assignment.status, one.body.assignment.taskStatus], [200, 'ASSIGNED', 'CANCELLED']);
      const onePlain = await hub.api('GET', `/api/agent/v1/assignments/${acc.body.assignmentId}`, { key: agent.apiKey });
      assert.equal(onePlain.body.assignment.taskStatus, undefined, 'only when asked for');
    });

    test("an agent sees only its own assignments", async () => {
      const s = await submitted();
      const other = await registerAgent(hub, { category: uniq('other') });
      const res = await hub.api('GET', '/api/agent/v1/assignments', { key: other.apiKey });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ok: true, assignments: [] });
      const mine = await hub.api('GET', '/api/agent/v1/assignments', { key: s.agent.apiKey });
      assert.deepEqual(mine.body.assignments.map((a: { id: string }) => a.id), [s.assignmentId]);
    });
  });

  describe('polling for offers: GET /api/agent/v1/offers?status=PENDING', () => {
    const idOf = (o: { id?: string; offerId?: string }) => o.offerId ?? o.id;

    test('lists the pending offer; after a decline it is gone from PENDING and shown under DECLINED', async () => {
      const s = await scene(2);
      const [mine, theirs] = s.offers;
      const pending = await hub.api('GET', '/api/agent/v1/offers?status=PENDING', { key: s.agents[0].apiKey });
      assert.equal(pending.status, 200, pending.text);
      assert.equal(pending.body.ok, true);
      const ids = pending.body.offers.map(idOf);
      assert.ok(ids.includes(mine), 'my offer is listed');
      assert.ok(!ids.includes(theirs), "another agent's offer is not");
      assert.ok(pending.body.offers.every((o: { status?: string }) => o.status === undefined || o.status === 'PENDING'));

      assert.equal((await decide(s.agents[0].apiKey, mine, { accept: false })).status, 200);
      const after = await hub.api('GET', '/api/agent/v1/offers?status=PENDING', { key: s.agents[0].apiKey });
      assert.equal(after.status, 200);
      assert.ok(!after.body.offers.map(idOf).includes(mine), 'no longer pending');
      const declined = await hub.api('GET', '/api/agent/v1/offers?status=DECLINED', { key: s.agents[0].apiKey });
      assert.equal(declined.status, 200, declined.text);
      assert.ok(declined.body.offers.map(idOf).includes(mine), 'listed as DECLINED');
      // A query string typed by hand: the status in any case.
      const lower = await hub.api('GET', '/api/agent/v1/offers?status=declined', { key: s.agents[0].apiKey });
      assert.equal(lower.status, 200, lower.text);
      assert.deepEqual(lower.body.offers.map(idOf), declined.body.offers.map(idOf));
    });

    test('an unknown status filter is 400 invalid_body; no key is 401', async () => {
      const s = await scene(1);
      const res = await hub.api('GET', '/api/agent/v1/offers?status=SOMETIMES', { key: s.agents[0].apiKey });
      assertError(res, 400, 'invalid_body');
      assert.ok(issuePaths(res).includes('status'), res.text);
      assert.equal(res.body.error.message, 'The query string is not valid: status: must be one of PENDING, ACCEPTED, DECLINED, EXPIRED, WITHDRAWN');
      assertError(await hub.api('GET', '/api/agent/v1/offers?status=PENDING'), 401, 'unauthorized');
    });
  });

  describe('human workers (session + CSRF) on /api/worker/…', () => {
    test('a worker is matched by category, sees the offer, accepts, starts, submits and lists its assignment', async () => {
      const category = uniq('human');
      const addr = `${uniq('w')}@example.test`;
      const reg = await hub.api('POST', '/api/workers/register', { body: { name: 'Human Worker', email: addr, password: PASSWORD, category } });
      assert.equal(reg.status, 201, reg.text);
      const login = await hub.api('POST', '/api/auth/login', { body: { email: addr, password: PASSWORD } });
      assert.equal(login.status, 200, login.text);
      const cookie = login.headers.getSetCookie()[0].split(';')[0];
      const csrf = { 'X-CSRF-Token': login.body.csrfToken };

      const task = await openTask(hub, buyer.apiKey, { category, title: 'for a person' });
      const offers = await match(hub, buyer.apiKey, task.id);
      assert.deepEqual(offers.map((o) => o.workerUserId), [reg.body.userId]);
      const offerId = offers[0].offerId;

      const listed = await hub.api('GET', '/api/worker/offers', { cookie });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.body.ok, true);
      assert.ok(listed.body.offers.some((o: { id?: string; offerId?: string }) => (o.offerId ?? o.id) === offerId), 'the offer is listed');

      const forged = await hub.api('POST', `/api/worker/offers/${offerId}/decision`, { cookie, body: { accept: true } });
      assertError(forged, 403, 'forbidden', 'decision without the CSRF token');
      const acc = await hub.api('POST', `/api/worker/offers/${offerId}/decision`, { cookie, headers: csrf, body: { accept: true } });
      assert.equal(acc.status, 200, acc.text);
      assert.equal(acc.body.ok, true);
      assert.equal(acc.body.accept, true);
      const id = acc.body.assignmentId;

      const start = await hub.api('POST', `/api/worker/assignments/${id}/start`, { cookie, headers: csrf, body: {} });
      assert.equal(start.status, 200, start.text);
      const sub = await hub.api('POST', `/api/worker/assignments/${id}/submit`, { cookie, headers: csrf, body: { contentText: 'written by hand' } });
      assert.equal(sub.status, 200, sub.text);
      assert.deepEqual(sub.body, { ok: true, assignmentId: id, status: 'SUBMITTED', revision: 1 });

      const list = await hub.api('GET', '/api/worker/assignments', { cookie });
      assert.equal(list.status, 200);
      assert.equal(list.body.assignments.length, 1);
      assert.equal(list.body.assignments[0].id, id);
      assert.equal(list.body.assignments[0].workerUserId, reg.body.userId);
      assert.equal(list.body.assignments[0].deliverable.contentText, 'written by hand');
      assert.equal((await view(task.id)).body.offers[0].workerName, 'Human Worker');
    });
  });
});

describe('first confirm wins under concurrency', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ registerLimit: 0 });
  });
  after(async () => {
    await hub.stop();
  });

  test('20 tasks × 20 agents accepting at once: exactly one 200 per task, the rest 409 task_already_assigned', async () => {
    const TASKS = 20;
    const AGENTS = 20;
    const buyer = await registerBuyer(hub);
    const category = uniq('race');
    const agents: Agent[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push(await registerAgent(hub, { category }));
    const byUser = new Map(agents.map((a) => [a.userId, a]));

    for (let t = 0; t < TASKS; t++) {
      const task = await openTask(hub, buyer.apiKey, { category });
      const offers = await match(hub, buyer.apiKey, task.id, AGENTS);
      assert.equal(offers.length, AGENTS, `task ${t}: every agent has an offer`);
      // All accepts leave at once, each over its own connection.
      const answers = await Promise.all(
        offers.map((o) => postOwnConnection(hub.url, `/api/agent/v1/offers/${o.offerId}/decision`, byUser.get(o.workerUserId)!.apiKey, { accept: true })),
      );
      const wins = answers.filter((a) => a.status === 200);
      const losses = answers.filter((a) => a.status === 409);
      assert.equal(wins.length, 1, `task ${t}: exactly one winner (${JSON.stringify(answers.map((a) => a.status))})`);
      assert.equal(losses.length, AGENTS - 1, `task ${t}: everyone else 409`);
      assert.equal(wins[0].body.ok, true);
      assert.equal(wins[0].body.accept, true);
      for (const l of losses) assert.deepEqual({ ok: l.body.ok, code: l.body.error?.code }, { ok: false, code: 'task_already_assigned' });

      const winnerIndex = answers.findIndex((a) => a.status === 200);
      const v = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
      assert.equal(v.body.task.status, 'ASSIGNED');
      assert.equal(v.body.assignment.id, wins[0].body.assignmentId, 'one assignment, the winner\'s');
      assert.equal(v.body.assignment.workerUserId, offers[winnerIndex].workerUserId);
      const states = v.body.offers.map((o: { status: string }) => o.status).sort();
      assert.deepEqual(states, ['ACCEPTED', ...Array(AGENTS - 1).fill('WITHDRAWN')]);
    }

    // Each winner sees exactly the assignments it won; together they cover every task once.
    let total = 0;
    for (const a of agents) {
      const res = await hub.api('GET', '/api/agent/v1/assignments', { key: a.apiKey });
      assert.equal(res.status, 200);
      total += res.body.assignments.length;
    }
    assert.equal(total, TASKS, 'one assignment per task in all');
  });
});

test('a decision while another program holds the database lock past busy_timeout: 503 database_busy with Retry-After, and the retry goes through', async () => {
  const local = await startTestHub();
  const other = openDatabase(path.join(local.dir, 'valence.db'), { migrate: false });
  try {
    const category = uniq('locked');
    const buyer = await registerBuyer(local);
    const agent = await registerAgent(local, { category });
    const task = await openTask(local, buyer.apiKey, { category });
    const [offer] = await match(local, buyer.apiKey, task.id, 1);
    const reader = await registerAgent(local, { category });
    const ws = await connectAgent(local.wsUrl, agent.apiKey);
    await ws.nextType('pending_offer');
    other.exec('BEGIN IMMEDIATE'); // a sqlite3 shell in the middle of a write, say
    const locked = await local.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
    assertError(locked, 503, 'database_busy');
    assert.equal(locked.headers.get('retry-after'), '1');
    // Over the socket too; nothing was done, so the same requestId sent again after the release runs again.
    const overWs = await ws.request({ type: 'offer_decision', requestId: 'busy', offerId: offer.offerId, accept: false }, 15_000);
    assert.deepEqual([overWs.type, overWs.status, overWs.code], ['error', 503, 'database_busy']);
    // A read is answered meanwhile, though it is an agent's first request this minute (whose last-seen
    // time would be written): that bookkeeping gives way at once (db.noWait), without waiting 5 s.
    const me = await local.api('GET', '/api/agent/v1/me', { key: reader.apiKey });
    assert.deepEqual([me.status, me.body.agentId], [200, reader.agentId]);
    other.exec('ROLLBACK');
    const retried = await local.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
    assert.deepEqual([retried.status, retried.body.ok, retried.body.accept], [200, true, true]);
    const again = await ws.request({ type: 'offer_decision', requestId: 'busy', offerId: offer.offerId, accept: false });
    assert.deepEqual([again.type, again.status, again.code], ['error', 400, 'offer_not_pending'], 'run again, not the remembered 503');
    ws.close();
  } finally {
    other.close();
    await local.stop();
  }
});

test('while another program holds the write lock, waiting writes do not stop the hub: a read and a socket ping are answered meanwhile, and the writes go through once it is released', async () => {
  const local = await startTestHub();
  const other = openDatabase(path.join(local.dir, 'valence.db'), { migrate: false });
  try {
    const category = uniq('waiting');
    const buyer = await registerBuyer(local);
    const agent = await registerAgent(local, { category });
    const second = await registerAgent(local, { category });
    const offered = async () => {
      const task = await openTask(local, buyer.apiKey, { category });
      const offers = await match(local, buyer.apiKey, task.id, 2);
      return { task, mine: offers.find((o) => o.workerUserId === agent.userId)!, theirs: offers.find((o) => o.workerUserId === second.userId)! };
    };
    const overHttp = await offered();
    const overWs = await offered();
    const ws = await connectAgent(local.wsUrl, second.apiKey);
    other.exec('BEGIN IMMEDIATE'); // a sqlite3 shell in the middle of a write, say
    const answered: string[] = [];
    const decision = local.api('POST', `/api/agent/v1/offers/${overHttp.mine.offerId}/decision`, { key: agent.apiKey, body: { accept: true } })
      .then((r) => (answered.push('http decision'), r));
    const wsDecision = ws.request({ type: 'offer_decision', requestId: 'w', offerId: overWs.theirs.offerId, accept: true }, 15_000)
      .then((f) => (answered.push('socket decision'), f));
    const me = await local.api('GET', '/api/agent/v1/me', { key: agent.apiKey });
    assert.deepEqual([me.status, me.body.agentId], [200, agent.agentId]);
    ws.send({ type: 'ping', requestId: 'p' });
    const pong = await ws.next((f) => f.type === 'pong');
    assert.deepEqual(pong, { type: 'pong', requestId: 'p' });
    assert.deepEqual(answered, [], 'the writes still wait for the lock, and the hub answered the read and the ping');
    other.exec('ROLLBACK');
    const [d1, d2] = await Promise.all([decision, wsDecision]);
    assert.deepEqual([d1.status, d1.body.accept, typeof d1.body.assignmentId], [200, true, 'string']);
    assert.deepEqual([d2.type, d2.accept, typeof d2.assignmentId], ['ack', true, 'string']);
    for (const [t, winner] of [[overHttp.task, d1.body.assignmentId], [overWs.task, d2.assignmentId]]) {
      const view = await local.api('GET', `/api/buyer/tasks/${t.id}`, { key: buyer.apiKey });
      assert.deepEqual([view.status, view.body.task.status, view.body.assignment.id], [200, 'ASSIGNED', winner]);
    }
    ws.close();
  } finally {
    other.close();
    await local.stop();
  }
});

describe('an offer past its expiry that the sweep has not marked yet (SPEC §4.2 step 4)', () => {
  // The sweep runs every VALENCE_SWEEP_SECONDS; until it does, such an offer is still PENDING in its row.
  // Another worker's accept, or the task's cancellation, must leave it EXPIRED, not withdraw it.
  let local: TestHub;
  let other: ReturnType<typeof openDatabase>;
  let buyer: { userId: string; apiKey: string };
  before(async () => {
    local = await startTestHub({ sweepSeconds: 3600 });
    other = openDatabase(path.join(local.dir, 'valence.db'), { migrate: false });
    buyer = await registerBuyer(local);
  });
  after(async () => {
    other.close();
    await local.stop();
  });

  /** Two agents offered one task; the first one's offer has passed its expiry (written as a row the sweep has not reached). */
  async function lapsed() {
    const category = uniq('lapsed');
    const agents = [await registerAgent(local, { category }), await registerAgent(local, { category })];
    const task = await openTask(local, buyer.apiKey, { category });
    const made = await match(local, buyer.apiKey, task.id, 10);
    const offers = agents.map((a) => made.find((o) => o.workerUserId === a.userId)!.offerId);
    other.prepare(`UPDATE match_offers SET expires_at = ? WHERE id = ?`).run(new Date(Date.now() - 1000).toISOString(), offers[0]);
    const states = async () => {
      const v = await local.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
      assert.equal(v.status, 200, v.text);
      return offers.map((id) => {
        const o = v.body.offers.find((x: { id: string }) => x.id === id);
        return [o.status, o.reason];
      });
    };
    return { agents, task, offers, states };
  }
  const decide = (key: string, offerId: string, body: unknown) => local.api('POST', `/api/agent/v1/offers/${offerId}/decision`, { key, body });

  test("another worker's accept leaves it EXPIRED; its owner's accept and decline get 400 offer_expired", async () => {
    const s = await lapsed();
    assert.deepEqual(await s.states(), [['EXPIRED', null], ['PENDING', null]]);
    const won = await decide(s.agents[1].apiKey, s.offers[1], { accept: true });
    assert.deepEqual([won.status, won.body.ok, won.body.accept], [200, true, true], won.text);
    assert.deepEqual(await s.states(), [['EXPIRED', null], ['ACCEPTED', null]]);
    assertError(await decide(s.agents[0].apiKey, s.offers[0], { accept: true }), 400, 'offer_expired', 'accept');
    assertError(await decide(s.agents[0].apiKey, s.offers[0], { accept: false }), 400, 'offer_expired', 'decline');
    assert.equal(other.prepare(`SELECT status FROM match_offers WHERE id = ?`).get(s.offers[0])!.status, 'EXPIRED');
  });

  test("the task's cancellation withdraws only the live offer; the lapsed one's accept gets 400 offer_expired", async () => {
    const s = await lapsed();
    const cancel = await local.api('POST', `/api/buyer/tasks/${s.task.id}/cancel`, { key: buyer.apiKey, body: {} });
    assert.deepEqual([cancel.status, cancel.body.task.status], [200, 'CANCELLED'], cancel.text);
    assert.deepEqual(await s.states(), [['EXPIRED', null], ['WITHDRAWN', 'task_cancelled']]);
    assertError(await decide(s.agents[0].apiKey, s.offers[0], { accept: true }), 400, 'offer_expired');
    assertError(await decide(s.agents[1].apiKey, s.offers[1], { accept: true }), 400, 'task_not_open');
  });
});

describe('decisions queued in one turn (offers.queueDecision)', () => {
  /** A grouped database in a folder of its own, and a second connection on it: another program, which sees only what is committed. */
  function twoConnections(prefix: string) {
    const dir = tempDir(prefix);
    const file = path.join(dir, 'valence.db');
    const db = openDatabase(file, { group: true });
    const other = openDatabase(file, { migrate: false });
    return {
      dir, file, db, other,
      close() {
        other.close();
        db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  /** A buyer of this domain, as its key authenticates. */
  const domainBuyer = async (d: ReturnType<typeof createDomain>, name: string) =>
    d.accounts.authenticateBearer(`Bearer ${(await d.accounts.registerBuyer({ name, email: `${uniq('b')}@example.test`, password: PASSWORD })).apiKey}`);

  test('a match pushes its offers only once they are committed; a hub stopped at the push keeps them; a lost group pushes nothing', async () => {
    const { dir, file, db, other, close } = twoConnections('valence-match-push-');
    const snapshot = path.join(dir, 'at-the-push.db');
    const committedOffers = (id: string) => other.prepare(`SELECT 1 FROM match_offers WHERE id = ?`).get(id) !== undefined;
    const committedBatch = (id: string) =>
      other.prepare(`SELECT 1 FROM offer_batches b, json_each(b.offers) WHERE value ->> 0 = ?`).get(id) !== undefined;
    // Every push records where its offer was committed at that moment; the first one also copies the
    // database as a crash right then would leave it (the file and its WAL; nothing writes during a push).
    const pushes: { userId: string; offerId: string; committed: string }[] = [];
    const notifier = {
      isConnected: () => true,
      push: (userId: string, frame: Record<string, unknown> | string) => {
        const offerId = JSON.parse(typeof frame === 'string' ? frame : JSON.stringify(frame)).offerId as string;
        pushes.push({ userId, offerId, committed: committedOffers(offerId) ? 'offer' : committedBatch(offerId) ? 'batch' : 'no' });
        if (!fs.existsSync(snapshot)) {
          fs.copyFileSync(file, snapshot);
          fs.copyFileSync(`${file}-wal`, `${snapshot}-wal`);
        }
        return true;
      },
      disconnect: () => {},
    };
    try {
      const d = createDomain({ db, cfg: loadConfig({}, {}), notifier, log: createLogger('silent') });
      const category = uniq('pushes');
      const buyer = await domainBuyer(d, 'Push buyer');
      const agents = [1, 2, 3].map((i) => d.accounts.registerAgent({ name: `Push agent ${i}`, category }).userId);
      const task = d.tasks.createTask(buyer, { title: 'Pushed after the COMMIT', description: 'Three agents.', category, publish: true }).task;
      const matched = d.tasks.matchTask(buyer, task.id, { limit: 3 });
      assert.equal(pushes.length, 0, 'nothing is pushed while the offers are not committed');
      const { offers } = await matched;
      assert.deepEqual(
        pushes.map((x) => [x.userId, x.offerId, x.committed]).sort(),
        offers.map((o) => [o.workerUserId, o.offerId, 'batch']).sort(),
        'one push per offer, each made once its batch was committed',
      );
      assert.deepEqual(new Set(offers.map((o) => o.workerUserId)), new Set(agents));
      assert.ok(offers.every((o) => o.delivered === true), 'the answer says what the pushes did');
      // Right after the sends the batch became the offers' rows, committed before the answer.
      assert.ok(offers.every((o) => committedOffers(o.offerId)), 'the offers are written after the sends');
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 0, 'and their batch is gone');

      // A hub stopped at the first push: the next start writes the batch, and each pushed offer can be taken.
      const restarted = openDatabase(snapshot, { group: true });
      try {
        const r = createDomain({ db: restarted, cfg: loadConfig({}, {}), notifier: nobody, log: createLogger('silent') });
        assert.equal(restarted.prepare(`SELECT COUNT(*) AS n FROM match_offers WHERE task_id = ?`).get(task.id)!.n, 0, 'the copy was taken before the rows were written');
        assert.equal(r.batches.settle(), 1, 'the start writes the batch left behind');
        await restarted.durable();
        const rows = restarted.prepare(`SELECT id, worker_user_id, status, message, expires_at FROM match_offers WHERE task_id = ? ORDER BY id`).all(task.id);
        assert.deepEqual(rows.map((o) => [o.id, o.worker_user_id, o.status]), offers.map((o) => [o.offerId, o.workerUserId, 'PENDING']).sort());
        assert.ok(rows.every((o) => o.message.includes(`accept offer ${o.id} before ${o.expires_at}`)), rows[0]?.message);
        const agent = { userId: offers[0].workerUserId, role: 'AGENT' as const, name: 'Push agent', via: 'key' as const };
        assert.deepEqual(r.offers.decide(agent, offers[0].offerId, { accept: true }).accept, true, 'a pushed offer is accepted after the restart');
        await restarted.durable();
        assert.equal(restarted.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 0);
      } finally {
        restarted.close();
      }

      // The COMMIT never comes (the group is lost): no agent hears of an offer that does not exist.
      pushes.length = 0;
      const lostTask = d.tasks.createTask(buyer, { title: 'Lost with its group', description: 'Three agents.', category, publish: true }).task;
      await db.durable();
      const lost = d.tasks.matchTask(buyer, lostTask.id, { limit: 3 });
      db.beforeCommit(() => {
        throw new Error('disk says no');
      });
      await assert.rejects(lost, /disk says no/, 'the match is answered with the COMMIT\'s error');
      assert.deepEqual(pushes, []);
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM match_offers WHERE task_id = ?`).get(lostTask.id)!.n, 0);
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 0);
    } finally {
      close();
    }
  });

  test('an offer whose batch was not written when its group failed: listed by reads, written by the next decision', async () => {
    const { db, close } = twoConnections('valence-batch-retry-');
    let failNext = true;
    const notifier = {
      isConnected: () => true,
      push: () => {
        // The first match's rows are written in a group that is then lost.
        if (failNext) {
          failNext = false;
          db.beforeCommit(() => {
            throw new Error('disk says no');
          });
        }
        return true;
      },
      disconnect: () => {},
    };
    try {
      const d = createDomain({ db, cfg: loadConfig({}, {}), notifier, log: createLogger('silent') });
      const category = uniq('retry');
      const buyer = await domainBuyer(d, 'Retry buyer');
      const agent = d.accounts.registerAgent({ name: 'Retry agent', category });
      const task = d.tasks.createTask(buyer, { title: 'Written again', description: 'One agent.', category, publish: true }).task;
      const { offers } = await d.tasks.matchTask(buyer, task.id, {}); // answered: its rows' group failed, the batch stands
      assert.equal(db.prepare(`SELECT COUNT(*) AS n FROM match_offers WHERE task_id = ?`).get(task.id)!.n, 0, 'the rows went with the group');
      assert.equal(db.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 1, 'the batch did not');
      const principal = { userId: agent.userId, role: 'AGENT' as const, name: 'Retry agent', via: 'key' as const, agentId: agent.agentId };
      assert.deepEqual(d.offers.listOffers(principal, {}).offers.map((o: { id: string; status: string }) => [o.id, o.status]), [[offers[0].offerId, 'PENDING']]);
      const won = await d.offers.queueDecision(principal, offers[0].offerId, { accept: true });
      assert.equal(won.accept, true);
      assert.equal(db.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 0);
      assert.equal(db.prepare(`SELECT status FROM tasks WHERE id = ?`).get(task.id)!.status, 'ASSIGNED');
    } finally {
      close();
    }
  });

  test("a match whose rows cannot be written after its sends (another program took the write lock): answered, its offer in every read, written by the next decision", async () => {
    const { db, other, close } = twoConnections('valence-batch-locked-');
    // It takes the write lock the moment the first frame goes out, between the batch's COMMIT and the rows' write.
    const notifier = {
      isConnected: () => true,
      push: () => {
        if (!other.prepare('SELECT 1 FROM offer_batches').get()) throw new Error('pushed before the batch was committed');
        if (!locked) {
          locked = true;
          other.exec('BEGIN IMMEDIATE');
        }
        return true;
      },
      disconnect: () => {},
    };
    let locked = false;
    const lines: string[] = [];
    try {
      const d = createDomain({ db, cfg: loadConfig({}, {}), notifier, log: createLogger('info', (l) => lines.push(l)) });
      const category = uniq('locked');
      const buyer = await domainBuyer(d, 'Locked buyer');
      const agent = d.accounts.registerAgent({ name: 'Locked agent', category });
      const task = d.tasks.createTask(buyer, { title: 'Rows written later', description: 'One agent.', category, publish: true }).task;
      const { offers } = await d.tasks.matchTask(buyer, task.id, {});
      assert.equal(locked, true);
      assert.deepEqual(offers.map((o) => [o.workerUserId, o.delivered]), [[agent.userId, true]], 'answered with the offer it pushed');
      assert.ok(lines.some((l) => l.includes('offers of a match not written yet') && l.includes('database is locked')), lines.join(''));
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM match_offers WHERE task_id = ?`).get(task.id)!.n, 0, 'the rows are not written');
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 1, 'the batch is');

      // Every read has the offer meanwhile, and none waits for the lock.
      const principal = d.accounts.authenticateBearer(`Bearer ${agent.apiKey}`);
      const offerId = offers[0].offerId;
      assert.deepEqual(d.offers.listOffers(principal, {}).offers.map((o: { id: string; status: string; taskId: string }) => [o.id, o.status, o.taskId]), [[offerId, 'PENDING', task.id]]);
      assert.deepEqual(d.offers.listOffers(principal, { status: 'pending' }).offers.map((o: { id: string }) => o.id), [offerId]);
      const replay = d.offers.pendingFor(agent.userId);
      assert.deepEqual(replay.map((o) => [o.id, o.task_id, o.title]), [[offerId, task.id, 'Rows written later']]);
      assert.ok(String(replay[0].message).includes(`accept offer ${offerId} before`), replay[0].message);
      assert.deepEqual(d.tasks.viewTask(buyer, task.id).offers.map((o) => [o.id, o.workerUserId, o.workerName, o.status]), [[offerId, agent.userId, 'Locked agent', 'PENDING']]);
      assert.match(createMetrics(db, () => ({ agents: 0, sockets: 0 })).render(), /^valence_offers\{status="PENDING"\} 1$/m);

      // The lock goes; the agent's accept writes the batch first and takes the task.
      other.exec('ROLLBACK');
      const won = await d.offers.queueDecision(principal, offerId, { accept: true });
      assert.equal(won.accept, true);
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM offer_batches`).get()!.n, 0);
      assert.deepEqual({ ...other.prepare(`SELECT id, status FROM match_offers WHERE task_id = ?`).get(task.id) }, { id: offerId, status: 'ACCEPTED' });
      assert.match(createMetrics(db, () => ({ agents: 0, sockets: 0 })).render(), /^valence_offers\{status="ACCEPTED"\} 1$/m);
    } finally {
      close();
    }
  });

  test('the expiry sweep does not wait for another program\'s write lock (it would hold up the whole hub): it fails at once, and the next sweep does it', async () => {
    const { db, other, close } = twoConnections('valence-sweep-locked-');
    try {
      const d = createDomain({ db, cfg: loadConfig({}, {}), notifier: nobody, log: createLogger('silent') });
      const category = uniq('sweep');
      const buyer = await domainBuyer(d, 'Sweep buyer');
      d.accounts.registerAgent({ name: 'Sweep agent', category });
      const task = d.tasks.createTask(buyer, { title: 'Lapses', description: 'One agent.', category, publish: true, offerTtlSeconds: 1 }).task;
      const [offer] = (await d.tasks.matchTask(buyer, task.id, {})).offers;
      other.prepare(`UPDATE match_offers SET expires_at = ? WHERE id = ?`).run(new Date(Date.now() - 1000).toISOString(), offer.offerId);
      other.exec('BEGIN IMMEDIATE');
      // Waiting would take busy_timeout (5 s) of the one thread everything runs on.
      const started = performance.now();
      // SQLITE_BUSY: better-sqlite3 names it by code, node:sqlite (Deno) by its message; both read as database_busy.
      assert.throws(() => d.offers.sweepExpired(), (err) => toAppError(err).code === 'database_busy');
      const waited = performance.now() - started;
      assert.ok(waited < 2500, `the sweep gave way at once instead of waiting out the busy timeout (${Math.round(waited)} ms)`);
      assert.equal(Number(db.pragma('busy_timeout')), 0, 'the hub never waits inside SQLite (a request is tried again by whileBusy)');
      other.exec('ROLLBACK');
      assert.equal(d.offers.sweepExpired(), 1, 'the next sweep marks it');
      await db.durable();
      assert.equal(other.prepare(`SELECT status FROM match_offers WHERE id = ?`).get(offer.offerId)!.status, 'EXPIRED');
    } finally {
      close();
    }
  });

  test('run in the order they arrived, just before the COMMIT; an accept settles once committed', async () => {
    const { db, other, close } = twoConnections('valence-queue-');
    try {
      const d = createDomain({ db, cfg: loadConfig({}, {}), notifier: nobody, log: createLogger('silent') });
      const category = uniq('queue');
      const buyerKey = (await d.accounts.registerBuyer({ name: 'Queue buyer', email: `${uniq('b')}@example.test`, password: PASSWORD })).apiKey;
      const buyer = d.accounts.authenticateBearer(`Bearer ${buyerKey}`);
      const agents = [1, 2, 3].map((i) => d.accounts.authenticateBearer(`Bearer ${d.accounts.registerAgent({ name: `Queue agent ${i}`, category }).apiKey}`));
      const task = d.tasks.createTask(buyer, { title: 'Sort the queue', description: 'Three agents, one task.', category, publish: true }).task;
      const { offers } = await d.tasks.matchTask(buyer, task.id, { limit: 3 });
      const offerOf = (p: { userId: string }) => offers.find((o) => o.workerUserId === p.userId)!.offerId;
      const committed = () => other.prepare(`SELECT status FROM tasks WHERE id = ?`).get(task.id)!.status;

      // In one turn: the third agent declines, then the second and the first accept.
      const decline = d.offers.queueDecision(agents[2], offerOf(agents[2]), { accept: false, reason: 'busy' });
      const second = d.offers.queueDecision(agents[1], offerOf(agents[1]), { accept: true });
      const first = d.offers.queueDecision(agents[0], offerOf(agents[0]), { accept: true });
      assert.equal(db.prepare(`SELECT status FROM match_offers WHERE id = ?`).get(offerOf(agents[2]))!.status, 'PENDING', 'nothing is decided before the turn ends');

      const won = await second;
      assert.equal(won.accept, true);
      assert.equal(committed(), 'ASSIGNED', 'the accept settles once its COMMIT is done');
      assert.deepEqual(await decline, { ok: true, accept: false });
      await assert.rejects(first, (err: { status: number; code: string }) => err.status === 409 && err.code === 'task_already_assigned');
      const row = other.prepare(`SELECT id, worker_user_id, offer_id FROM assignments WHERE task_id = ?`).get(task.id)!;
      assert.deepEqual({ ...row }, { id: (won as { assignmentId: string }).assignmentId, worker_user_id: agents[1].userId, offer_id: offerOf(agents[1]) }, 'the accept that arrived first won');
      const statuses = other.prepare(`SELECT worker_user_id, status FROM match_offers WHERE task_id = ?`).all(task.id);
      assert.deepEqual(Object.fromEntries(statuses.map((r) => [r.worker_user_id, r.status])), {
        [agents[0].userId]: 'WITHDRAWN', [agents[1].userId]: 'ACCEPTED', [agents[2].userId]: 'DECLINED',
      });

      // An accept whose group is lost before its COMMIT is refused with that error, and nothing of it is kept.
      const again = d.tasks.createTask(buyer, { title: 'Lost with its group', description: 'One agent.', category, publish: true }).task;
      const [offer] = (await d.tasks.matchTask(buyer, again.id, { limit: 1 })).offers;
      const lost = d.offers.queueDecision(agents.find((a) => a.userId === offer.workerUserId)!, offer.offerId, { accept: true });
      db.beforeCommit(() => {
        throw new Error('disk says no');
      });
      await assert.rejects(lost, /disk says no/);
      assert.equal(other.prepare(`SELECT status FROM tasks WHERE id = ?`).get(again.id)!.status, 'OPEN');
      assert.equal(other.prepare(`SELECT COUNT(*) AS n FROM assignments WHERE task_id = ?`).get(again.id)!.n, 0);

      // Another program holds the write lock: the decision fails with SQLite's error, and the queue is
      // not left waiting for a turn that never comes — the next decision goes through.
      db.exec('PRAGMA busy_timeout = 0');
      other.exec('BEGIN IMMEDIATE');
      const offerAgent = agents.find((a) => a.userId === offer.workerUserId)!;
      await assert.rejects(d.offers.queueDecision(offerAgent, offer.offerId, { accept: true }), /locked|busy/i);
      other.exec('ROLLBACK');
      const retried = await d.offers.queueDecision(offerAgent, offer.offerId, { accept: true });
      assert.equal(retried.accept, true);
      assert.equal(other.prepare(`SELECT status FROM tasks WHERE id = ?`).get(again.id)!.status, 'ASSIGNED');
    } finally {
      close();
    }
  });
});

test('frames kept for an agent without a socket: taken once at its next connection; a socket gone by the push keeps them too; a human worker has none kept', () => {
  const dir = tempDir('valence-outbox-');
  const db = openDatabase(path.join(dir, 'v.db'));
  try {
    const insertUser = db.prepare(`INSERT INTO users (id, role, name, created_at) VALUES (?, ?, ?, '2026-01-01T00:00:00.000Z')`);
    insertUser.run('agent', 'AGENT', 'An agent');
    insertUser.run('person', 'WORKER', 'A person');
    const pushed: string[] = [];
    let connected = false;
    let reachable = false;
    const notifier = {
      isConnected: () => connected,
      push: (userId: string, frame: Record<string, unknown> | string) => (pushed.push(`${userId} ${frame}`), reachable),
      disconnect: () => {},
    };
    const d = createDomain({ db, cfg: loadConfig({}, {}), notifier, log: createLogger('silent') });
    db.tx(() => {
      d.outbox.tell('agent', { type: 'x', n: 1 });
      d.outbox.tell('person', { type: 'x', n: 2 });
    });
    assert.deepEqual(pushed, ['person {"type":"x","n":2}'], 'a person is pushed to (its portal shows the rest); an agent without a socket is not');
    assert.deepEqual(d.outbox.take('person'), []);
    assert.deepEqual(d.outbox.take('agent'), ['{"type":"x","n":1}']);
    assert.deepEqual(d.outbox.take('agent'), [], 'taken once');
    // A socket when the change is made, gone by the push: kept right after the push fails.
    connected = true;
    db.tx(() => d.outbox.tell('agent', { type: 'x', n: 3 }));
    assert.equal(pushed.at(-1), 'agent {"type":"x","n":3}');
    assert.deepEqual(d.outbox.take('agent'), ['{"type":"x","n":3}']);
    // Pushed live: nothing kept.
    reachable = true;
    db.tx(() => d.outbox.tell('agent', { type: 'x', n: 4 }));
    assert.equal(pushed.at(-1), 'agent {"type":"x","n":4}');
    assert.deepEqual(d.outbox.take('agent'), []);
    // A change rolled back keeps nothing and pushes nothing.
    connected = false;
    assert.throws(() => db.tx(() => {
      d.outbox.tell('agent', { type: 'x', n: 5 });
      throw new Error('the change fails');
    }), /the change fails/);
    assert.deepEqual(d.outbox.take('agent'), []);
    assert.equal(pushed.length, 3);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('frames kept for an agent, while another program holds the write lock: taken once and removed once it is free; a push that fails then is kept once it is free', async () => {
  const dir = tempDir('valence-outbox-locked-');
  const file = path.join(dir, 'v.db');
  const db = openDatabase(file, { group: true });
  const other = openDatabase(file, { migrate: false });
  try {
    db.prepare(`INSERT INTO users (id, role, name, created_at) VALUES ('agent', 'AGENT', 'An agent', '2026-01-01T00:00:00.000Z')`).run();
    let connected = false;
    let lockAtPush = false;
    const notifier = {
      isConnected: () => connected,
      // The other program takes the lock between the COMMIT and the push, and the socket is gone.
      push: () => (lockAtPush && other.exec('BEGIN IMMEDIATE'), false),
      disconnect: () => {},
    };
    const d = createDomain({ db, cfg: loadConfig({}, {}), notifier, log: createLogger('silent') });
    const kept = () => other.prepare(`SELECT COUNT(*) AS n FROM agent_outbox`).get()!.n;
    db.tx(() => d.outbox.tell('agent', { type: 'x', n: 1 }));
    await db.durable();
    other.exec('BEGIN IMMEDIATE');
    assert.deepEqual(d.outbox.take('agent'), ['{"type":"x","n":1}'], 'sent, though its removal has to wait');
    assert.deepEqual(d.outbox.take('agent'), [], 'not handed out again while the removal waits');
    other.exec('ROLLBACK');
    await waitFor('the removal once the lock is free', () => (kept() === 0 ? true : undefined));
    assert.deepEqual(d.outbox.take('agent'), []);

    connected = true;
    lockAtPush = true;
    db.tx(() => d.outbox.tell('agent', { type: 'x', n: 2 }));
    await db.durable();
    assert.equal(kept(), 0, 'the lock is held: not kept yet');
    lockAtPush = false;
    other.exec('ROLLBACK');
    await waitFor('the frame kept once the lock is free', () => (kept() === 1 ? true : undefined));
    assert.deepEqual(d.outbox.take('agent'), ['{"type":"x","n":2}']);
  } finally {
    other.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
