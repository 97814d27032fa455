// A stand-in for the OpenClaw gateway's inbound hooks, speaking its wire format as observed on
// openclaw 2026.9.6: POST <path>/agent and <path>/wake, Bearer token or x-openclaw-token,
// 401 "Unauthorized" as plain text, 400 {ok:false,error} for bad bodies (sessionKey without opt-in,
// unknown agentId, missing message, a token in the query string), 429 with Retry-After after 20 failed
// authentications in a minute, 200 {ok:true,runId} on admission, the same runId again for a repeated
// idempotency key. Tests can make it answer 5xx for a while, hold a request unanswered, or stop it to
// make it unreachable.
import http from 'node:http';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface HookCall {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  status: number;
  runId?: string;
}

export class OpenClawStandIn extends EventEmitter {
  server: http.Server | null = null;
  port = 0;
  token: string;
  agents = ['main'];
  /** Every request answered, in order. */
  calls: HookCall[] = [];
  /** Agent runs admitted (one per distinct idempotency key). */
  admitted: HookCall[] = [];
  wakes: HookCall[] = [];
  /** The next N hook requests get this status (e.g. 503) before anything else is checked. */
  private failures: { count: number; status: number; retryAfter?: number } = { count: 0, status: 503 };
  private replay = new Map<string, string>();
  private authFailures: number[] = [];

  constructor(token: string) {
    super();
    this.token = token;
  }

  get hooksUrl() {
    return `http://127.0.0.1:${this.port}/hooks/agent`;
  }

  failNext(count: number, status: number, retryAfter?: number) {
    this.failures = { count, status, retryAfter };
  }

  /** The next hook request waits, unanswered, until release() (a slow OpenClaw); `arrived` settles when it comes. */
  holdNext(): { arrived: Promise<void>; release: () => void } {
    let arrive!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (arrive = r));
    const released = new Promise<void>((r) => (release = r));
    this.hold = { arrive, released };
    return { arrived, release };
  }
  private hold: { arrive: () => void; released: Promise<void> } | null = null;

  async start(port = this.port): Promise<this> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening: the bridge then finds OpenClaw unreachable. */
  async stop() {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
  }

  private answer(res: http.ServerResponse, path: string, req: http.IncomingMessage, body: Record<string, unknown>, status: number, payload: unknown, headers: Record<string, string> = {}) {
    const call: HookCall = { path, headers: req.headers, body, status };
    if (typeof payload === 'string') {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(payload);
    } else {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
      if (status === 200 && payload && typeof payload === 'object' && 'runId' in payload) call.runId = String((payload as { runId: unknown }).runId);
    }
    this.calls.push(call);
    this.emit('call', call);
    return call;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://openclaw.local');
    let text = '';
    for await (const c of req) text += c;
    const held = this.hold;
    if (held) {
      this.hold = null;
      held.arrive();
      await held.released;
    }
    let body: Record<string, unknown> = {};
    const path = url.pathname;
    if (path !== '/hooks/agent' && path !== '/hooks/wake') return this.answer(res, path, req, body, 404, 'Not Found');
    if (req.method !== 'POST') return this.answer(res, path, req, body, 405, 'Method Not Allowed', { Allow: 'POST' });
    if (url.searchParams.has('token')) return this.answer(res, path, req, body, 400, { ok: false, error: 'hook token must be sent in a header, not the query string' });
    if (this.failures.count > 0) {
      this.failures.count--;
      const h: Record<string, string> = this.failures.retryAfter !== undefined ? { 'Retry-After': String(this.failures.retryAfter) } : {};
      return this.answer(res, path, req, body, this.failures.status, { ok: false, error: 'gateway_unavailable' }, h);
    }
    const now = Date.now();
    this.authFailures = this.authFailures.filter((t) => now - t < 60_000);
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    const given = bearer || (req.headers['x-openclaw-token'] as string | undefined);
    if (given !== this.token) {
      if (this.authFailures.length >= 20) return this.answer(res, path, req, body, 429, 'Too Many Requests', { 'Retry-After': '60' });
      this.authFailures.push(now);
      return this.answer(res, path, req, body, 401, 'Unauthorized');
    }
    this.authFailures = [];
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      return this.answer(res, path, req, body, 400, { ok: false, error: 'invalid JSON' });
    }
    if (body.agentId !== undefined && !this.agents.includes(String(body.agentId))) {
      return this.answer(res, path, req, body, 400, { ok: false, error: `unknown agentId "${String(body.agentId)}"` });
    }
    if (body.sessionKey !== undefined) {
      return this.answer(res, path, req, body, 400, { ok: false, error: 'sessionKey is disabled for externally supplied hook payload values; set hooks.allowRequestSessionKey=true to enable' });
    }
    if (path === '/hooks/wake') {
      if (typeof body.text !== 'string' || !body.text.trim()) return this.answer(res, path, req, body, 400, { ok: false, error: 'text required' });
      const call = this.answer(res, path, req, body, 200, { ok: true, mode: body.mode ?? 'now', eventOutcome: 'queued' });
      this.wakes.push(call);
      this.emit('wake', call);
      return;
    }
    if (typeof body.message !== 'string' || !body.message.trim()) return this.answer(res, path, req, body, 400, { ok: false, error: 'message required' });
    const key = (req.headers['idempotency-key'] as string | undefined) ?? (typeof body.idempotencyKey === 'string' ? body.idempotencyKey : undefined);
    const replayed = key ? this.replay.get(key) : undefined;
    const runId = replayed ?? randomUUID();
    if (key && !replayed) this.replay.set(key, runId);
    const call = this.answer(res, path, req, body, 200, { ok: true, runId });
    if (!replayed) {
      this.admitted.push(call);
      this.emit('admitted', call);
    }
  }
}
