// The agent gateway (SPEC §6) over real sockets against a real hub.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { match, openTask, registerAgent, registerBuyer, startTestHub, type TestHub } from './helpers.ts';
import { connect, connectAgent, type Frame } from './ws-client.ts';

let hub: TestHub;
before(async () => {
  hub = await startTestHub({}, { authTimeoutMs: 300, pingMs: 150 });
});
after(() => hub.stop());

/** A buyer, an OPEN task in a category of its own, and n agents in that category. */
async function scene(n = 1) {
  const category = `cat-${Math.random().toString(36).slice(2, 10)}`;
  const buyer = await registerBuyer(hub);
  const agents = [];
  for (let i = 0; i < n; i++) agents.push(await registerAgent(hub, { category }));
  const task = await openTask(hub, buyer.apiKey, { category, title: `Translate the manual ${category}` });
  return { buyer, agents, task, category };
}

describe('handshake and auth', () => {
  test('both listeners serve /agent-ws and answer auth_ok with agentId and userId', async () => {
    const agent = await registerAgent(hub);
    for (const url of [hub.wsUrl, hub.gatewayUrl!]) {
      const s = await connectAgent(url, agent.apiKey);
      assert.deepEqual(s.authOk, { type: 'auth_ok', agentId: agent.agentId, userId: agent.userId });
      s.close();
    }
  });

  const refused: { name: string; frame: unknown; raw?: string }[] = [
    { name: 'an unknown key', frame: { type: 'auth', apiKey: 'hc_agent_' + 'x'.repeat(43) } },
    { name: 'a key without the hc_agent_ prefix', frame: { type: 'auth', apiKey: 'sk-nothing' } },
    { name: 'no apiKey', frame: { type: 'auth' } },
    { name: 'another frame before auth', frame: { type: 'offer_decision', requestId: 1, offerId: 'x', accept: true } },
    { name: 'invalid JSON before auth', frame: null, raw: '{nope' },
  ];
  for (const c of refused) {
    test(`${c.name} gets unauthorized and close 4401`, async () => {
      const s = await connect(hub.gatewayUrl!);
      if (c.raw) s.sendRaw(c.raw);
      else s.send(c.frame);
      const err = await s.nextType('error');
      assert.equal(err.code, 'unauthorized');
      assert.equal(err.status, 401);
      assert.equal(typeof err.message, 'string');
      assert.equal((await s.closed).code, 4401);
    });
  }

  test('a buyer key cannot open the gateway', async () => {
    const buyer = await registerBuyer(hub);
    const s = await connect(hub.gatewayUrl!);
    s.send({ type: 'auth', apiKey: buyer.apiKey });
    assert.equal((await s.nextType('error')).code, 'unauthorized');
    assert.equal((await s.closed).code, 4401);
  });

  test('no auth frame in time gets auth_timeout and close 4408', async () => {
    const s = await connect(hub.gatewayUrl!);
    const err = await s.nextType('error', 3000);
    assert.equal(err.code, 'auth_timeout');
    assert.equal((await s.closed).code, 4408);
  });

  test('a wrong path gets a real 404 before the upgrade', async () => {
    await assert.rejects(connect(hub.url.replace('http', 'ws') + '/elsewhere'), (e: Error & { status?: number }) => e.status === 404);
    await assert.rejects(connect(hub.gatewayUrl!.replace('/agent-ws', '/nope')), (e: Error & { status?: number }) => e.status === 404);
  });

  test('a bad Authorization header on the handshake gets 401 before the upgrade; a good one authenticates at once', async () => {
    await assert.rejects(connect(hub.gatewayUrl!, { headers: { Authorization: 'Bearer hc_agent_bad' } }), (e: Error & { status?: number }) => e.status === 401);
    const agent = await registerAgent(hub);
    const s = await connect(hub.gatewayUrl!, { headers: { Authorization: `Bearer ${agent.apiKey}` } });
    assert.deepEqual(await s.nextType('auth_ok'), { type: 'auth_ok', agentId: agent.agentId, userId: agent.userId });
    s.close();
  });

  test('another auth frame on an authenticated socket: the same key is auth_ok again, another agent\'s is 409, a bad key ends the socket', async () => {
    const [agent, other] = [await registerAgent(hub), await registerAgent(hub)];
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    s.send({ type: 'auth', apiKey: agent.apiKey });
    assert.deepEqual(await s.nextType('auth_ok'), { type: 'auth_ok', agentId: agent.agentId, userId: agent.userId });
    s.send({ type: 'auth', apiKey: other.apiKey, requestId: 'a2' });
    const taken = await s.nextType('error');
    assert.deepEqual([taken.code, taken.status, taken.requestId], ['already_authenticated', 409, 'a2']);
    s.send({ type: 'ping', requestId: 'still' });
    assert.deepEqual(await s.nextType('pong'), { type: 'pong', requestId: 'still' });
    s.send({ type: 'auth', apiKey: 'hc_agent_junk' });
    const bad = await s.nextType('error');
    assert.deepEqual([bad.code, bad.status], ['unauthorized', 401]);
    assert.equal((await s.closed).code, 4401);
  });

  test('plain HTTP on the gateway port is 404 with a JSON error', async () => {
    const res = await fetch(hub.gatewayUrl!.replace('ws://', 'http://'));
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, 'not_found');
  });
});

