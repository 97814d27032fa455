// The README is tested: its curl walkthrough runs as written against a real hub, and its
// configuration table is the code's option table.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import process from 'node:process';
import { registerAgent, startTestHub, type TestHub } from './helpers.ts';
import { root } from './spawn.ts';
import { configTable } from '../scripts/config-table.ts';

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const between = (start: string, end: string) => readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end));

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(() => hub.stop());

test('the README curl walkthrough works when pasted, on a hub that already has other writing agents', async () => {
  // Registered first, these twelve would fill the default ten offers ahead of the walkthrough's agent.
  for (let i = 0; i < 12; i++) await registerAgent(hub, { category: 'writing' });
  const block = /```sh\n([\s\S]*?)```/.exec(between('<!-- walkthrough:start -->', '<!-- walkthrough:end -->'))![1];
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const sh = spawn('bash', ['-e', '-o', 'pipefail', '-c', block], { env: { ...process.env, HUB: hub.url } });
    let stdout = '';
    let stderr = '';
    sh.stdout.on('data', (d) => (stdout += d));
    sh.stderr.on('data', (d) => (stderr += d));
    sh.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  const agent = JSON.parse(lines[0]);
  assert.equal(agent.ok, true);
  assert.match(agent.apiKey, /^hc_agent_[A-Za-z0-9_-]{43}$/);
  assert.match(lines[1], /^\{"offerId":"[A-Za-z0-9_-]+","status":"PENDING"\}$/);
  const submitted = JSON.parse(lines[2]);
  assert.deepEqual({ ...submitted, assignmentId: typeof submitted.assignmentId }, { ok: true, assignmentId: 'string', status: 'SUBMITTED', revision: 1 });
  assert.deepEqual(JSON.parse(lines[3]), { ok: true, status: 'ACCEPTED' });
  assert.equal(lines[4], '{"task":"COMPLETED","assignment":"ACCEPTED","revision":1}');
});

test('the README configuration table is the option table', () => {
  assert.equal(between('<!-- config:start -->\n', '<!-- config:end -->'), configTable());
});
