// The bridge against the real hub and a stand-in OpenClaw that speaks OpenClaw's hook wire format.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { registerAgent, registerBuyer, openTask, match, tempDir } from './helpers.ts';
import { OpenClawStandIn } from './openclaw/stand-in.ts';
import { RestartableHub, Relay, startTestBridge, waitFor, call, rawRequest } from './openclaw/kit.ts';

const HOOKS_TOKEN = 'hooks-token-for-tests-0123456789';

async function setup(opts: { bridgeToken?: string; agentId?: string; hooksToken?: string; link?: Record<string, number>; wsUrl?: (hub: RestartableHub) => Promise<string> } = {}) {
  const hub = await new RestartableHub().start();
  const oc = await new OpenClawStandIn(HOOKS_TOKEN).start();
  const agent = await registerAgent(hub.hub, { category: 'writing' });
  const buyer = await registerBuyer(hub.hub);
  // The state folder outlives each bridge, so that restart() starts the next one on it.
  const scratch = tempDir('valence-bridge-state-');
  const stateDir = path.join(scratch, 'state');
  const cfg = {
    wsUrl: opts.wsUrl ? await opts.wsUrl(hub) : hub.gatewayUrl,
    apiKey: agent.apiKey,
    hooksUrl: oc.hooksUrl,
    hooksToken: opts.hooksToken ?? HOOKS_TOKEN,
    token: opts.bridgeToken ?? '',
    agentId: opts.agentId ?? '',
    stateDir,
  };
  const bridges = [await startTestBridge(cfg, { link: opts.link })];
  /** Stops the bridge (if it still runs) and starts a new one on the same state folder, as a restart of the program. */
  const restart = async () => {
    await bridges[bridges.length - 1].close();
    bridges.push(await startTestBridge(cfg, { link: opts.link }));
    return bridges[bridges.length - 1];
  };
  const cleanup = async () => {
    for (const b of bridges) await b.close();
    await oc.stop();
    await hub.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  };
  /** A published task matched to the agent; waits until OpenClaw has admitted its offer. */
  const offered = async (fields: Record<string, unknown> = {}) => {
    const before = admittedCalls(oc).length;
    const task = await openTask(hub.hub, buyer.apiKey, { category: 'writing', ...fields });
    const offers = await match(hub.hub, buyer.apiKey, task.id);
    const offer = offers.find((o) => o.workerUserId === agent.userId)!;
    await waitFor(() => admittedCalls(oc).length === before + 1, 'hand-over');
    // OpenClaw has answered; wait until the bridge has recorded it too.
    await recorded(bridges[bridges.length - 1], offer.offerId);
    return { task, offers, offer };
  };
  return { hub, oc, agent, buyer, bridge: bridges[0], stateDir, restart, cleanup, offered };
}

/** A test on its own set-up (hub, stand-in OpenClaw, bridge), cleaned up afterwards. */
async function withSetup(opts: Parameters<typeof setup>[0], fn: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>) {
  const s = await setup(opts);
  try {
    await fn(s);
  } finally {
    await s.cleanup();
  }
}

/** Waits until the bridge has recorded OpenClaw's 200 for the offer (the stand-in counts it when it answers, a moment before). */
const recorded = (bridge: { lines: Record<string, unknown>[] }, offerId: string) =>
  waitFor(() => bridge.lines.some((l) => l.msg === 'offer handed to OpenClaw' && l.offerId === offerId), `the bridge to record the hand-over of ${offerId}`);

const agentCalls = (oc: OpenClawStandIn) => oc.calls.filter((c) => c.path === '/hooks/agent');
const admittedCalls = (oc: OpenClawStandIn) => agentCalls(oc).filter((c) => c.status === 200);

test('an offer is handed to OpenClaw once, in OpenClaw\'s hook format, naming the skill and never the hub key', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const st = await s.bridge.api('GET', '/status');
  assert.equal(st.status, 200);
  assert.deepEqual({ ...st.body, lastError: null }, { ok: true, connected: true, agentId: s.agent.agentId, handedOver: 0, waiting: 0, lastError: null, handOversPaused: false });

  const task = await openTask(s.hub.hub, s.buyer.apiKey, { title: 'Summarise "Moby-Dick"', description: 'Three paragraphs, plain English.\nMention the whale.', category: 'writing' });
  const [offer] = await match(s.hub.hub, s.buyer.apiKey, task.id);
  assert.equal(offer.delivered, true);
  await waitFor(() => admittedCalls(s.oc).length === 1, 'hand-over');

  const hook = admittedCalls(s.oc)[0];
  assert.equal(hook.headers.authorization, `Bearer ${HOOKS_TOKEN}`);
  assert.match(String(hook.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(hook.body).sort(), ['deliver', 'idempotencyKey', 'message', 'name', 'wakeMode']);
  assert.equal(hook.body.name, 'Valence');
  assert.equal(hook.body.wakeMode, 'now');
  assert.equal(hook.body.deliver, false);
  assert.equal(hook.body.idempotencyKey, offer.offerId);
  const message = String(hook.body.message);
  for (const part of [offer.offerId, task.id, 'Summarise "Moby-Dick"', 'Mention the whale.', 'writing', '"valence" skill', `${s.bridge.url}/valence-decide`, `${s.bridge.url}/valence-submit`, 'Bridge token: none']) {
    assert.ok(message.includes(part), `message should include ${part}:\n${message}`);
  }
  assert.ok(!message.includes(s.agent.apiKey) && !message.includes('hc_agent_'), 'the hub key never reaches the agent');
  assert.ok(!message.includes(HOOKS_TOKEN));

  await recorded(s.bridge, offer.offerId);
  const after = await s.bridge.api('GET', '/status');
  assert.equal(after.status, 200);
  assert.equal(after.body.handedOver, 1);
  assert.equal(after.body.waiting, 0);
  assert.equal(after.text.includes(s.agent.apiKey) || after.text.includes(HOOKS_TOKEN), false);
  assert.equal(s.bridge.raw.some((l) => l.includes(s.agent.apiKey) || l.includes(HOOKS_TOKEN)), false, 'no secret in the log');
  // On disk, atomically written, and without secrets either.
  const onDisk = JSON.parse(fs.readFileSync(path.join(s.bridge.cfg.stateDir, 'offers.json'), 'utf8'));
  assert.equal(onDisk.offers[offer.offerId].status, 'handed_over');
  assert.equal(onDisk.handedOverTotal, 1);
}));

