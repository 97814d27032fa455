// The seed's end-to-end test (npm run test:e2e:agent-ws): the real hub program, a real WebSocket agent,
// a buyer over HTTP, no OpenClaw. Offer → accept → submit → reject → resubmit → accept, then SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { request, tempDir } from './helpers.ts';
import { connectAgent } from './ws-client.ts';
import { exitedCleanly, spawnServer, type Spawned } from './spawn.ts';

let dir: string;
let hub: Spawned;
before(async () => {
  dir = tempDir('valence-e2e-');
  hub = await spawnServer({ VALENCE_DB: path.join(dir, 'valence.db') });
});
after(() => {
  hub.proc.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an agent on /agent-ws takes a task from offer to accepted deliverable, and SIGTERM closes it cleanly', async () => {
  const api = (method: string, route: string, opts = {}) => request(hub.url, method, route, opts);

  const reg = await api('POST', '/api/agents/register', { body: { name: 'e2e-agent', category: 'docs' } });
  assert.equal(reg.status, 201);
  const agent = await connectAgent(hub.gatewayUrl, reg.body.apiKey);
  assert.deepEqual(agent.authOk, { type: 'auth_ok', agentId: reg.body.agentId, userId: reg.body.userId });

  const buyerReg = await api('POST', '/api/buyers/register', { body: { name: 'E2E Buyer', email: 'e2e@example.test', password: 'e2e password' } });
  assert.equal(buyerReg.status, 201);
  const key = buyerReg.body.apiKey;
  const created = await api('POST', '/api/buyer/tasks', { key, body: { title: 'Write the changelog', description: 'Summarise the release.', category: 'docs' } });
  assert.equal(created.status, 201);
  assert.equal(created.body.task.status, 'DRAFT');
  const taskId = created.body.task.id;
  assert.equal((await api('POST', `/api/buyer/tasks/${taskId}/publish`, { key })).body.task.status, 'OPEN');

  const matched = await api('POST', `/api/buyer/tasks/${taskId}/match`, { key, body: {} });
  assert.equal(matched.status, 200);
  assert.deepEqual(matched.body.offers.map((o: { workerUserId: string; delivered: boolean }) => [o.workerUserId, o.delivered]), [[reg.body.userId, true]]);

  const offer = await agent.nextType('pending_offer');
  assert.equal(offer.offerId, matched.body.offers[0].offerId);
  assert.match(offer.message, /Write the changelog/);

  const ack = await agent.request({ type: 'offer_decision', offerId: offer.offerId, accept: true });
  assert.equal(ack.type, 'ack');
  assert.equal(ack.accept, true);
  const assignmentId = ack.assignmentId;

  const sub1 = await agent.request({ type: 'submit_deliverable', assignmentId, contentText: 'v1: added, changed, fixed' });
  assert.deepEqual([sub1.type, sub1.status, sub1.revision], ['ack', 'SUBMITTED', 1]);

  const rej = await api('POST', `/api/buyer/assignments/${assignmentId}/review`, { key, body: { decision: 'reject', feedback: 'Group by component.' } });
  assert.deepEqual([rej.status, rej.body], [200, { ok: true, status: 'REJECTED' }]);
  const heard = await agent.nextType('deliverable_reviewed');
  assert.deepEqual([heard.decision, heard.status, heard.feedback], ['reject', 'REJECTED', 'Group by component.']);

  const sub2 = await agent.request({ type: 'submit_deliverable', assignmentId, contentText: 'v2: grouped by component' });
  assert.deepEqual([sub2.type, sub2.revision], ['ack', 2]);
  const acc = await api('POST', `/api/buyer/assignments/${assignmentId}/review`, { key, body: { decision: 'accept' } });
  assert.deepEqual([acc.status, acc.body], [200, { ok: true, status: 'ACCEPTED' }]);
  assert.equal((await agent.nextType('deliverable_reviewed')).status, 'ACCEPTED');

  const view = await api('GET', `/api/buyer/tasks/${taskId}`, { key });
  assert.equal(view.body.task.status, 'COMPLETED');
  assert.equal(view.body.assignment.status, 'ACCEPTED');
  assert.deepEqual(view.body.deliverable.history.map((h: { revision: number; contentText: string }) => [h.revision, h.contentText]), [
    [1, 'v1: added, changed, fixed'],
    [2, 'v2: grouped by component'],
  ]);

  hub.proc.kill('SIGTERM');
  assert.equal((await agent.closed).code, 1001);
  const exit = await hub.exited;
  assert.ok(exitedCleanly(exit), JSON.stringify(exit));
});
