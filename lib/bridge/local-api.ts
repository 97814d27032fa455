// The bridge's local HTTP API for the agent (loopback only):
//   POST /valence-decide  {offerId, accept, reason?}
//   POST /valence-submit  {assignmentId, contentText}  — or text/plain with ?assignmentId=
//   GET  /status
// Decisions and deliverables are relayed over the hub link; the answer is the hub's, with its status.
import http from 'node:http';
import { sameSecret } from '../domain/util.ts';
import { answerProtocolErrors } from '../http/core.ts';
import type { AddressInfo } from 'node:net';
import { HubTimeout, HubUnavailable, type HubReply } from './hub-link.ts';
import { isLoopback } from './config.ts';
import type { Logger } from './log.ts';

/** The hub closes a socket on frames over 1 MiB; a deliverable that would make one is refused here instead. */
export const MAX_FRAME_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = MAX_FRAME_BYTES;

export interface LocalApiDeps {
  token: string;
  log: Logger;
  status: () => object;
  decide: (offerId: string, accept: boolean, reason: string | undefined) => Promise<HubReply>;
  submit: (assignmentId: string, contentText: string) => Promise<HubReply>;
}

interface Issue {
  path: string;
  message: string;
}

class LocalError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly issues?: Issue[], readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

const ROUTES: { method: string; path: string; handler: keyof typeof handlers }[] = [
  { method: 'GET', path: '/status', handler: 'status' },
  { method: 'POST', path: '/valence-decide', handler: 'decide' },
  { method: 'POST', path: '/valence-submit', handler: 'submit' },
];

type Handler = (deps: LocalApiDeps, req: http.IncomingMessage, url: URL) => Promise<{ status: number; body: unknown }>;

const handlers: Record<'status' | 'decide' | 'submit', Handler> = {
  status: async (deps) => ({ status: 200, body: deps.status() }),

  decide: async (deps, req) => {
    const body = await readJson(req);
    const issues: Issue[] = [];
    if (typeof body.offerId !== 'string' || body.offerId.trim() === '') issues.push({ path: 'offerId', message: 'required: the offer id from the offer message' });
    if (typeof body.accept !== 'boolean') issues.push({ path: 'accept', message: 'required: true to accept, false to decline' });
    // Its length is the hub's to judge (2000 characters, counted as the hub counts them): relayed.
    if (body.reason !== undefined && body.reason !== null && typeof body.reason !== 'string') issues.push({ path: 'reason', message: 'must be a string' });
    if (issues.length) throw invalid(issues);
    const reason = typeof body.reason === 'string' ? body.reason : undefined;
    return relay(() => deps.decide((body.offerId as string).trim(), body.accept as boolean, reason));
  },

  submit: async (deps, req, url) => {
    const type = contentType(req);
    let assignmentId: unknown = url.searchParams.get('assignmentId') ?? undefined;
    let contentText: unknown;
    if (type === 'text/plain') {
      // One final line break is the heredoc's (or the text file's) end, not part of the deliverable.
      contentText = (await readText(req)).replace(/\r?\n$/, '');
    } else {
      const body = await readJson(req);
      if (body.assignmentId !== undefined) assignmentId = body.assignmentId;
      contentText = body.contentText;
    }
    const issues: Issue[] = [];
    if (typeof assignmentId !== 'string' || assignmentId.trim() === '') issues.push({ path: 'assignmentId', message: 'required: the assignmentId the accept answered with' });
    if (typeof contentText !== 'string' || contentText.length === 0) issues.push({ path: 'contentText', message: 'required: the deliverable as text' });
    if (issues.length) throw invalid(issues);
    const frameBytes = Buffer.byteLength(JSON.stringify({ type: 'submit_deliverable', requestId: 'x'.repeat(32), assignmentId, contentText }));
    if (frameBytes > MAX_FRAME_BYTES) {
      throw new LocalError(413, 'body_too_large', `The deliverable is too large for the hub link (${frameBytes} bytes encoded, limit ${MAX_FRAME_BYTES}); shorten it or link to the full result.`);
    }
    return relay(() => deps.submit((assignmentId as string).trim(), contentText as string));
  },
};