test('the agent accepts and submits through the local API; the hub\'s answers come back with their status', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const { task, offer } = await s.offered();

  const unknown = await s.bridge.api('POST', '/valence-decide', { body: { offerId: 'no-such-offer', accept: true } });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { ok: false, error: { code: 'offer_not_found', message: unknown.body.error.message } });
  // An agent that pastes the hub key where the offer id goes: relayed and refused, never logged.
  const pasted = await s.bridge.api('POST', '/valence-decide', { body: { offerId: s.agent.apiKey, accept: true } });
  assert.equal(pasted.status, 404);
  assert.equal(pasted.body.error.code, 'offer_not_found');
  await waitFor(() => s.bridge.lines.some((l) => l.msg === 'decision relayed' && l.offerId === 'hc_agent_…'), 'the relay logged with the key cut to its prefix');
  assert.equal(s.bridge.raw.some((l) => l.includes(s.agent.apiKey.slice('hc_agent_'.length))), false, 'no key in the bridge log');

  const bad = await s.bridge.api('POST', '/valence-decide', { body: { offerId: offer.offerId, accept: 'yes' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_body');
  assert.deepEqual(bad.body.error.issues.map((i: { path: string }) => i.path), ['accept']);

  const accepted = await s.bridge.api('POST', '/valence-decide', { body: { offerId: offer.offerId, accept: true } });
  assert.equal(accepted.status, 200);
  assert.equal(accepted.body.ok, true);
  assert.equal(accepted.body.accept, true);
  assert.equal(typeof accepted.body.assignmentId, 'string');
  assert.equal('type' in accepted.body || 'requestId' in accepted.body, false);

  const again = await s.bridge.api('POST', '/valence-decide', { body: { offerId: offer.offerId, accept: true } });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, accepted.body);

  const text = 'Line one with "quotes" and \'apostrophes\'.\nLine two: $HOME `ls` \\ backslash — ünïcödé ✓\n';
  const submitted = await s.bridge.api('POST', `/valence-submit?assignmentId=${accepted.body.assignmentId}`, { raw: text, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  assert.equal(submitted.status, 200);
  assert.deepEqual(submitted.body, { ok: true, assignmentId: accepted.body.assignmentId, status: 'SUBMITTED', revision: 1 });

  const twice = await s.bridge.api('POST', '/valence-submit', { body: { assignmentId: accepted.body.assignmentId, contentText: 'again' } });
  assert.equal(twice.status, 400);
  assert.equal(twice.body.ok, false);
  assert.equal(twice.body.error.code, 'not_submittable');

  const view = await s.hub.hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: s.buyer.apiKey });
  assert.equal(view.status, 200);
  assert.equal(view.body.task.status, 'ASSIGNED');
  assert.equal(view.body.assignment.status, 'SUBMITTED');
  // One final line break is dropped from a text/plain deliverable (the heredoc the skill uses ends with one).
  assert.equal(view.body.deliverable.contentText, text.slice(0, -1));

  const empty = await s.bridge.api('POST', '/valence-submit', { body: { assignmentId: accepted.body.assignmentId } });
  assert.equal(empty.status, 400);
  assert.deepEqual(empty.body.error.issues.map((i: { path: string }) => i.path), ['contentText']);

  // The buyer rejects: the agent is handed the feedback, and can resubmit through the bridge.
  const review = await s.hub.hub.api('POST', `/api/buyer/assignments/${accepted.body.assignmentId}/review`, { key: s.buyer.apiKey, body: { decision: 'reject', feedback: 'Please add a title line.' } });
  assert.equal(review.status, 200);
  const back = await waitFor(() => admittedCalls(s.oc)[1], 'the rejection handed to the agent');
  const msg = String(back.body.message);
  assert.ok(msg.includes(`Assignment id: ${accepted.body.assignmentId}`) && msg.includes('Please add a title line.') && msg.includes('"valence" skill'), msg);
  const resubmitted = await s.bridge.api('POST', '/valence-submit', { body: { assignmentId: accepted.body.assignmentId, contentText: 'Title\n' + text } });
  assert.equal(resubmitted.status, 200);
  assert.equal(resubmitted.body.revision, 2);
  const revised = await s.hub.hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: s.buyer.apiKey });
  assert.equal(revised.body.deliverable.contentText, 'Title\n' + text, 'a JSON contentText is kept exactly, final line break included');

  // A decline's reason is judged by the hub, in its own characters: 2000 emoji are 4000 UTF-16 units.
  const next = await s.offered();
  const long = await s.bridge.api('POST', '/valence-decide', { body: { offerId: next.offer.offerId, accept: false, reason: '😀'.repeat(2001) } });
  assert.equal(long.status, 400);
  assert.deepEqual(long.body.error.issues, [{ path: 'reason', message: 'must be at most 2000 characters' }]);
  const emoji = await s.bridge.api('POST', '/valence-decide', { body: { offerId: next.offer.offerId, accept: false, reason: '😀'.repeat(2000) } });
  assert.equal(emoji.status, 200, emoji.text);
  assert.deepEqual(emoji.body, { ok: true, accept: false });
}));

