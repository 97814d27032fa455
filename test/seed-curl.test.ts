// The seed document's curl examples (seed/agent-http-api.txt), run as written by the real curl binary:
// the commands below are copied from the seed character for character; only YOUR_ORIGIN, OFFER_ID,
// ASSIGNMENT_ID and YOUR_API_KEY are filled in. curl's own --silent/--write-out are added to read the status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import process from 'node:process';
import { match, openTask, registerAgent, registerBuyer, type TestHub, startTestHub } from './helpers.ts';

const SEED_ACCEPT = `curl -X POST "https://YOUR_ORIGIN/api/agent/v1/offers/OFFER_ID/decision" \\
-H "Authorization: Bearer YOUR_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{"accept": true}'`;

const SEED_DECLINE = `curl -X POST "https://YOUR_ORIGIN/api/agent/v1/offers/OFFER_ID/decision" \\
-H "Authorization: Bearer YOUR_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{"accept": false, "reason": "Capacity"}'`;

const SEED_SUBMIT = `curl -X POST "https://YOUR_ORIGIN/api/agent/v1/assignments/ASSIGNMENT_ID/submit" \\
-H "Authorization: Bearer YOUR_API_KEY" \\
-H "Content-Type: application/json" \\
-d '{"contentText": "Deliverable: summary and link https://…"}'`;

/** Splits a POSIX shell command line into words: single and double quotes, backslash-newline continuations. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && line[i + 1] === '\n') {
      i++;
      continue;
    }
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '"') {
      i++;
      for (; line[i] !== '"'; i++) {
        if (line[i] === '\\' && '"\\$`'.includes(line[i + 1])) i++;
        word += line[i];
      }
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Runs a seed example with the placeholders filled in; returns curl's status and parsed body. */
function runSeed(example: string, fill: { origin: string; key?: string; offerId?: string; assignmentId?: string }) {
  const argv = shellWords(example).map((w) =>
    w
      .replace('https://YOUR_ORIGIN', fill.origin)
      .replace('OFFER_ID', fill.offerId ?? 'OFFER_ID')
      .replace('ASSIGNMENT_ID', fill.assignmentId ?? 'ASSIGNMENT_ID')
      .replace('YOUR_API_KEY', fill.key ?? 'YOUR_API_KEY'),
  );
  assert.equal(argv[0], 'curl');
  const args = [...argv.slice(1), '--silent', '--show-error', '--write-out', '\n%{http_code}'];
  // deno-lint-ignore no-explicit-any
  return new Promise<{ status: number; body: any; text: string }>((resolve, reject) => {
    execFile('curl', args, { env: { ...process.env, NO_PROXY: '*', no_proxy: '*' }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${err.message} ${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return reject(new Error(`curl got a body that is not JSON: ${text.slice(0, 200)}`));
      }
      resolve({ status: Number(stdout.slice(cut + 1)), body, text });
    });
  });
}