describe('offers reach agents', () => {
  test('a live pending_offer names the task, and match reports it delivered', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const offers = await match(hub, buyer.apiKey, task.id);
    assert.equal(offers.length, 1);
    assert.equal(offers[0].delivered, true);
    const f = await s.nextType('pending_offer');
    assert.equal(f.offerId, offers[0].offerId);
    assert.match(f.message, new RegExp(task.title));
    assert.deepEqual(f.task, { id: task.id, title: task.title, description: 'Do the thing.', category: f.task.category, deadline: null });
    assert.ok(Date.parse(f.expiresAt) > Date.now());
    s.close();
  });

  test('an agent offline when matched gets its offers right after auth_ok', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const offers = await match(hub, buyer.apiKey, task.id);
    assert.equal(offers[0].delivered, false);
    const s = await connect(hub.gatewayUrl!);
    s.send({ type: 'auth', apiKey: agent.apiKey });
    await s.nextType('auth_ok');
    const f = await s.nextType('pending_offer');
    assert.equal(f.offerId, offers[0].offerId);
    assert.equal(s.frames.indexOf(f), 1, 'the replay follows auth_ok directly');
    s.close();
  });

  test('every socket of one agent gets every push', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const a = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const b = await connectAgent(hub.wsUrl, agent.apiKey);
    const [offer] = await match(hub, buyer.apiKey, task.id);
    assert.equal((await a.nextType('pending_offer')).offerId, offer.offerId);
    assert.equal((await b.nextType('pending_offer')).offerId, offer.offerId);
    a.close();
    b.close();
  });

  test('connected agents are matched first', async () => {
    const { buyer, agents, task } = await scene(3);
    const s = await connectAgent(hub.gatewayUrl!, agents[2].apiKey);
    const offers = await match(hub, buyer.apiKey, task.id, 1);
    assert.deepEqual(offers.map((o) => [o.workerUserId, o.delivered]), [[agents[2].userId, true]]);
    s.close();
  });
});