test('the local API: bridge token, no web pages, 404/405/415, and 503 hub_unavailable while the hub link is down', () => withSetup({ bridgeToken: 'bridge-secret-token-123' }, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const auth = { Authorization: 'Bearer bridge-secret-token-123' };
  const cases: [string, string, Parameters<typeof call>[3], number, string][] = [
    ['GET', '/status', {}, 401, 'unauthorized'],
    ['GET', '/status', { headers: { Authorization: 'Bearer wrong' } }, 401, 'unauthorized'],
    ['GET', '/status', { headers: { ...auth, Origin: 'https://evil.example' } }, 403, 'forbidden'],
    ['GET', '/nope', { headers: auth }, 404, 'not_found'],
    ['GET', '/valence-decide', { headers: auth }, 405, 'method_not_allowed'],
    ['POST', '/valence-decide', { headers: { ...auth, 'Content-Type': 'text/plain' }, raw: '{}' }, 415, 'unsupported_media_type'],
    ['POST', '/valence-decide', { headers: { ...auth, 'Content-Type': 'application/json' }, raw: '{nope' }, 400, 'invalid_json'],
  ];
  for (const [method, route, init, status, code] of cases) {
    const res = await s.bridge.api(method, route, init);
    assert.equal(res.status, status, `${method} ${route} ${JSON.stringify(init)}`);
    assert.equal(res.body.ok, false);
    assert.equal(res.body.error.code, code, `${method} ${route}`);
  }
  const rebound = await rawRequest(s.bridge.url, 'GET', '/status', { ...auth, Host: 'evil.example:4021' });
  assert.equal(rebound.status, 403, 'a page on another name resolving to 127.0.0.1 (DNS rebinding) is refused');
  assert.equal(rebound.body.error.code, 'forbidden');
  const localName = await rawRequest(s.bridge.url, 'GET', '/status', { ...auth, Host: `localhost:${new URL(s.bridge.url).port}` });
  assert.equal(localName.status, 200);
  // What Node's HTTP parser refuses is answered in the same JSON shape.
  const unknownMethod = await rawRequest(s.bridge.url, 'FOO', '/status', auth);
  assert.deepEqual([unknownMethod.status, unknownMethod.body], [501, { ok: false, error: { code: 'method_not_implemented', message: 'The bridge does not know that request method.' } }]);
  const bigHeaders = await rawRequest(s.bridge.url, 'GET', '/status', { ...auth, 'X-Big': 'a'.repeat(20_000) });
  assert.deepEqual([bigHeaders.status, bigHeaders.body?.error?.code], [431, 'headers_too_large']);
  // Request targets that are no path: 400, and the bridge keeps running (the status below).
  for (const target of ['//[', 'http://[', 'http://x:99999/']) {
    const odd = await rawRequest(s.bridge.url, 'GET', target, {});
    assert.equal(odd.status, 400, target);
    assert.deepEqual(odd.body, { ok: false, error: { code: 'bad_request', message: 'The request target is not a path; the bridge serves POST /valence-decide, POST /valence-submit and GET /status.' } });
  }
  const ok = await s.bridge.api('GET', '/status', { headers: auth });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.connected, true);

  const task = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
  const [offer] = await match(s.hub.hub, s.buyer.apiKey, task.id);
  await waitFor(() => admittedCalls(s.oc).length === 1, 'hand-over');
  assert.ok(String(admittedCalls(s.oc)[0].body.message).includes('Bridge token: bridge-secret-token-123'));

  await s.hub.halt();
  await waitFor(() => !s.bridge.status().connected, 'link down');
  const down = await s.bridge.api('POST', '/valence-decide', { headers: auth, body: { offerId: offer.offerId, accept: true } });
  assert.equal(down.status, 503);
  assert.equal(down.headers.get('retry-after'), '5');
  assert.equal(down.body.error.code, 'hub_unavailable');
  assert.match(down.body.error.message, /not connected to the hub/);
  const st = await s.bridge.api('GET', '/status', { headers: auth });
  assert.equal(st.body.connected, false);
  assert.equal(st.body.lastError.source, 'hub');

  await s.hub.start();
  await waitFor(() => s.bridge.status().connected, 'link back');
  const up = await s.bridge.api('POST', '/valence-decide', { headers: auth, body: { offerId: offer.offerId, accept: true } });
  assert.equal(up.status, 200);
  assert.equal(up.body.accept, true);
}));

