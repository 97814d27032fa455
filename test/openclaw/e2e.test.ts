// End to end with the real OpenClaw gateway (openclaw 2026.9.6 on Node 24, installed into a cache folder
// outside the repository on first use): the real hub, the real bridge program, the real gateway with
// hooks enabled and the project's skills/ folder loaded, and a scripted OpenAI-compatible model that
// follows the valence skill. Run with `npm run test:openclaw`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestHub, registerAgent, registerBuyer, openTask, match } from '../helpers.ts';
import { ensureOpenClaw, startGateway } from './harness.ts';
import { ScriptedModel, MODEL_ID, deliverableFor } from './model-server.ts';
import { spawnBridge, waitFor, call } from './kit.ts';

const SKILLS = path.resolve(import.meta.dirname, '..', '..', 'skills');

test('a real OpenClaw agent, following the valence skill, accepts an offer and submits a deliverable through the bridge', { timeout: 15 * 60_000 }, async () => {
  const install = ensureOpenClaw();
  const hub = await startTestHub();
  const model = await new ScriptedModel().start();
  const hooksToken = 'e2e-hooks-token-' + Math.random().toString(36).slice(2);
  const gateway = await startGateway(install, { hooksToken, modelBaseUrl: model.baseUrl, modelId: MODEL_ID, skillDirs: [SKILLS] });
  let bridge: Awaited<ReturnType<typeof spawnBridge>> | null = null;
  try {
    const agent = await registerAgent(hub, { category: 'writing' });
    const buyer = await registerBuyer(hub);
    const bridgeToken = 'e2e-bridge-token-' + Math.random().toString(36).slice(2);
    bridge = await spawnBridge({
      VALENCE_WS_URL: hub.url, // an http base: the bridge derives ws://…/agent-ws
      VALENCE_API_KEY: agent.apiKey,
      OPENCLAW_HOOKS_URL: gateway.hooksUrl,
      OPENCLAW_HOOKS_TOKEN: hooksToken,
      BRIDGE_TOKEN: bridgeToken,
      BRIDGE_STATE_DIR: path.join(gateway.dir, 'bridge-state'),
    });
    const b = bridge;
    const auth = { Authorization: `Bearer ${bridgeToken}` };
    await waitFor(async () => (await call(b.url, 'GET', '/status', { headers: auth })).body?.connected, 'bridge connected to the hub');

    const title = 'Write a haiku about "tide pools"';
    const task = await openTask(hub, buyer.apiKey, { title, description: 'Three lines, 5-7-5. Plain text.', category: 'writing' });
    const [offer] = await match(hub, buyer.apiKey, task.id);
    assert.equal(offer.delivered, true);

    const view = await waitFor(async () => {
      const r = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
      return r.body?.assignment?.status === 'SUBMITTED' ? r : null;
    }, `the agent to submit (model steps so far: ${JSON.stringify(model.steps.map((s) => s.action))})`, 240_000).catch((err) => {
      throw new Error(`${err.message}\nmodel steps: ${JSON.stringify(model.steps, null, 1).slice(0, 4000)}\nbridge log: ${JSON.stringify(b.lines.slice(-20))}\ngateway: ${gateway.output().slice(-3000)}`);
    });

    // The hub shows the task assigned to the agent and the deliverable submitted, exactly as written.
    assert.equal(view.status, 200);
    assert.equal(view.body.task.status, 'ASSIGNED');
    assert.equal(view.body.assignment.workerUserId, agent.userId);
    assert.equal(view.body.assignment.status, 'SUBMITTED');
    assert.equal(view.body.offers.find((o: { id: string }) => o.id === offer.offerId).status, 'ACCEPTED');
    // Exactly what the model wrote: the final line break the skill's heredoc adds is not part of it.
    assert.equal(view.body.deliverable.contentText, deliverableFor(title));
    assert.equal(view.body.deliverable.revision, 1);

    // The agent got there by reading the shipped skill and running its commands.
    // (OpenClaw may also call the model for runs of its own, without the offer; those are left out.)
    const steps = model.steps.filter((s) => s.action !== 'no offer in the conversation');
    assert.deepEqual(steps.slice(0, 3).map((s) => s.action), ['read skill', 'accept', 'submit']);
    assert.equal((steps[0].detail as { path: string }).path, path.join(SKILLS, 'valence', 'SKILL.md'));
    await waitFor(() => model.steps.some((s) => s.action === 'done'), 'the agent to read the submit answer');
    const hookPrompt = JSON.stringify(model.requests.find((r) => JSON.stringify(r.body.messages).includes('New Valence offer'))!.body.messages);
    assert.ok(hookPrompt.includes(offer.offerId), 'the hook message reached the model');
    assert.ok(!hookPrompt.includes(agent.apiKey), 'the hub key never reaches the agent');

    const st = await call(b.url, 'GET', '/status', { headers: auth });
    assert.equal(st.status, 200);
    assert.equal(st.body.connected, true);
    assert.equal(st.body.agentId, agent.agentId);
    assert.equal(st.body.handedOver, 1);
    assert.equal(st.body.waiting, 0);
    assert.ok(b.lines.some((l) => l.msg === 'offer handed to OpenClaw' && l.offerId === offer.offerId));

    // The buyer cancels the task: the bridge tells the agent through the real /hooks/wake.
    const cancelled = await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey, body: {} });
    assert.equal(cancelled.status, 200);
    await waitFor(() => b.lines.find((l) => l.msg === 'told OpenClaw' && l.event === 'task_cancelled'), 'the cancel notice accepted by OpenClaw', 30_000);
    assert.equal(b.lines.some((l) => l.msg === 'OpenClaw refused the notice'), false);
  } finally {
    if (bridge) await bridge.stop();
    await gateway.stop();
    await model.stop();
    await hub.stop();
  }
});
