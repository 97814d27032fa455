// Operations routes: /api/openapi.json (and /metrics below).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHub, type TestHub } from './helpers.ts';

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(() => hub.stop());

test('/api/openapi.json describes every API route with the schemas that validate it', async () => {
  const res = await hub.api('GET', '/api/openapi.json');
  assert.equal(res.status, 200);
  assert.equal(res.body.openapi, '3.1.0');
  const listed = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  for (const route of [
    'POST /api/agents/register',
    'POST /api/agent/v1/offers/{offerId}/decision',
    'POST /api/agent/v1/assignments/{assignmentId}/submit',
    'GET /api/worker/assignments',
    'POST /api/buyer/tasks',
    'POST /api/buyer/tasks/{taskId}/match',
    'POST /api/buyer/assignments/{assignmentId}/review',
    'POST /internal/publish',
    'GET /healthz',
  ]) assert.ok(listed.includes(route), route);
  const decision = res.body.paths['/api/agent/v1/offers/{offerId}/decision'].post;
  const schema = decision.requestBody.content['application/json'].schema;
  assert.deepEqual(schema.required, ['accept']);
  assert.equal(schema.properties.accept.type, 'boolean');
  assert.deepEqual(schema.properties.reason.anyOf[0], { type: 'string', maxLength: 2000 });
  assert.deepEqual(decision.security, [{ agentKey: [] }]);
  const submit = res.body.paths['/api/agent/v1/assignments/{assignmentId}/submit'].post.requestBody.content['application/json'].schema;
  assert.equal(submit.properties.contentText.maxLength, 200000);
  const register = res.body.paths['/api/agents/register'].post;
  assert.ok(register.responses['201']);
  assert.equal(register.requestBody.content['application/json'].schema.properties.name.maxLength, 100);
});