test('a key the hub refuses: the bridge says so loudly, keeps retrying with backoff, and answers 503 meanwhile', async () => {
  const hub = await new RestartableHub().start();
  const oc = await new OpenClawStandIn(HOOKS_TOKEN).start();
  const bridge = await startTestBridge({ wsUrl: hub.gatewayUrl, apiKey: 'hc_agent_' + 'x'.repeat(43), hooksUrl: oc.hooksUrl, hooksToken: HOOKS_TOKEN });
  try {
    await waitFor(() => bridge.link.failures >= 3, 'several refused attempts');
    const refused = bridge.lines.filter((l) => l.level === 'error' && l.closeCode === 4401);
    assert.ok(refused.length >= 3);
    assert.match(String(refused[0].reason), /the hub refused the agent key \(unauthorized/);
    const st = await bridge.api('GET', '/status');
    assert.equal(st.status, 200);
    assert.equal(st.body.connected, false);
    assert.equal(st.body.agentId, null);
    assert.match(st.body.lastError.message, /refused the agent key/);
    const decide = await bridge.api('POST', '/valence-decide', { body: { offerId: 'x', accept: true } });
    assert.equal(decide.status, 503);
    assert.equal(decide.body.error.code, 'hub_unavailable');
    assert.equal(bridge.raw.some((l) => l.includes('x'.repeat(43))), false, 'the key is not logged');
  } finally {
    await bridge.close();
    await oc.stop();
    await hub.stop();
  }
});

test('hub restarts: the bridge reconnects by itself with backoff, and the replay does not hand an offer over twice', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const { task, offer } = await s.offered();

  for (let round = 0; round < 2; round++) {
    await s.hub.halt();
    await waitFor(() => !s.bridge.status().connected, 'link down');
    // While the hub is away the bridge keeps trying, further apart each time.
    await waitFor(() => s.bridge.link.failures >= 3, 'several reconnect attempts');
    const before = s.bridge.lines.filter((l) => l.msg === 'hub link up').length;
    await s.hub.start();
    await waitFor(() => s.bridge.lines.filter((l) => l.msg === 'hub link up').length > before, 'link back');
  }
  const delays = s.bridge.lines.filter((l) => l.msg === 'could not connect to the hub; retrying').map((l) => Number(l.retryInMs));
  assert.ok(delays.length >= 3);
  assert.ok(delays.every((d) => d >= 25 && d <= 400), `delays within [min/2, cap]: ${delays}`);

  // The hub replayed the still-pending offer on each reconnect; OpenClaw saw it once.
  const replayed = await waitFor(async () => {
    const r = await s.hub.hub.api('GET', '/api/agent/v1/offers?status=PENDING', { key: s.agent.apiKey });
    return r.status === 200 && r.body.offers.length === 1 ? r : null;
  }, 'offer still pending');
  assert.equal(replayed.body.offers[0].id ?? replayed.body.offers[0].offerId, offer.offerId);
  assert.equal(agentCalls(s.oc).length, 1);
  assert.equal(s.bridge.status().handedOver, 1);

  // A new offer after the restarts still flows.
  const task2 = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
  const [offer2] = await match(s.hub.hub, s.buyer.apiKey, task2.id);
  await waitFor(() => admittedCalls(s.oc).length === 2, 'second hand-over');
  assert.equal(admittedCalls(s.oc)[1].body.idempotencyKey, offer2.offerId);
}));

test('a dead link is found by the heartbeat and replaced without a person', async () => {
  let relay: Relay | null = null;
  const s = await setup({
    link: { pingEveryMs: 100, pongTimeoutMs: 200, connectTimeoutMs: 300 },
    // An http:// base: the bridge derives ws://…/agent-ws from it.
    wsUrl: async (hub) => {
      relay = await new Relay(hub.wsPort).start();
      return `http://127.0.0.1:${relay.port}`;
    },
  });
  const r = relay as unknown as Relay;
  try {
    await waitFor(() => s.bridge.status().connected, 'hub link through the relay');
    r.frozen = true; // packets vanish, nothing closes
    await waitFor(() => !s.bridge.status().connected, 'dead link noticed', 3_000);
    assert.ok(s.bridge.lines.some((l) => l.msg === 'hub missed a heartbeat; dropping the link'));
    r.frozen = false;
    await waitFor(() => s.bridge.status().connected, 'new link', 5_000);
    assert.ok(r.accepted >= 2);
    const task = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
    await match(s.hub.hub, s.buyer.apiKey, task.id);
    await waitFor(() => admittedCalls(s.oc).length === 1, 'hand-over over the new link');
  } finally {
    await s.cleanup();
    await r.stop();
  }
});

