// Shared test plumbing: a real hub on port 0 with a real SQLite file in a temp directory, and a small
// HTTP client that returns status, headers and parsed body.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHub, type Hub, type HubInternals } from '../lib/hub.ts';
import type { HubConfig } from '../lib/config.ts';

export interface TestHub extends Hub {
  dir: string;
  api: (method: string, route: string, opts?: RequestOpts) => Promise<ApiResponse>;
  stop: () => Promise<void>;
}

export interface RequestOpts {
  key?: string;
  body?: unknown;
  /** A raw body sent as is (no JSON encoding). */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  cookie?: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
}

export function tempDir(prefix = 'valence-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestHub(overrides: Partial<HubConfig> = {}, internals: HubInternals = {}): Promise<TestHub> {
  const dir = tempDir();
  const hub = await startHub({
    dbPath: path.join(dir, 'valence.db'),
    host: '127.0.0.1',
    port: 0,
    agentWsPort: 0,
    logLevel: 'silent',
    ...overrides,
  }, {}, internals);
  const api = (method: string, route: string, opts: RequestOpts = {}) => request(hub.url, method, route, opts);
  return Object.assign(hub, {
    dir,
    api,
    stop: async () => {
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

export async function request(base: string, method: string, route: string, opts: RequestOpts = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Uint8Array | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  if (opts.cookie) headers.Cookie = opts.cookie;
  const res = await fetch(base + route, { method, headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export async function registerAgent(hub: TestHub, fields: Record<string, unknown> = {}) {
  const res = await hub.api('POST', '/api/agents/register', { body: { name: `agent-${unique()}`, ...fields } });
  if (res.status !== 201) throw new Error(`agent registration failed: ${res.status} ${res.text}`);
  return res.body as { agentId: string; userId: string; name: string; category: string | null; apiKey: string };
}

export async function registerBuyer(hub: TestHub, fields: Record<string, unknown> = {}) {
  const u = unique();
  const res = await hub.api('POST', '/api/buyers/register', { body: { name: `buyer-${u}`, email: `buyer-${u}@example.test`, password: 'correct horse battery', ...fields } });
  if (res.status !== 201) throw new Error(`buyer registration failed: ${res.status} ${res.text}`);
  return res.body as { userId: string; apiKey: string };
}

/** Creates a published task for a buyer key and returns it. */
export async function openTask(hub: TestHub, buyerKey: string, fields: Record<string, unknown> = {}) {
  const res = await hub.api('POST', '/api/buyer/tasks', { key: buyerKey, body: { title: `task ${unique()}`, description: 'Do the thing.', publish: true, ...fields } });
  if (res.status !== 201) throw new Error(`task creation failed: ${res.status} ${res.text}`);
  return res.body.task as { id: string; status: string; title: string; category: string | null };
}

/** Runs matching for a task and returns the offers made. */
export async function match(hub: TestHub, buyerKey: string, taskId: string, limit?: number) {
  const res = await hub.api('POST', `/api/buyer/tasks/${taskId}/match`, { key: buyerKey, body: limit === undefined ? {} : { limit } });
  if (res.status !== 200) throw new Error(`matching failed: ${res.status} ${res.text}`);
  return res.body.offers as { offerId: string; workerUserId: string; delivered: boolean }[];
}

let seq = 0;
/** A unique name for this run, so tests sharing one hub do not collide. */
export const uniq = (p: string) => `${p}-${Math.random().toString(36).slice(2, 8)}-${seq++}`;
export const PASSWORD = 'correct horse battery staple';

export function assertError(res: ApiResponse, status: number, code: string, what = '') {
  assert.equal(res.status, status, `${what} status (body ${res.text})`);
  assert.equal(res.body?.ok, false, `${what} ok:false (body ${res.text})`);
  assert.equal(res.body.error?.code, code, `${what} error.code (body ${res.text})`);
  assert.equal(typeof res.body.error.message, 'string', `${what} error.message`);
  assert.ok(res.body.error.message.length > 0, `${what} error.message is a sentence`);
}

/** A refusal because of the state: the SPEC gives 400/409 without naming the code. */
export function assertStateRefusal(res: ApiResponse, what = '') {
  assert.ok(res.status === 400 || res.status === 409, `${what}: 400 or 409 (got ${res.status} ${res.text})`);
  assert.equal(res.body?.ok, false);
  assert.match(res.body.error?.code ?? '', /^[a-z][a-z0-9_]*$/);
}

export function issuePaths(res: ApiResponse): string[] {
  const issues = res.body?.error?.issues;
  assert.ok(Array.isArray(issues), `error.issues is a list (body ${res.text})`);
  for (const i of issues) {
    assert.equal(typeof i.path, 'string');
    assert.equal(typeof i.message, 'string');
  }
  return issues.map((i: { path: string }) => i.path);
}

/** Polls a condition until it holds or the deadline passes (no fixed sleeps). */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

