// The bridge's pieces on their own: settings, backoff, the offer record on disk, the shipped skill and
// the systemd files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadBridgeConfig, hubSocketUrl, isLoopback, OPTIONS, redactedBridgeConfig } from '../lib/bridge/config.ts';
import { backoffDelay } from '../lib/bridge/hub-link.ts';
import { retryDelay } from '../lib/bridge/handover.ts';
import { OfferStore, type PendingOffer } from '../lib/bridge/state.ts';
import { offerMessage } from '../lib/bridge/message.ts';
import { makeLogger } from '../lib/bridge/log.ts';
import { tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'hc_agent_' + 'k'.repeat(43);

test('settings: defaults from SPEC §7, flags over the environment, hub address forms, loopback only', () => {
  const cfg = loadBridgeConfig([], { VALENCE_API_KEY: KEY, OPENCLAW_HOOKS_TOKEN: 't' });
  assert.deepEqual(
    { ...cfg },
    { wsUrl: 'ws://127.0.0.1:4020/agent-ws', apiKey: KEY, hooksUrl: 'http://127.0.0.1:18789/hooks/agent', hooksToken: 't', agentId: '', host: '127.0.0.1', port: 4021, token: '', stateDir: './data/bridge', logLevel: 'info' },
  );
  const flagged = loadBridgeConfig(['--port', '5000', '--ws-url=https://hub.example:8443', '--agent-id', 'ops'], { VALENCE_API_KEY: KEY, OPENCLAW_HOOKS_TOKEN: 't', BRIDGE_PORT: '4999' });
  assert.equal(flagged.port, 5000);
  assert.equal(flagged.wsUrl, 'wss://hub.example:8443/agent-ws');
  assert.equal(flagged.agentId, 'ops');
  const table: [string, string][] = [
    ['http://127.0.0.1:3000', 'ws://127.0.0.1:3000/agent-ws'],
    ['https://hub.example', 'wss://hub.example/agent-ws'],
    ['ws://10.0.0.2:4020', 'ws://10.0.0.2:4020/agent-ws'],
    ['ws://127.0.0.1:4020/agent-ws', 'ws://127.0.0.1:4020/agent-ws'],
    ['wss://hub.example/custom/agent-ws', 'wss://hub.example/custom/agent-ws'],
  ];
  for (const [given, want] of table) assert.equal(hubSocketUrl(given), want, given);
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '192.168.1.2', '10.0.0.1', '::', 'example.com', '127.0.0.256', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
  // Written as in a URL, listened on without the brackets.
  assert.equal(loadBridgeConfig([], { VALENCE_API_KEY: KEY, OPENCLAW_HOOKS_TOKEN: 't', BRIDGE_HOST: '[::1]' }).host, '::1');
  const shown = JSON.stringify(redactedBridgeConfig({ ...cfg, token: 'bt' }));
  assert.ok(!shown.includes(KEY) && !shown.includes('"t"') && !shown.includes('bt'));
  assert.match(shown, /"VALENCE_API_KEY":"\(set\)"/);
});

test("OpenClaw's Retry-After is waited for, but never less than the first backoff step", () => {
  const t = { minBackoffMs: 1000, maxBackoffMs: 60_000, authPauseMs: 60_000 };
  assert.deepEqual([0, 200, 1000, 5000, 120_000].map((ms) => retryDelay(ms, 3, t)), [1000, 1000, 1000, 5000, 120_000]);
  const plain = retryDelay(undefined, 3, t);
  assert.ok(plain >= 2000 && plain <= 4000, `without Retry-After, the backoff of the third attempt: ${plain}`);
});

test('backoff: 1 s doubling to a 60 s cap, with jitter in the upper half', () => {
  const lo = [0, 1, 2, 3, 6, 7, 20].map((n) => backoffDelay(n, 1000, 60_000, () => 0));
  const hi = [0, 1, 2, 3, 6, 7, 20].map((n) => backoffDelay(n, 1000, 60_000, () => 1));
  assert.deepEqual(lo, [500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  assert.deepEqual(hi, [1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 1000, 60_000)));
  assert.ok(spread.size > 10, 'jitter spreads reconnects');
});

const offer = (id: string, expiresAt: string | null): PendingOffer => ({
  offerId: id,
  message: 'm',
  task: { id: `t-${id}`, title: 'T', description: 'D', category: null, deadline: null },
  expiresAt,
});

test('the offer record: survives a reopen, is written atomically, forgets expired offers, moves an unreadable file aside', () => {
  const scratch = tempDir('valence-state-');
  const dir = path.join(scratch, 'nested', 'state');
  const soon = new Date(Date.now() + 60_000).toISOString();
  const a = OfferStore.open(dir);
  assert.equal(a.add(offer('o1', soon)), true);
  assert.equal(a.add(offer('o1', soon)), false, 'a replayed offer is not recorded twice');
  a.add(offer('o2', new Date(Date.now() - 3 * 3600_000).toISOString()));
  a.handedOver('o1', 'run-1');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['bridge.lock', 'offers.json'], 'no temp files left behind');
  assert.equal((fs.statSync(path.join(dir, 'offers.json')).mode & 0o777).toString(8), '600');
  assert.throws(() => OfferStore.open(dir), /another bridge|is using/, 'the folder is locked while open');
  a.close();
  // A lock left behind (a crash, then a reboot) naming a pid that is now some other program is taken over.
  fs.writeFileSync(path.join(dir, 'bridge.lock'), '1');
  OfferStore.open(dir).close();

  const b = OfferStore.open(dir);
  assert.equal(b.get('o1')?.status, 'handed_over');
  assert.equal(b.get('o1')?.runId, 'run-1');
  assert.equal(b.handedOverTotal, 1);
  assert.deepEqual(b.prune().map((r) => r.offer.offerId), ['o2']);
  assert.equal(b.get('o2'), undefined);
  b.close();

  fs.writeFileSync(path.join(dir, 'offers.json'), '{"version":1,"offers":');
  const warnings: string[] = [];
  const c = OfferStore.open(dir, (msg) => warnings.push(msg));
  assert.equal(c.all().length, 0);
  assert.match(warnings[0], /unreadable; moved aside/);
  assert.ok(fs.readdirSync(dir).some((f) => f.startsWith('offers.json.unreadable-')));
  c.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('the offer message carries the offer and the bridge address, and no hub key', () => {
  const text = offerMessage(
    { offerId: 'off_1', message: 'Summary from the hub', task: { id: 'task_1', title: 'Title\nwith newline', description: 'Line 1\nLine 2', category: 'writing', deadline: '2026-12-01T00:00:00.000Z' }, expiresAt: '2026-11-30T00:00:00.000Z' },
    { baseUrl: 'http://127.0.0.1:4021', token: '' },
  );
  for (const line of ['Offer id: off_1', 'Task id: task_1', 'Title: Title with newline', 'Category: writing', 'Deadline: 2026-12-01T00:00:00.000Z', 'Offer expires: 2026-11-30T00:00:00.000Z', 'Line 1\nLine 2', 'Bridge URL: http://127.0.0.1:4021', 'Decide endpoint: POST http://127.0.0.1:4021/valence-decide', 'Submit endpoint: POST http://127.0.0.1:4021/valence-submit', 'Bridge token: none', '"valence" skill']) {
    assert.ok(text.includes(line), line);
  }
  assert.ok(!/hc_agent_/.test(text));
  const long = offerMessage({ offerId: 'o', message: '', task: { id: 't', title: 'T', description: 'é'.repeat(300_000), category: null, deadline: null }, expiresAt: null }, { baseUrl: 'http://127.0.0.1:4021', token: 'tok' });
  assert.ok(Buffer.byteLength(JSON.stringify({ message: long })) < 256 * 1024, 'fits OpenClaw\'s hook body limit');
  assert.match(long, /description cut at 64000 characters/);
  assert.match(long, /Bridge token: tok/);
});

test('the shipped skill: OpenClaw front matter and the commands the message points to', () => {
  const skill = fs.readFileSync(path.join(ROOT, 'skills', 'valence', 'SKILL.md'), 'utf8');
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(skill)?.[1] ?? '';
  assert.match(fm, /^name: valence$/m);
  const description = /^description: (.+)$/m.exec(fm)?.[1] ?? '';
  assert.ok(description.length > 20 && description.length < 160, `description is one line under 160 characters (${description.length})`);
  const metadata = JSON.parse(/^metadata: (.+)$/m.exec(fm)?.[1] ?? 'null');
  assert.deepEqual(metadata, { openclaw: { requires: { bins: ['curl'] } } });
  for (const heading of ['### Accept', '### Decline', '### Submit']) assert.ok(skill.includes(heading), heading);
  for (const p of ['<BRIDGE_URL>/valence-decide', '<BRIDGE_URL>/valence-submit?assignmentId=<ASSIGNMENT_ID>', "<<'VALENCE_DELIVERABLE'", 'Authorization: Bearer <BRIDGE_TOKEN>']) assert.ok(skill.includes(p), p);
  assert.ok(!/hc_agent_/.test(skill));
});

test('deployment files: both units restart on failure, read secrets from an environment file, are sandboxed; the example lists every setting', () => {
  for (const unit of ['valence-bridge.service', 'valence-bridge.user.service']) {
    const text = fs.readFileSync(path.join(ROOT, 'deploy', unit), 'utf8');
    for (const line of ['Restart=on-failure', 'EnvironmentFile=', 'StateDirectory=valence-bridge', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'LockPersonality=yes', 'bridge.ts']) {
      assert.ok(text.includes(line), `${unit}: ${line}`);
    }
    assert.ok(!/^MemoryDenyWriteExecute/m.test(text), `${unit}: V8 needs writable executable memory`);
  }
  // The hub's unit: its database (password hashes, deliverables) readable by the service alone.
  const hubUnit = fs.readFileSync(path.join(ROOT, 'deploy', 'valence.service'), 'utf8');
  for (const line of ['Restart=on-failure', 'DynamicUser=yes', 'StateDirectory=valence', 'UMask=0077', 'ProtectSystem=strict', 'dist/server.cjs']) assert.ok(hubUnit.includes(line), `valence.service: ${line}`);
  const example = fs.readFileSync(path.join(ROOT, 'deploy', 'bridge.example.env'), 'utf8');
  const env: Record<string, string> = {};
  for (const m of example.matchAll(/^([A-Z_]+)=(.*)$/gm)) env[m[1]] = m[2];
  const commented = [...example.matchAll(/^#([A-Z_]+)=/gm)].map((m) => m[1]);
  assert.deepEqual([...Object.keys(env), ...commented].sort(), OPTIONS.map((o) => o.env).sort());
  // The units set BRIDGE_STATE_DIR with Environment=; an EnvironmentFile= value would override it.
  assert.deepEqual(commented, ['BRIDGE_STATE_DIR']);
  const cfg = loadBridgeConfig([], { ...env, VALENCE_API_KEY: KEY, OPENCLAW_HOOKS_TOKEN: 't' });
  assert.equal(cfg.port, 4021);
  const tutorial = fs.readFileSync(path.join(ROOT, 'docs', 'bridge.md'), 'utf8');
  for (const o of OPTIONS) assert.ok(tutorial.includes(`| \`${o.env}\` |`), `docs/bridge.md documents ${o.env}`);
  for (const topic of ['hooks:', 'extraDirs', 'skills/valence', 'valence-bridge.service', 'valence-bridge.user.service', 'Troubleshooting']) assert.ok(tutorial.includes(topic), topic);
});

test('LOG_LEVEL: info writes every line, error only errors (no warnings), silent nothing', () => {
  const written = (level: 'info' | 'error' | 'silent') => {
    const out: string[] = [];
    const log = makeLogger(level, (line) => out.push(JSON.parse(line).level));
    log('info', 'an offer arrived');
    log('warn', 'OpenClaw did not take the offer; will retry');
    log('error', 'OPENCLAW REFUSED THE HOOKS TOKEN');
    return out;
  };
  assert.deepEqual(written('info'), ['info', 'warn', 'error']);
  assert.deepEqual(written('error'), ['error']);
  assert.deepEqual(written('silent'), []);
});