test('OpenClaw down or answering 5xx: the offer waits and is retried with backoff until OpenClaw takes it, once', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const port = s.oc.port;
  await s.oc.stop();
  const task = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
  const [offer] = await match(s.hub.hub, s.buyer.apiKey, task.id);
  await waitFor(() => s.bridge.lines.filter((l) => l.msg === 'OpenClaw did not take the offer; will retry').length >= 3, 'retries while OpenClaw is down');
  // The backoff starts at minBackoffMs (50 ms here) and doubles, with jitter in the upper half of each step.
  const retries = s.bridge.lines.filter((l) => l.msg === 'OpenClaw did not take the offer; will retry').slice(0, 3);
  assert.deepEqual(retries.map((l) => l.attempt), [1, 2, 3]);
  retries.forEach((l, i) => {
    const base = 50 * 2 ** i;
    assert.ok(Number(l.retryInMs) >= base / 2 && Number(l.retryInMs) <= base, `retry ${i + 1} after ${l.retryInMs} ms, within [${base / 2}, ${base}]`);
  });
  const st = await s.bridge.api('GET', '/status');
  assert.equal(st.status, 200);
  assert.equal(st.body.waiting, 1);
  assert.equal(st.body.handedOver, 0);
  assert.equal(st.body.lastError.source, 'openclaw');
  assert.match(st.body.lastError.message, /unreachable/);

  s.oc.failNext(2, 503);
  await s.oc.start(port);
  await waitFor(() => admittedCalls(s.oc).length === 1, 'hand-over after OpenClaw came back');
  assert.deepEqual(agentCalls(s.oc).map((c) => c.status), [503, 503, 200]);
  assert.equal(admittedCalls(s.oc)[0].body.idempotencyKey, offer.offerId);
  await recorded(s.bridge, offer.offerId);
  const after = await s.bridge.api('GET', '/status');
  assert.equal(after.body.waiting, 0);
  assert.equal(after.body.handedOver, 1);

  // 429 waits for Retry-After.
  s.oc.failNext(1, 429, 1);
  const task2 = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
  await match(s.hub.hub, s.buyer.apiKey, task2.id);
  await waitFor(() => admittedCalls(s.oc).length === 2, 'hand-over after 429', 5_000);
  const calls = agentCalls(s.oc);
  const limited = calls[calls.length - 2];
  assert.equal(limited.status, 429);
  const waited = s.bridge.lines.find((l) => l.msg === 'OpenClaw did not take the offer; will retry' && String(l.detail).startsWith('HTTP 429'));
  assert.equal(waited?.retryInMs, 1000);

  // Retry-After: 0 is no tight loop: each retry waits at least the first backoff step (50 ms here).
  s.oc.failNext(2, 429, 0);
  const task3 = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
  await match(s.hub.hub, s.buyer.apiKey, task3.id);
  await waitFor(() => admittedCalls(s.oc).length === 3, 'hand-over after two 429s', 5_000);
  const zero = s.bridge.lines.filter((l) => l.msg === 'OpenClaw did not take the offer; will retry' && String(l.detail).startsWith('HTTP 429')).slice(1);
  assert.deepEqual(zero.map((l) => l.retryInMs), [50, 50]);
}));

test('an offer withdrawn while OpenClaw is still answering its hand-over: once OpenClaw takes it, the agent is told', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  for (const how of ['cancel', 'withdraw'] as const) {
    const held = s.oc.holdNext();
    const wakes = s.oc.wakes.length;
    const task = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing', title: `Held ${how}` });
    const offers = await match(s.hub.hub, s.buyer.apiKey, task.id, 1000);
    await held.arrived; // the hand-over request is in flight, unanswered
    if (how === 'cancel') {
      const res = await s.hub.hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: s.buyer.apiKey, body: {} });
      assert.equal(res.status, 200, res.text);
    } else {
      // Another agent wins the task: the bridge's offer is withdrawn.
      const rival = await registerAgent(s.hub.hub, { category: 'writing' });
      const more = await match(s.hub.hub, s.buyer.apiKey, task.id, 1000);
      const theirs = more.find((o) => o.workerUserId === rival.userId)!;
      const won = await s.hub.hub.api('POST', `/api/agent/v1/offers/${theirs.offerId}/decision`, { key: rival.apiKey, body: { accept: true } });
      assert.equal(won.status, 200, won.text);
    }
    await waitFor(() => s.bridge.lines.some((l) => l.msg === (how === 'cancel' ? 'task cancelled' : 'offer withdrawn') && (l.taskId === task.id || l.offerId === offers[0].offerId)), `the bridge heard of the ${how}`);
    assert.equal(s.oc.wakes.length, wakes, 'nothing to tell before OpenClaw has the offer');
    held.release();
    const wake = await waitFor(() => s.oc.wakes[wakes], `the ${how} told to the agent after the late hand-over`);
    assert.equal(wake.status, 200);
    assert.equal(s.oc.wakes.length, wakes + 1, 'told once');
    const why = how === 'cancel' ? 'the buyer cancelled the task' : 'another worker took the task';
    assert.equal(String(wake.body.text), `Valence: offer ${offers[0].offerId} ("Held ${how}") is no longer available (${why}). Stop any work on it; do not accept or submit for it.`);
  }
  const st = await s.bridge.api('GET', '/status');
  assert.deepEqual([st.status, st.body.handedOver, st.body.waiting], [200, 2, 0], 'both late hand-overs counted, none left waiting');
}));