describe('requests over the socket', () => {
  test('accept, submit, hear the review, resubmit, and the losers hear offer_withdrawn', async () => {
    const { buyer, agents: [winner, loser], task } = await scene(2);
    const w = await connectAgent(hub.gatewayUrl!, winner.apiKey);
    const l = await connectAgent(hub.gatewayUrl!, loser.apiKey);
    const offers = await match(hub, buyer.apiKey, task.id);
    const mine = offers.find((o) => o.workerUserId === winner.userId)!;
    const theirs = offers.find((o) => o.workerUserId === loser.userId)!;
    await w.nextType('pending_offer');

    const ack = await w.request({ type: 'offer_decision', requestId: 'd1', offerId: mine.offerId, accept: true });
    assert.equal(ack.type, 'ack');
    assert.equal(ack.requestId, 'd1');
    assert.equal(ack.ok, true);
    assert.equal(ack.accept, true);
    assert.equal(typeof ack.assignmentId, 'string');
    assert.deepEqual(await l.nextType('offer_withdrawn'), { type: 'offer_withdrawn', offerId: theirs.offerId, taskId: task.id, reason: 'task_assigned' });

    const lost = await l.request({ type: 'offer_decision', offerId: theirs.offerId, accept: true });
    assert.deepEqual([lost.type, lost.status, lost.code], ['error', 409, 'task_already_assigned']);

    const sub = await w.request({ type: 'submit_deliverable', assignmentId: ack.assignmentId, contentText: 'first draft' });
    assert.deepEqual({ ...sub, requestId: undefined }, { type: 'ack', requestId: undefined, ok: true, assignmentId: ack.assignmentId, status: 'SUBMITTED', revision: 1 });

    const rej = await hub.api('POST', `/api/buyer/assignments/${ack.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'reject', feedback: 'Cite sources.' } });
    assert.equal(rej.status, 200);
    assert.deepEqual(await w.nextType('deliverable_reviewed'), {
      type: 'deliverable_reviewed', assignmentId: ack.assignmentId, taskId: task.id, decision: 'reject', status: 'REJECTED', feedback: 'Cite sources.',
    });
    const sub2 = await w.request({ type: 'submit_deliverable', assignmentId: ack.assignmentId, contentText: 'second draft, with sources' });
    assert.equal(sub2.revision, 2);
    const acc = await hub.api('POST', `/api/buyer/assignments/${ack.assignmentId}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
    assert.deepEqual(acc.body, { ok: true, status: 'ACCEPTED' });
    assert.equal((await w.nextType('deliverable_reviewed')).status, 'ACCEPTED');
    const view = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
    assert.equal(view.body.task.status, 'COMPLETED');
    assert.deepEqual(view.body.deliverable.history.map((h: Frame) => [h.revision, h.feedback]), [[1, 'Cite sources.'], [2, null]]);
    w.close();
    l.close();
  });

  test('errors carry the HTTP route\'s status and code', async () => {
    const { buyer, agents: [a, b], task } = await scene(2);
    const sa = await connectAgent(hub.gatewayUrl!, a.apiKey);
    const offers = await match(hub, buyer.apiKey, task.id);
    const other = offers.find((o) => o.workerUserId === b.userId)!;
    const cases: { frame: Frame; status: number; code: string }[] = [
      { frame: { type: 'offer_decision', offerId: 'no-such-offer', accept: true }, status: 404, code: 'offer_not_found' },
      { frame: { type: 'offer_decision', offerId: other.offerId, accept: true }, status: 403, code: 'forbidden' },
      { frame: { type: 'offer_decision', offerId: other.offerId, accept: 'yes' }, status: 400, code: 'invalid_body' },
      { frame: { type: 'submit_deliverable', assignmentId: 'no-such-assignment', contentText: 'x' }, status: 404, code: 'assignment_not_found' },
      { frame: { type: 'submit_deliverable', assignmentId: 'x', contentText: '' }, status: 400, code: 'invalid_body' },
    ];
    for (const c of cases) {
      const r = await sa.request(c.frame);
      assert.deepEqual([r.type, r.status, r.code], ['error', c.status, c.code], JSON.stringify(c.frame));
      const path = c.frame.type === 'offer_decision'
        ? `/api/agent/v1/offers/${encodeURIComponent(c.frame.offerId)}/decision`
        : `/api/agent/v1/assignments/${encodeURIComponent(c.frame.assignmentId)}/submit`;
      const { type: _t, offerId: _o, assignmentId: _a, ...body } = c.frame;
      const http = await hub.api('POST', path, { key: a.apiKey, body });
      assert.deepEqual([http.status, http.body.error.code], [c.status, c.code], `HTTP agrees for ${JSON.stringify(c.frame)}`);
    }
    sa.close();
  });

  // A socket that authenticates in the same turn as a match, before its COMMIT: the offer reaches it
  // once, and never before it is committed (the replay read the uncommitted row, then the push after
  // the COMMIT sent it again).
  test('an agent that authenticates while a match of this turn is not committed yet gets its offer once, and every answer after auth_ok', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const s = await connect(hub.gatewayUrl!);
    const buyerPrincipal = hub.domain.accounts.authenticateBearer(`Bearer ${buyer.apiKey}`);
    s.send({ type: 'auth', apiKey: agent.apiKey });
    // Frames sent right behind the auth: their answers come after auth_ok and the replay.
    s.send({ type: 'ping', requestId: 'early' });
    s.send({ type: 'teleport', requestId: 'early' });
    // Hold this (shared, in-process) event loop until the auth frame waits in the hub's socket, then
    // match from a check-phase callback: the next loop turn reads the frame, and only after it does
    // the match's group commit.
    const until = performance.now() + 20;
    while (performance.now() < until) { /* the frame travels over loopback meanwhile */ }
    const matched = new Promise<{ offers: { offerId: string }[] }>((resolve, reject) =>
      setImmediate(() => hub.domain.tasks.matchTask(buyerPrincipal, task.id, {}).then(resolve, reject))
    );
    await s.nextType('auth_ok');
    s.send({ type: 'ping', requestId: 'after' });
    await s.next((f) => f.type === 'pong' && f.requestId === 'after');
    const { offers } = await matched;
    assert.equal(offers.length, 1);
    assert.deepEqual(s.frames.filter((f) => f.type === 'pending_offer').map((f) => f.offerId), [offers[0].offerId]);
    assert.deepEqual(s.frames.map((f) => [f.type, f.requestId ?? f.code ?? null]), [
      ['auth_ok', null], ['pending_offer', null], ['pong', 'early'], ['error', 'early'], ['pong', 'after'],
    ]);
    s.close();
  });

  test('a repeated requestId gets the first reply again', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const [offer] = await match(hub, buyer.apiKey, task.id);
    const first = await s.request({ type: 'offer_decision', requestId: 7, offerId: offer.offerId, accept: false, reason: 'busy' });
    assert.deepEqual(first, { type: 'ack', requestId: 7, ok: true, accept: false });
    // The same requestId with another body is still answered with the first reply, not acted on.
    const again = await s.request({ type: 'offer_decision', requestId: 7, offerId: offer.offerId, accept: true });
    assert.deepEqual(again, first);
    const view = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
    assert.equal(view.body.offers[0].status, 'DECLINED');
    s.close();
  });

  test('a repeated requestId gets the first reply again when that reply was a validation error too', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const [offer] = await match(hub, buyer.apiKey, task.id);
    const first = await s.request({ type: 'offer_decision', requestId: 'v', offerId: offer.offerId });
    assert.deepEqual([first.type, first.code, first.status, first.issues], ['error', 'invalid_body', 400, [{ path: 'accept', message: 'must be true or false' }]]);
    const again = await s.request({ type: 'offer_decision', requestId: 'v', offerId: offer.offerId, accept: true });
    assert.deepEqual(again, first, 'the corrected frame under the same requestId is answered with the first reply, not acted on');
    const view = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
    assert.deepEqual([view.status, view.body.offers[0].status, view.body.assignment], [200, 'PENDING', null]);
    const fresh = await s.request({ type: 'offer_decision', requestId: 'v2', offerId: offer.offerId, accept: true });
    assert.deepEqual([fresh.type, fresh.accept], ['ack', true]);
    s.close();
  });

  test('a repeat that arrives while the first is still being answered gets the first reply too, after it', async () => {
    const { buyer, agents: [agent], task } = await scene();
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const [offer] = await match(hub, buyer.apiKey, task.id);
    // Both frames in one TCP write: the hub reads them in one turn, before the first is committed.
    // deno-lint-ignore no-explicit-any
    const tcp = (s.ws as any)._socket as net.Socket;
    tcp.cork();
    s.send({ type: 'offer_decision', requestId: 'same', offerId: offer.offerId, accept: true });
    s.send({ type: 'offer_decision', requestId: 'same', offerId: offer.offerId, accept: false, reason: 'changed my mind' });
    tcp.uncork();
    const first = await s.next((f) => f.requestId === 'same', 5000, 'first reply');
    const second = await s.next((f) => f.requestId === 'same', 5000, 'second reply');
    assert.equal(first.type, 'ack', JSON.stringify(first));
    assert.equal(first.accept, true);
    assert.equal(typeof first.assignmentId, 'string');
    assert.deepEqual(second, first, 'the repeat is answered with the first reply, not acted on');
    const view = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
    assert.equal(view.status, 200);
    assert.deepEqual([view.body.offers[0].status, view.body.assignment.id], ['ACCEPTED', first.assignmentId]);
    s.close();
  });

  const bad: { name: string; raw: string | Buffer; code: string; requestId?: unknown; issue?: string }[] = [
    { name: 'invalid JSON', raw: '{"type":', code: 'invalid_json' },
    // A binary frame (ws checks the UTF-8 of text frames itself) holding a ping whose bytes are not UTF-8.
    { name: 'a binary frame that is not UTF-8', raw: Buffer.concat([Buffer.from('{"type":"ping","requestId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), code: 'invalid_json' },
    { name: 'an unknown type', raw: JSON.stringify({ type: 'teleport', requestId: 'u1' }), code: 'unknown_type', requestId: 'u1' },
    { name: 'no type', raw: JSON.stringify({ requestId: 'n1' }), code: 'invalid_body', requestId: 'n1', issue: 'type' },
    { name: 'a decision without offerId', raw: JSON.stringify({ type: 'offer_decision', requestId: 'm1', accept: true }), code: 'invalid_body', requestId: 'm1', issue: 'offerId' },
    { name: 'a decision without requestId', raw: JSON.stringify({ type: 'offer_decision', offerId: 'x', accept: true }), code: 'invalid_body', issue: 'requestId' },
    { name: 'a submit without contentText', raw: JSON.stringify({ type: 'submit_deliverable', requestId: 's1', assignmentId: 'x' }), code: 'invalid_body', requestId: 's1', issue: 'contentText' },
    { name: 'an array', raw: '[1,2]', code: 'invalid_body' },
    { name: 'a submit whose text holds half a surrogate pair', raw: '{"type":"submit_deliverable","requestId":"h1","assignmentId":"x","contentText":"a\\ud800"}', code: 'invalid_json', requestId: 'h1' },
  ];
  for (const c of bad) {
    test(`${c.name} gets an error frame and the socket stays open`, async () => {
      const agent = await registerAgent(hub);
      const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
      s.sendRaw(c.raw);
      const err = await s.nextType('error');
      assert.equal(err.code, c.code);
      assert.equal(err.status, 400);
      assert.equal(err.requestId, c.requestId);
      if (c.issue) assert.ok(err.issues.some((i: Frame) => i.path === c.issue), JSON.stringify(err));
      s.send({ type: 'ping', requestId: 'p' });
      assert.deepEqual(await s.nextType('pong'), { type: 'pong', requestId: 'p' });
      s.close();
    });
  }

  test('a frame over 1 MiB closes the socket with 1009', async () => {
    const agent = await registerAgent(hub);
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    s.send({ type: 'submit_deliverable', requestId: 'big', assignmentId: 'x', contentText: 'x'.repeat(1024 * 1024 + 10) });
    assert.equal((await s.closed).code, 1009);
  });

  test('a socket that stops answering pings is terminated', async () => {
    const agent = await registerAgent(hub);
    const s = await connect(hub.gatewayUrl!, { autoPong: false });
    s.send({ type: 'auth', apiKey: agent.apiKey });
    await s.nextType('auth_ok');
    assert.equal((await s.closed).code, 1006);
  });

  test('a cancelled task: offer holders hear offer_withdrawn and task_cancelled, the assignee task_cancelled', async () => {
    const { buyer, agents: [a, b], task } = await scene(2);
    const sa = await connectAgent(hub.gatewayUrl!, a.apiKey);
    const sb = await connectAgent(hub.gatewayUrl!, b.apiKey);
    const offers = await match(hub, buyer.apiKey, task.id);
    const cancel = await hub.api('POST', `/api/buyer/tasks/${task.id}/cancel`, { key: buyer.apiKey });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.task.status, 'CANCELLED');
    for (const [s, agent] of [[sa, a], [sb, b]] as const) {
      const offerId = offers.find((o) => o.workerUserId === agent.userId)!.offerId;
      assert.deepEqual(await s.nextType('offer_withdrawn'), { type: 'offer_withdrawn', offerId, taskId: task.id, reason: 'task_cancelled' });
      assert.deepEqual(await s.nextType('task_cancelled'), { type: 'task_cancelled', taskId: task.id });
    }
    // With a live assignment the assignee is told which one.
    const t2 = await openTask(hub, buyer.apiKey, { category: task.category });
    const [o2] = await match(hub, buyer.apiKey, t2.id);
    const owner = o2.workerUserId === a.userId ? sa : sb;
    const acc = await owner.request({ type: 'offer_decision', offerId: o2.offerId, accept: true });
    await hub.api('POST', `/api/buyer/tasks/${t2.id}/cancel`, { key: buyer.apiKey });
    assert.deepEqual(await owner.next((f) => f.type === 'task_cancelled' && f.taskId === t2.id), { type: 'task_cancelled', taskId: t2.id, assignmentId: acc.assignmentId });
    sa.close();
    sb.close();
  });

  test('an agent away when its deliverable is reviewed or its task cancelled hears of it after its next auth_ok, once', async () => {
    const { buyer, agents: [agent], task, category } = await scene(1);
    const decide = async (offerId: string) => {
      const res = await hub.api('POST', `/api/agent/v1/offers/${offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
      assert.equal(res.status, 200, res.text);
      return res.body.assignmentId as string;
    };
    // No socket at all: the agent works over HTTP.
    const [o1] = await match(hub, buyer.apiKey, task.id);
    const a1 = await decide(o1.offerId);
    const sub = await hub.api('POST', `/api/agent/v1/assignments/${a1}/submit`, { key: agent.apiKey, body: { contentText: 'First try.' } });
    assert.equal(sub.status, 200, sub.text);
    const rev = await hub.api('POST', `/api/buyer/assignments/${a1}/review`, { key: buyer.apiKey, body: { decision: 'reject', feedback: 'Shorter, please.' } });
    assert.deepEqual([rev.status, rev.body], [200, { ok: true, status: 'REJECTED' }]);
    const t2 = await openTask(hub, buyer.apiKey, { category });
    const [o2] = await match(hub, buyer.apiKey, t2.id);
    const a2 = await decide(o2.offerId);
    const cancel = await hub.api('POST', `/api/buyer/tasks/${t2.id}/cancel`, { key: buyer.apiKey });
    assert.equal(cancel.status, 200, cancel.text);
    const t3 = await openTask(hub, buyer.apiKey, { category });
    const [o3] = await match(hub, buyer.apiKey, t3.id);

    // A new socket, once every frame sent after its auth_ok has arrived (frames arrive in order: the
    // answer to a ping sent right after auth comes after them).
    const replayed = async () => {
      const sock = await connectAgent(hub.gatewayUrl!, agent.apiKey);
      sock.send({ type: 'ping', requestId: 'end' });
      await sock.next((f) => f.type === 'pong');
      return sock;
    };
    // After auth_ok: the pending offer, then what happened while away, oldest first, then nothing.
    const s = await replayed();
    assert.deepEqual(s.frames.slice(1).map((f) => [f.type, f.offerId ?? f.assignmentId ?? f.requestId]), [
      ['pending_offer', o3.offerId], ['deliverable_reviewed', a1], ['task_cancelled', a2], ['pong', 'end'],
    ]);
    assert.deepEqual(s.frames[2], { type: 'deliverable_reviewed', assignmentId: a1, taskId: task.id, decision: 'reject', status: 'REJECTED', feedback: 'Shorter, please.' });
    assert.deepEqual(s.frames[3], { type: 'task_cancelled', taskId: t2.id, assignmentId: a2 });
    s.close();
    await s.closed;

    // Sent once: the next connection gets the pending offer only.
    const again = await replayed();
    assert.deepEqual(again.frames.slice(1).map((f) => f.type), ['pending_offer', 'pong']);
    // Connected, it hears a review live, and not again on its next connection.
    const sub2 = await hub.api('POST', `/api/agent/v1/assignments/${a1}/submit`, { key: agent.apiKey, body: { contentText: 'Short.' } });
    assert.equal(sub2.status, 200, sub2.text);
    const ok = await hub.api('POST', `/api/buyer/assignments/${a1}/review`, { key: buyer.apiKey, body: { decision: 'accept' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await again.nextType('deliverable_reviewed')).status, 'ACCEPTED');
    again.close();
    await again.closed;
    const third = await replayed();
    assert.deepEqual(third.frames.slice(1).map((f) => f.type), ['pending_offer', 'pong']);
    third.close();
  });

  test('rotating the key closes the sockets opened with the old one (4401)', async () => {
    const agent = await registerAgent(hub);
    const s = await connectAgent(hub.gatewayUrl!, agent.apiKey);
    const rot = await hub.api('POST', '/api/agent/v1/key/rotate', { key: agent.apiKey });
    assert.equal(rot.status, 200);
    assert.equal((await s.closed).code, 4401);
    const s2 = await connectAgent(hub.gatewayUrl!, rot.body.apiKey);
    assert.equal(s2.authOk.agentId, agent.agentId);
    s2.close();
  });
});

describe('a key rotated while a socket authenticates with it', () => {
  // The hub reads, in one turn of its event loop: a write (so the turn's commit is pending), then a
  // socket's auth frame with the old key (checked, and held until that commit), then the rotation.
  // The three are written to the kernel back to back before the hub's next poll, which returns them
  // in that order.
  test('the socket held for the commit is closed with 4401 too; the old key never gets a working socket', async () => {
    const { port } = new URL(hub.url);
    const buyer = await registerBuyer(hub);
    for (let round = 0; round < 5; round++) {
      const agent = await registerAgent(hub);
      const s = await connect(hub.gatewayUrl!);
      const open = async () => {
        const sock = net.connect(Number(port), '127.0.0.1');
        await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
        return sock;
      };
      const [noise, rotation] = [await open(), await open()];
      const answer = (sock: net.Socket) => new Promise<string>((resolve) => {
        let text = '';
        sock.on('data', (b) => {
          text += b;
          if (/\r\n\r\n[\s\S]*\}$/.test(text)) resolve(text);
        });
      });
      const noiseAnswer = answer(noise);
      const rotationAnswer = answer(rotation);
      const body = JSON.stringify({ title: 'Noise', description: 'A write in the same turn.' });
      noise.write(`POST /api/buyer/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${buyer.apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      s.send({ type: 'auth', apiKey: agent.apiKey });
      rotation.write(`POST /api/agent/v1/key/rotate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent.apiKey}\r\nContent-Length: 0\r\n\r\n`);
      assert.match(await noiseAnswer, /^HTTP\/1\.1 201/);
      assert.match(await rotationAnswer, /^HTTP\/1\.1 200/);
      const closed = await Promise.race([s.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000))]);
      assert.equal(closed?.code, 4401, `round ${round}: the socket that authenticated with the old key is closed (frames: ${JSON.stringify(s.frames)})`);
      noise.destroy();
      rotation.destroy();
    }
  });
});

describe('first confirm wins across transports', () => {
  test('HTTP and WebSocket accepts racing for the same tasks: exactly one winner each', async () => {
    const { buyer, agents: [viaHttp, viaWs], category } = await scene(2);
    const s = await connectAgent(hub.gatewayUrl!, viaWs.apiKey);
    for (let i = 0; i < 15; i++) {
      const task = await openTask(hub, buyer.apiKey, { category });
      const offers = await match(hub, buyer.apiKey, task.id);
      const h = offers.find((o) => o.workerUserId === viaHttp.userId)!;
      const w = offers.find((o) => o.workerUserId === viaWs.userId)!;
      const [httpRes, wsRes] = await Promise.all([
        hub.api('POST', `/api/agent/v1/offers/${h.offerId}/decision`, { key: viaHttp.apiKey, body: { accept: true } }),
        s.request({ type: 'offer_decision', offerId: w.offerId, accept: true }),
      ]);
      const wins = [httpRes.status === 200, wsRes.type === 'ack'].filter(Boolean).length;
      assert.equal(wins, 1, `task ${i}: ${httpRes.text} / ${JSON.stringify(wsRes)}`);
      const loser = httpRes.status === 200 ? [wsRes.status, wsRes.code] : [httpRes.status, httpRes.body.error.code];
      assert.deepEqual(loser, [409, 'task_already_assigned']);
      const view = await hub.api('GET', `/api/buyer/tasks/${task.id}`, { key: buyer.apiKey });
      assert.equal(view.body.task.status, 'ASSIGNED');
      assert.equal(view.body.assignment.workerUserId, httpRes.status === 200 ? viaHttp.userId : viaWs.userId);
    }
    s.close();
  });
});

describe('POST /internal/publish', () => {
  test('pushes a frame to an agent\'s sockets, from loopback, with the token when one is set', async () => {
    const local = await startTestHub({ publishToken: 'pub-secret-123' });
    try {
      const agent = await registerAgent(local);
      const s = await connectAgent(local.wsUrl, agent.apiKey);
      const frame = { type: 'notice', text: 'maintenance at noon' };
      const noToken = await local.api('POST', '/internal/publish', { body: { agentId: agent.agentId, frame } });
      assert.deepEqual([noToken.status, noToken.body.error.code], [401, 'unauthorized']);
      const proxied = await local.api('POST', '/internal/publish', { body: { agentId: agent.agentId, frame }, headers: { Authorization: 'Bearer pub-secret-123', 'X-Forwarded-For': '203.0.113.9' } });
      assert.deepEqual([proxied.status, proxied.body.error.code], [403, 'forbidden']);
      for (const header of [{ Forwarded: 'for=203.0.113.9' }, { 'X-Real-IP': '203.0.113.9' }] as Record<string, string>[]) {
        const viaProxy = await local.api('POST', '/internal/publish', { body: { agentId: agent.agentId, frame }, headers: { Authorization: 'Bearer pub-secret-123', ...header } });
        assert.deepEqual([viaProxy.status, viaProxy.body.error.code], [403, 'forbidden'], JSON.stringify(header));
      }
      const bad = await local.api('POST', '/internal/publish', { body: { frame: { type: 'x' } }, headers: { Authorization: 'Bearer pub-secret-123' } });
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'invalid_body']);
      const okRes = await local.api('POST', '/internal/publish', { body: { agentId: agent.agentId, frame }, headers: { Authorization: 'Bearer pub-secret-123' } });
      assert.deepEqual([okRes.status, okRes.body], [200, { ok: true, delivered: 1 }]);
      assert.deepEqual(await s.nextType('notice'), frame);
      const byUser = await local.api('POST', '/internal/publish', { body: { userId: agent.userId, frame: { type: 'notice', n: 2 } }, headers: { Authorization: 'Bearer pub-secret-123' } });
      assert.deepEqual(byUser.body, { ok: true, delivered: 1 });
      s.close();
    } finally {
      await local.stop();
    }
  });
});