describe("the seed's curl examples, as written", () => {
  let hub: TestHub;
  let buyerKey: string;
  before(async () => {
    hub = await startTestHub({ registerLimit: 0 });
    buyerKey = (await registerBuyer(hub)).apiKey;
  });
  after(async () => {
    await hub.stop();
  });

  let seq = 0;
  /** Two agents of a fresh category and an OPEN task offered to both. */
  async function scene() {
    const category = `seed-${seq++}-${Math.random().toString(36).slice(2, 8)}`;
    const a = await registerAgent(hub, { category });
    const b = await registerAgent(hub, { category });
    const task = await openTask(hub, buyerKey, { category });
    const offers = await match(hub, buyerKey, task.id);
    const offerOf = (agent: { userId: string }) => offers.find((o) => o.workerUserId === agent.userId)!.offerId;
    return { a, b, task, offerOf };
  }
  const view = (taskId: string) => hub.api('GET', `/api/buyer/tasks/${taskId}`, { key: buyerKey });

  test('the splitter reads the seed commands as a shell would', () => {
    assert.deepEqual(shellWords(SEED_DECLINE), [
      'curl', '-X', 'POST', 'https://YOUR_ORIGIN/api/agent/v1/offers/OFFER_ID/decision',
      '-H', 'Authorization: Bearer YOUR_API_KEY', '-H', 'Content-Type: application/json',
      '-d', '{"accept": false, "reason": "Capacity"}',
    ]);
  });

  test('accept → HTTP 200 {"ok":true,"accept":true,"assignmentId":…}; then submit → HTTP 200 {"ok":true,…}', async () => {
    const s = await scene();
    const acc = await runSeed(SEED_ACCEPT, { origin: hub.url, key: s.a.apiKey, offerId: s.offerOf(s.a) });
    assert.equal(acc.status, 200, acc.text);
    assert.deepEqual(Object.keys(acc.body).sort(), ['accept', 'assignmentId', 'ok']);
    assert.equal(acc.body.ok, true);
    assert.equal(acc.body.accept, true);
    assert.match(acc.body.assignmentId, /^[A-Za-z0-9_-]{8,}$/);
    assert.equal((await view(s.task.id)).body.assignment.id, acc.body.assignmentId);

    const sub = await runSeed(SEED_SUBMIT, { origin: hub.url, key: s.a.apiKey, assignmentId: acc.body.assignmentId });
    assert.equal(sub.status, 200, sub.text);
    assert.equal(sub.body.ok, true);
    assert.deepEqual(sub.body, { ok: true, assignmentId: acc.body.assignmentId, status: 'SUBMITTED', revision: 1 });
    const v = await view(s.task.id);
    assert.equal(v.body.assignment.status, 'SUBMITTED');
    assert.equal(v.body.deliverable.contentText, 'Deliverable: summary and link https://…', 'the text arrives byte for byte');
  });

  test('decline → HTTP 200 {"ok":true,"accept":false}, reason stored', async () => {
    const s = await scene();
    const res = await runSeed(SEED_DECLINE, { origin: hub.url, key: s.a.apiKey, offerId: s.offerOf(s.a) });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { ok: true, accept: false });
    const offer = (await view(s.task.id)).body.offers.find((o: { workerUserId: string }) => o.workerUserId === s.a.userId);
    assert.equal(offer.status, 'DECLINED');
    assert.equal(offer.reason, 'Capacity');
  });

  test("the seed's common errors: 409 when another agent won, 403 for another agent's offer, 400 submit when SUBMITTED", async () => {
    const s = await scene();
    const won = await runSeed(SEED_ACCEPT, { origin: hub.url, key: s.a.apiKey, offerId: s.offerOf(s.a) });
    assert.equal(won.status, 200, won.text);

    const late = await runSeed(SEED_ACCEPT, { origin: hub.url, key: s.b.apiKey, offerId: s.offerOf(s.b) });
    assert.equal(late.status, 409, late.text);
    assert.equal(late.body.ok, false);
    assert.equal(late.body.error.code, 'task_already_assigned');

    const foreign = await runSeed(SEED_DECLINE, { origin: hub.url, key: s.b.apiKey, offerId: s.offerOf(s.a) });
    assert.equal(foreign.status, 403, foreign.text);
    assert.equal(foreign.body.error.code, 'forbidden');

    const first = await runSeed(SEED_SUBMIT, { origin: hub.url, key: s.a.apiKey, assignmentId: won.body.assignmentId });
    assert.equal(first.status, 200, first.text);
    const again = await runSeed(SEED_SUBMIT, { origin: hub.url, key: s.a.apiKey, assignmentId: won.body.assignmentId });
    assert.equal(again.status, 400, again.text);
    assert.equal(again.body.error.code, 'not_submittable');
  });

  test('left with its placeholder key, the example is 401 unauthorized', async () => {
    const s = await scene();
    const res = await runSeed(SEED_ACCEPT, { origin: hub.url, offerId: s.offerOf(s.a) });
    assert.equal(res.status, 401, res.text);
    assert.deepEqual({ ok: res.body.ok, code: res.body.error.code }, { ok: false, code: 'unauthorized' });
    assert.equal((await view(s.task.id)).body.task.status, 'OPEN');
  });
});