test('a rejection while OpenClaw is down is kept on disk and retried until OpenClaw takes it, across a restart of the bridge', async () => {
  const s = await setup();
  const stateDir = s.stateDir;
  try {
    await waitFor(() => s.bridge.status().connected, 'hub link');
    const { offer } = await s.offered();
    const acc = await s.bridge.api('POST', '/valence-decide', { body: { offerId: offer.offerId, accept: true } });
    assert.equal(acc.status, 200, JSON.stringify(acc.body));
    const assignmentId = acc.body.assignmentId as string;
    assert.equal((await s.bridge.api('POST', '/valence-submit', { body: { assignmentId, contentText: 'draft' } })).status, 200);

    const port = s.oc.port;
    await s.oc.stop();
    const review = await s.hub.hub.api('POST', `/api/buyer/assignments/${assignmentId}/review`, { key: s.buyer.apiKey, body: { decision: 'reject', feedback: 'Cite your sources.' } });
    assert.equal(review.status, 200, review.text);
    const retryLines = () => s.bridge.lines.filter((l) => l.msg === 'OpenClaw did not take the notice; will retry');
    // More tries than the five the bridge used to make before it dropped the notice.
    await waitFor(() => retryLines().length >= 6, 'the notice retried while OpenClaw is down');
    assert.equal(retryLines()[0].assignmentId, assignmentId);
    const onDisk = () => Object.values(JSON.parse(fs.readFileSync(path.join(stateDir, 'offers.json'), 'utf8')).notices ?? {}) as { key: string; hook: string; text: string }[];
    const [kept] = onDisk();
    assert.equal(onDisk().length, 1);
    assert.equal(kept.hook, 'agent');
    assert.ok(kept.text.includes(`Assignment id: ${assignmentId}`) && kept.text.includes('Cite your sources.'), kept.text);
    const st = await s.bridge.api('GET', '/status');
    assert.equal(st.body.lastError.source, 'openclaw');

    // The bridge stops and starts again on the same state folder, with OpenClaw back.
    await s.bridge.close();
    await s.oc.start(port);
    await s.restart();
    const told = await waitFor(() => admittedCalls(s.oc).find((c) => String(c.body.message).includes('Cite your sources.')), 'the rejection handed to the agent after the restart');
    assert.equal(told.body.idempotencyKey, kept.key);
    assert.ok(String(told.body.message).includes(`Assignment id: ${assignmentId}`));
    await waitFor(() => onDisk().length === 0, 'the delivered notice forgotten');
    assert.equal(admittedCalls(s.oc).filter((c) => String(c.body.message).includes('Cite your sources.')).length, 1, 'told once');
  } finally {
    await s.cleanup();
  }
});

test('an offer cancelled while the bridge was away: after it reconnects, the agent is told and the record forgotten', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const gone = await s.offered({ title: 'Cancelled while away' });
  const kept = await s.offered({ title: 'Still open' });
  const admitted = admittedCalls(s.oc).length;
  await s.bridge.close();
  const cancel = await s.hub.hub.api('POST', `/api/buyer/tasks/${gone.task.id}/cancel`, { key: s.buyer.apiKey, body: {} });
  assert.equal(cancel.status, 200, cancel.text);

  const again = await s.restart();
  const wake = await waitFor(() => s.oc.wakes.find((w) => String(w.body.text).includes(gone.offer.offerId)), 'the agent told after the reconnect');
  assert.equal(wake.status, 200);
  assert.equal(
    String(wake.body.text),
    `Valence: offer ${gone.offer.offerId} ("Cancelled while away") is no longer available (withdrawn, cancelled or expired while the bridge was away from the hub). Stop any work on it and do not accept it; if you had already accepted it and hold its assignment id, carry on with that assignment.`,
  );
  const onDisk = JSON.parse(fs.readFileSync(path.join(s.stateDir, 'offers.json'), 'utf8')).offers;
  assert.deepEqual(Object.keys(onDisk), [kept.offer.offerId], 'the cancelled offer forgotten, the open one kept');
  assert.equal(onDisk[kept.offer.offerId].status, 'handed_over');
  assert.equal(s.oc.wakes.filter((w) => String(w.body.text).includes(kept.offer.offerId)).length, 0, 'nothing said of the open offer');
  assert.equal(admittedCalls(s.oc).length, admitted, 'the replayed open offer is not handed over again');
  assert.deepEqual((await again.api('GET', '/status')).body.waiting, 0);
}));