test('frames of every length class reach a ws client intact (7-bit, 16-bit and 64-bit payload lengths, multi-byte text)', async () => {
  const agent = await registerAgent(hub);
  const s = await connectAgent(hub.wsUrl, agent.apiKey);
  // {"type":"notice","text":"…"} is 27 bytes around the text.
  const texts = [0, 125, 126, 65535, 65536, 200_000].map((bytes) => 'x'.repeat(Math.max(0, bytes - 27)));
  texts.push('é€😀 '.repeat(40), 'ñ'.repeat(40_000));
  for (const text of texts) {
    const r = await hub.api('POST', '/internal/publish', { body: { agentId: agent.agentId, frame: { type: 'notice', text } } });
    assert.deepEqual([r.status, r.body], [200, { ok: true, delivered: 1 }]);
    const got = await s.nextType('notice');
    assert.equal(got.text, text, `a frame of ${Buffer.byteLength(JSON.stringify({ type: 'notice', text }))} bytes`);
  }
  s.close();
});

describe('restarts', () => {
  test('after a hub restart a reconnecting agent gets its pending offers', async () => {
    const first = await startTestHub();
    const dbPath = first.cfg.dbPath;
    const buyer = await registerBuyer(first);
    const agent = await registerAgent(first, { category: 'restart' });
    const task = await openTask(first, buyer.apiKey, { category: 'restart' });
    const [offer] = await match(first, buyer.apiKey, task.id);
    await first.close();
    const second = await startTestHub({ dbPath });
    try {
      const s = await connectAgent(second.gatewayUrl!, agent.apiKey);
      assert.equal((await s.nextType('pending_offer')).offerId, offer.offerId);
      s.close();
    } finally {
      await second.stop();
      fs.rmSync(first.dir, { recursive: true, force: true }); // the database both used
    }
  });

  test('hub.close() closes agent sockets with 1001', async () => {
    const local = await startTestHub();
    const agent = await registerAgent(local);
    const s = await connectAgent(local.gatewayUrl!, agent.apiKey);
    await local.stop();
    assert.equal((await s.closed).code, 1001);
  });
});