async function relay(call: () => Promise<HubReply>): Promise<{ status: number; body: unknown }> {
  let reply: HubReply;
  try {
    reply = await call();
  } catch (err) {
    if (err instanceof HubUnavailable) throw new LocalError(503, 'hub_unavailable', err.message, undefined, { 'Retry-After': '5' });
    if (err instanceof HubTimeout) throw new LocalError(504, 'hub_timeout', err.message);
    throw err;
  }
  if (reply.ok) return { status: 200, body: { ok: true, ...reply.body } };
  const error: Record<string, unknown> = { code: reply.code, message: reply.message };
  if (reply.issues !== undefined) error.issues = reply.issues;
  return { status: reply.status, body: { ok: false, error } };
}

function invalid(issues: Issue[]) {
  return new LocalError(400, 'invalid_body', 'The request body is not valid: ' + issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

function contentType(req: http.IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const tooLarge = () => new LocalError(413, 'body_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);

async function readText(req: http.IncomingMessage): Promise<string> {
  return (await readBody(req)).toString('utf8');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const type = contentType(req);
  if (type !== 'application/json') throw new LocalError(415, 'unsupported_media_type', 'Send JSON with Content-Type: application/json.');
  const text = (await readBody(req)).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LocalError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid([{ path: '', message: 'must be a JSON object' }]);
  return parsed as Record<string, unknown>;
}

/** A request from a web page (a browser sends Origin) or for a non-loopback Host name (DNS rebinding) is not the agent. */
function fromBrowserOrElsewhere(req: http.IncomingMessage): boolean {
  if (req.headers.origin !== undefined) return true;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none' && site !== 'same-origin') return true;
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name !== '' && !isLoopback(name);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

export interface LocalApi {
  server: http.Server;
  url: string;
  close: () => Promise<void>;
}

export async function startLocalApi(host: string, port: number, deps: LocalApiDeps): Promise<LocalApi> {
  const server = http.createServer((req, res) => {
    const started = Date.now();
    // A request target that is no path (//[, http://x:99999/) is answered 400 below, not thrown here.
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '/', 'http://bridge.local');
    } catch {
      // url stays null
    }
    const path = url?.pathname ?? '(not a path)';
    const finish = (status: number, body: unknown, headers?: Record<string, string>) => {
      send(res, status, body, headers);
      deps.log(status >= 500 ? 'warn' : 'info', 'local request', { method: req.method, path, status, ms: Date.now() - started });
    };
    void (async () => {
      try {
        if (fromBrowserOrElsewhere(req)) throw new LocalError(403, 'forbidden', 'The bridge only answers local programs, not web pages or other hosts.');
        if (!url) throw new LocalError(400, 'bad_request', 'The request target is not a path; the bridge serves POST /valence-decide, POST /valence-submit and GET /status.');
        if (deps.token) {
          const auth = req.headers.authorization ?? '';
          const m = /^Bearer\s+(.+)$/i.exec(auth);
          if (!m || !sameSecret(m[1].trim(), deps.token)) {
            throw new LocalError(401, 'unauthorized', 'This bridge needs Authorization: Bearer <bridge token>; the token is in the offer message.', undefined, { 'WWW-Authenticate': 'Bearer' });
          }
        }
        const matches = ROUTES.filter((r) => r.path === url.pathname);
        if (matches.length === 0) throw new LocalError(404, 'not_found', 'Nothing here. The bridge serves POST /valence-decide, POST /valence-submit and GET /status.');
        const route = matches.find((r) => r.method === req.method);
        if (!route) throw new LocalError(405, 'method_not_allowed', `Use ${matches.map((r) => r.method).join(', ')} for ${url.pathname}.`, undefined, { Allow: matches.map((r) => r.method).join(', ') });
        const out = await handlers[route.handler](deps, req, url);
        finish(out.status, out.body);
      } catch (err) {
        if (err instanceof LocalError) {
          const error: Record<string, unknown> = { code: err.code, message: err.message };
          if (err.issues) error.issues = err.issues;
          finish(err.status, { ok: false, error }, err.headers);
        } else {
          deps.log('error', 'local API failure', { path, error: (err as Error).message });
          finish(500, { ok: false, error: { code: 'internal_error', message: 'The bridge failed to handle this request; see its log.' } });
        }
        // Drain an unread body so the client sees the answer rather than a reset.
        req.resume();
      }
    })();
  });
  // What Node's HTTP parser refuses is answered in the same JSON shape as every other error.
  answerProtocolErrors(server, (msg, fields) => deps.log('info', msg, fields), 'the bridge', 'GET, POST');
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections?.();
      }),
  };
}