test('a deliverable rejected while the bridge was away: after it reconnects, the agent is handed the feedback, once', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const { offer } = await s.offered({ title: 'Rejected while away' });
  const accepted = await s.bridge.api('POST', '/valence-decide', { body: { offerId: offer.offerId, accept: true } });
  assert.equal(accepted.status, 200, accepted.text);
  const assignmentId = accepted.body.assignmentId as string;
  const submitted = await s.bridge.api('POST', '/valence-submit', { body: { assignmentId, contentText: 'A first draft.' } });
  assert.equal(submitted.status, 200, submitted.text);
  const before = admittedCalls(s.oc).length;
  await s.bridge.close();
  const review = await s.hub.hub.api('POST', `/api/buyer/assignments/${assignmentId}/review`, { key: s.buyer.apiKey, body: { decision: 'reject', feedback: 'Add the sources.' } });
  assert.deepEqual([review.status, review.body], [200, { ok: true, status: 'REJECTED' }]);

  const again = await s.restart();
  const back = await waitFor(() => admittedCalls(s.oc)[before], 'the rejection handed to the agent after the reconnect');
  const msg = String(back.body.message);
  assert.ok(msg.includes(`Assignment id: ${assignmentId}`) && msg.includes('Add the sources.') && msg.includes('"valence" skill'), msg);
  // A second reconnect does not hand it over again (once the bridge has recorded OpenClaw's 200: a
  // notice whose answer a stop cut off is sent again, by design).
  await waitFor(() => again.lines.some((l) => l.msg === 'told OpenClaw' && l.assignmentId === assignmentId), 'the bridge to record the notice as taken');
  await again.close();
  const third = await s.restart();
  await waitFor(() => third.status().connected, 'hub link after the second restart');
  // Frames arrive in order: once the answer to a ping is in, every frame sent after auth_ok was read.
  const pong = await third.link.request({ type: 'ping' });
  assert.equal(pong.ok, true);
  assert.equal(third.lines.filter((l) => l.msg === 'deliverable reviewed').length, 0, 'the review is not sent again');
  assert.equal(again.lines.filter((l) => l.msg === 'deliverable reviewed').length, 1);
  assert.equal(admittedCalls(s.oc).length, before + 1, 'handed over once');
}));

test('a wrong hooks token pauses hand-overs loudly instead of hammering; another 4xx gives that offer up', async () => {
  const s = await setup({ hooksToken: 'not-the-hooks-token' });
  try {
    await waitFor(() => s.bridge.status().connected, 'hub link');
    const t1 = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
    await match(s.hub.hub, s.buyer.apiKey, t1.id);
    await waitFor(() => s.bridge.status().handOversPaused, 'pause');
    const st = await s.bridge.api('GET', '/status');
    assert.equal(st.status, 200);
    assert.equal(st.body.handOversPaused, true);
    assert.equal(st.body.waiting, 1);
    assert.match(st.body.lastError.message, /hooks token/);
    assert.ok(!st.text.includes('not-the-hooks-token'));
    assert.ok(s.bridge.lines.some((l) => l.level === 'error' && /REFUSED THE HOOKS TOKEN/.test(l.msg)));

    const t2 = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
    await match(s.hub.hub, s.buyer.apiKey, t2.id);
    await waitFor(() => s.bridge.status().waiting === 2, 'second offer recorded');
    assert.deepEqual(agentCalls(s.oc).map((c) => c.status), [401], 'one refused request, then a pause');
  } finally {
    await s.cleanup();
  }

  const r = await setup({ agentId: 'no-such-agent' });
  try {
    await waitFor(() => r.bridge.status().connected, 'hub link');
    const t = await openTask(r.hub.hub, r.buyer.apiKey, { category: 'writing' });
    await match(r.hub.hub, r.buyer.apiKey, t.id);
    await waitFor(() => r.bridge.lines.some((l) => /REJECTED THE OFFER/.test(l.msg)), 'loud give-up');
    assert.deepEqual(agentCalls(r.oc).map((c) => [c.status, c.body.agentId]), [[400, 'no-such-agent']]);
    const st = await r.bridge.api('GET', '/status');
    assert.equal(st.body.waiting, 0);
    assert.match(st.body.lastError.message, /unknown agentId/);
    // A replay after a reconnect does not try it again.
    await r.hub.halt();
    await waitFor(() => !r.bridge.status().connected, 'down');
    const ups = r.bridge.lines.filter((l) => l.msg === 'hub link up').length;
    await r.hub.start();
    await waitFor(() => r.bridge.lines.filter((l) => l.msg === 'hub link up').length > ups, 'up again');
    const t2 = await openTask(r.hub.hub, r.buyer.apiKey, { category: 'writing' });
    await match(r.hub.hub, r.buyer.apiKey, t2.id);
    await waitFor(() => agentCalls(r.oc).length === 2, 'the new offer tried');
    assert.equal(agentCalls(r.oc)[1].body.idempotencyKey !== agentCalls(r.oc)[0].body.idempotencyKey, true);
  } finally {
    await r.cleanup();
  }
});

test('any 4xx but 401, 403 and 429 gives that one offer up, loudly, and the next offer goes over', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  for (const status of [404, 408, 409, 422]) {
    s.oc.failNext(1, status);
    const before = agentCalls(s.oc).length;
    const t = await openTask(s.hub.hub, s.buyer.apiKey, { category: 'writing' });
    const [offer] = await match(s.hub.hub, s.buyer.apiKey, t.id);
    await waitFor(() => s.bridge.lines.some((l) => l.msg === 'OPENCLAW REJECTED THE OFFER: given up, fix the set-up' && l.offerId === offer.offerId), `HTTP ${status} gives the offer up`);
    // (the stand-in answers a forced status before it reads the body, so the call records no body)
    assert.deepEqual(agentCalls(s.oc).slice(before).map((c) => c.status), [status], `HTTP ${status}: one request, no retry`);
    const st = await s.bridge.api('GET', '/status');
    assert.deepEqual([st.body.waiting, st.body.handOversPaused], [0, false]);
    assert.match(st.body.lastError.message, new RegExp(`HTTP ${status}`));
  }
  const next = await s.offered();
  assert.equal(admittedCalls(s.oc).at(-1)!.body.idempotencyKey, next.offer.offerId);
}));