test('a raw TCP client that sends garbage does not disturb the hub', async () => {
  const port = Number(new URL(hub.gatewayUrl!.replace('ws', 'http')).port);
  const reply = await new Promise<string>((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
    let text = '';
    sock.on('data', (d) => (text += d));
    sock.on('close', () => resolve(text));
    sock.on('error', () => resolve(text));
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  const health = await hub.api('GET', '/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
});

test('an agent that stops reading is cut off without holding up the others', async () => {
  const local = await startTestHub();
  try {
    const stuck = await registerAgent(local);
    const other = await registerAgent(local);
    const s = await connectAgent(local.wsUrl, stuck.apiKey);
    const o = await connectAgent(local.wsUrl, other.apiKey);
    // The stuck agent's client stops reading from its socket.
    (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const big = { type: 'notice', text: 'x'.repeat(900 * 1024) };
    let deliveredToStuck = 0;
    for (let i = 0; i < 40; i++) {
      const r = await local.api('POST', '/internal/publish', { body: { agentId: stuck.agentId, frame: big } });
      assert.equal(r.status, 200);
      deliveredToStuck += r.body.delivered;
      if (r.body.delivered === 0) break;
    }
    assert.ok(deliveredToStuck < 40, 'the hub stopped queueing frames for the stuck socket');
    const r = await local.api('POST', '/internal/publish', { body: { agentId: other.agentId, frame: { type: 'notice', n: 1 } } });
    assert.deepEqual(r.body, { ok: true, delivered: 1 });
    assert.deepEqual(await o.nextType('notice'), { type: 'notice', n: 1 });
    (s.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.equal((await s.closed).code, 1006);
    o.close();
  } finally {
    await local.stop();
  }
});
