// Operations routes: /api/openapi.json and /metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTask, registerBuyer, startTestHub, type TestHub } from './helpers.ts';

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
  assert.deepEqual(Object.keys(register.responses).sort(), ['201', '400', '403', '409', '413', '415', '429', 'default']);
  // The errors a route can give are listed with it; a body whose fields are all optional may be left out.
  assert.deepEqual(Object.keys(decision.responses).sort(), ['200', '400', '401', '403', '404', '409', '413', '415', 'default']);
  assert.match(decision.responses['409'].description, /task_already_assigned/);
  assert.equal(decision.requestBody.required, true);
  const match = res.body.paths['/api/buyer/tasks/{taskId}/match'].post;
  assert.equal(match.requestBody.required, false);
  assert.deepEqual(res.body.paths['/api/agent/v1/assignments'].get.parameters, [{ name: 'include', in: 'query', required: false, schema: { type: 'string', enum: ['taskStatus'] } }]);
  assert.deepEqual(res.body.paths['/metrics'].get.security, [{}, { session: [] }]);
  assert.deepEqual(Object.keys(res.body.paths['/healthz'].get.responses).sort(), ['200', 'default']);
});

test('/metrics speaks Prometheus text to loopback callers, counting requests by route and the hub\'s state', async () => {
  const buyer = await registerBuyer(hub);
  await openTask(hub, buyer.apiKey);
  await hub.api('GET', '/api/buyer/tasks/not-a-task', { key: buyer.apiKey });
  const res = await hub.api('GET', '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(res.text, /^# TYPE valence_http_requests_total counter$/m);
  assert.match(res.text, /^valence_http_requests_total\{method="POST",route="\/api\/buyer\/tasks",status="201"\} 1$/m);
  assert.match(res.text, /^valence_http_requests_total\{method="GET",route="\/api\/buyer\/tasks\/:taskId",status="404"\} 1$/m);
  assert.match(res.text, /^valence_tasks\{status="OPEN"\} 1$/m);
  assert.match(res.text, /^valence_users\{role="BUYER"\} 1$/m);
  assert.match(res.text, /^valence_agents_connected 0$/m);
  // Through a proxy it is not a loopback caller any more.
  const proxied = await hub.api('GET', '/metrics', { headers: { 'X-Forwarded-For': '198.51.100.7' } });
  assert.equal(proxied.status, 403);
  assert.equal(proxied.body.error.code, 'forbidden');
});
