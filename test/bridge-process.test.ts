// The bridge as a program: --help, refusing bad configuration, SIGTERM, a restart (also after a crash)
// that does not hand an offer over again, and the same program under Deno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { startTestHub, registerAgent, registerBuyer, openTask, match, tempDir } from './helpers.ts';
import { OpenClawStandIn } from './openclaw/stand-in.ts';
import { spawnBridge, waitFor, call } from './openclaw/kit.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const HOOKS_TOKEN = 'process-test-hooks-token';

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.versions.deno ? 'node' : process.execPath, ['--import', 'tsx', 'bridge.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 30_000 });
}

test('--help lists every setting; bad settings stop the program with a sentence and exit 2', () => {
  const help = run(['--help']);
  assert.equal(help.status, 0);
  for (const name of ['VALENCE_WS_URL', 'VALENCE_API_KEY', 'OPENCLAW_HOOKS_URL', 'OPENCLAW_HOOKS_TOKEN', 'OPENCLAW_AGENT_ID', 'BRIDGE_HOST', 'BRIDGE_PORT', 'BRIDGE_TOKEN', 'BRIDGE_STATE_DIR', 'ws://127.0.0.1:4020/agent-ws', 'http://127.0.0.1:18789/hooks/agent', '4021', './data/bridge']) {
    assert.ok(help.stdout.includes(name), `--help mentions ${name}`);
  }
  const good = { VALENCE_API_KEY: 'hc_agent_' + 'a'.repeat(43), OPENCLAW_HOOKS_TOKEN: 'tok' };
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['no key', [], { OPENCLAW_HOOKS_TOKEN: 'tok' }, /VALENCE_API_KEY is not set/],
    ['not an agent key', [], { ...good, VALENCE_API_KEY: 'hc_buyer_x' }, /does not look like an agent key/],
    ['no hooks token', [], { VALENCE_API_KEY: good.VALENCE_API_KEY }, /OPENCLAW_HOOKS_TOKEN is not set/],
    ['a LAN address', [], { ...good, BRIDGE_HOST: '0.0.0.0' }, /BRIDGE_HOST must be a loopback address/],
    ['a LAN address by flag', ['--host', '192.168.1.5'], good, /BRIDGE_HOST must be a loopback address/],
    ['a secret as a flag', ['--valence-api-key', 'x'], good, /set VALENCE_API_KEY in the environment/],
    ['a bad hub URL', [], { ...good, VALENCE_WS_URL: 'ftp://hub' }, /VALENCE_WS_URL must be/],
    ['a token in the hooks URL', [], { ...good, OPENCLAW_HOOKS_URL: 'http://127.0.0.1:18789/hooks/agent?token=x' }, /must not carry a token/],
    ['a bad port', [], { ...good, BRIDGE_PORT: '99999' }, /BRIDGE_PORT must be a port number/],
  ];
  for (const [name, args, env, re] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 2, name);
    assert.match(r.stderr, re, name);
    assert.ok(!r.stderr.includes(good.VALENCE_API_KEY), `${name}: the key is not echoed`);
  }
});

for (const runtime of ['node', 'deno'] as const) {
  test(`${runtime}: a restarted bridge — after SIGTERM or a crash — never hands an offer over twice, and resumes waiting ones`, { timeout: 120_000 }, async () => {
    const hub = await startTestHub();
    const oc = await new OpenClawStandIn(HOOKS_TOKEN).start();
    const scratch = tempDir('valence-bridge-proc-');
    const stateDir = path.join(scratch, 'state');
    const agent = await registerAgent(hub, { category: 'writing' });
    const buyer = await registerBuyer(hub);
    const env = { VALENCE_WS_URL: hub.gatewayUrl!, VALENCE_API_KEY: agent.apiKey, OPENCLAW_HOOKS_URL: oc.hooksUrl, OPENCLAW_HOOKS_TOKEN: HOOKS_TOKEN, BRIDGE_STATE_DIR: stateDir };
    const agentCalls = () => oc.calls.filter((c) => c.path === '/hooks/agent');
    let b = await spawnBridge(env, [], runtime);
    try {
      await waitFor(async () => (await call(b.url, 'GET', '/status')).body?.connected, 'connected');
      const t1 = await openTask(hub, buyer.apiKey, { category: 'writing' });
      const [o1] = await match(hub, buyer.apiKey, t1.id);
      await waitFor(() => agentCalls().length === 1, 'first hand-over');
      assert.ok(fs.existsSync(path.join(stateDir, 'offers.json')));

      // A graceful stop, then a start: the hub replays o1 (still pending); OpenClaw does not see it again.
      const code = await b.stop('SIGTERM');
      assert.ok(b.lines.some((l) => l.msg === 'stopping') && b.lines.some((l) => l.msg === 'stopped'), 'a graceful stop');
      // Deno's child_process reports a child that exits 0 after SIGTERM as (null, 'SIGTERM').
      if (!process.versions.deno) assert.equal(code, 0);
      b = await spawnBridge(env, [], runtime);
      const st = await waitFor(async () => {
        const r = await call(b.url, 'GET', '/status');
        return r.body?.connected ? r : null;
      }, 'reconnected');
      assert.equal(st.body.handedOver, 1);
      const t2 = await openTask(hub, buyer.apiKey, { category: 'writing' });
      const [o2] = await match(hub, buyer.apiKey, t2.id);
      await waitFor(() => agentCalls().length === 2, 'second hand-over');
      assert.deepEqual(agentCalls().map((c) => c.body.idempotencyKey), [o1.offerId, o2.offerId]);

      // A crash while OpenClaw is down: the offer waits on disk and goes over once after the restart.
      const port = oc.port;
      await oc.stop();
      const t3 = await openTask(hub, buyer.apiKey, { category: 'writing' });
      const [o3] = await match(hub, buyer.apiKey, t3.id);
      await waitFor(async () => (await call(b.url, 'GET', '/status')).body?.waiting === 1, 'third offer waiting');
      assert.notEqual(await b.stop('SIGKILL'), 0);
      await oc.start(port);
      b = await spawnBridge(env, [], runtime);
      await waitFor(() => agentCalls().length === 3, 'third hand-over after the restart');
      await waitFor(async () => (await call(b.url, 'GET', '/status')).body?.connected, 'reconnected again');
      assert.deepEqual(agentCalls().map((c) => c.body.idempotencyKey), [o1.offerId, o2.offerId, o3.offerId]);
      const final = await call(b.url, 'GET', '/status');
      assert.equal(final.status, 200);
      assert.equal(final.body.handedOver, 3);
      assert.equal(final.body.waiting, 0);

      // A second bridge on the same state folder is refused: it would hand offers over twice.
      const second = await spawnBridge(env, [], runtime).then(
        () => assert.fail('a second bridge on the same folder started'),
        (err: Error) => err,
      );
      assert.match(second.message, /another bridge \(pid \d+\) is using/);
    } finally {
      await b.stop();
      await oc.stop();
      await hub.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
}