test('withdrawn and cancelled offers: OpenClaw is told through /hooks/wake, and the bridge forgets them', () => withSetup({}, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const rival = await registerAgent(s.hub.hub, { category: 'writing' });
  const task = await openTask(s.hub.hub, s.buyer.apiKey, { title: 'Contested task', category: 'writing' });
  const offers = await match(s.hub.hub, s.buyer.apiKey, task.id);
  const rivalOffer = offers.find((o) => o.workerUserId === rival.userId)!;
  const ours = offers.find((o) => o.workerUserId === s.agent.userId)!;
  await waitFor(() => admittedCalls(s.oc).length === 1, 'hand-over');
  const won = await s.hub.hub.api('POST', `/api/agent/v1/offers/${rivalOffer.offerId}/decision`, { key: rival.apiKey, body: { accept: true } });
  assert.equal(won.status, 200);
  const wake = await waitFor(() => s.oc.wakes[0], 'wake for the withdrawn offer');
  assert.equal(wake.status, 200);
  assert.equal(wake.headers.authorization, `Bearer ${HOOKS_TOKEN}`);
  assert.equal(wake.body.mode, 'now');
  assert.match(String(wake.body.text), new RegExp(`offer ${ours.offerId}.*Contested task.*another worker took the task`));
  assert.equal(s.bridge.store.get(ours.offerId), undefined);
  const late = await s.bridge.api('POST', '/valence-decide', { body: { offerId: ours.offerId, accept: true } });
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'task_already_assigned');

  const task2 = await openTask(s.hub.hub, s.buyer.apiKey, { title: 'Soon cancelled', category: 'writing' });
  await match(s.hub.hub, s.buyer.apiKey, task2.id);
  await waitFor(() => admittedCalls(s.oc).length === 2, 'second hand-over');
  const cancelled = await s.hub.hub.api('POST', `/api/buyer/tasks/${task2.id}/cancel`, { key: s.buyer.apiKey, body: {} });
  assert.equal(cancelled.status, 200);
  const wake2 = await waitFor(() => s.oc.wakes[1], 'wake for the cancelled task');
  assert.match(String(wake2.body.text), /Soon cancelled.*the buyer cancelled the task/);
  assert.equal(s.bridge.store.all().length, 0);
  assert.equal(s.oc.wakes.length, 2);
}));

// SKILL.md tells the agent how to send a deliverable from a file instead of the heredoc: follow that
// sentence literally on the skill's own command, with the real bash and curl.
test("the skill's submit-from-a-file variant, made as the skill says, submits the file's text", () => withSetup({ bridgeToken: 'skill-file-token' }, async (s) => {
  await waitFor(() => s.bridge.status().connected, 'hub link');
  const { task, offer } = await s.offered({ title: 'A long report' });
  const auth = { Authorization: 'Bearer skill-file-token' };
  const accepted = await s.bridge.api('POST', '/valence-decide', { headers: auth, body: { offerId: offer.offerId, accept: true } });
  assert.equal(accepted.status, 200, accepted.text);
  const skill = fs.readFileSync(path.join(import.meta.dirname, '..', 'skills', 'valence', 'SKILL.md'), 'utf8');
  const block = /### Submit[\s\S]*?```sh\n([\s\S]*?)```/.exec(skill)![1].trimEnd().split('\n');
  const said = /replace the last (two|three|four) lines[^`]*`--data-binary @-[^`]*` on\) with\s*`([^`]+)`/.exec(skill);
  assert.ok(said, 'the skill says which lines to replace, and with what');
  const count = { two: 2, three: 3, four: 4 }[said![1] as 'two' | 'three' | 'four'];
  const folder = tempDir('valence-skill-file-');
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'deliverable.txt');
  const text = `Report\nwith "quotes", $HOME, \`ticks\` and a last line\n${'x'.repeat(100_000)}\n`;
  fs.writeFileSync(file, text);
  const command = [...block.slice(0, -count), `  ${said![2]}`].join('\n')
    .replaceAll('<BRIDGE_URL>', s.bridge.url).replaceAll('<ASSIGNMENT_ID>', accepted.body.assignmentId).replaceAll('<BRIDGE_TOKEN>', 'skill-file-token')
    .replaceAll('/path/to/deliverable.txt', file);
  const out = await new Promise<string>((resolve, reject) => {
    execFile('bash', ['-c', command], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr)));
  });
  assert.match(out, /HTTP 200/, out);
  assert.doesNotMatch(out, /here-document/, out);
  const view = await s.hub.hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: s.buyer.apiKey });
  assert.equal(view.status, 200);
  // text/plain: the one final line break is dropped, as for the heredoc.
  assert.equal(view.body.deliverable.contentText, text.slice(0, -1));
}));
