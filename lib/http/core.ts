// The HTTP plumbing: the call object handlers get, body reading, JSON replies, the one error writer,
// and the route table matcher. No framework: a route is a method, a path pattern and a handler.
import { isUtf8 } from 'node:buffer';
import { type IncomingMessage, METHODS, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError, errorBody, toAppError } from '../errors.ts';
import type { Principal } from '../domain/context.ts';
import type { Logger } from '../log.ts';

export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  ip: string;
  principal?: Principal;
  /** The parsed JSON body ({} when empty); 400/413/415 on bad input. */
  body(): Promise<unknown>;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string | string[]>;
  /** A non-JSON answer (HTML pages). */
  html?: string;
  /** A plain-text answer with its content type (metrics). */
  text?: string;
  contentType?: string;
}

export type Handler = (c: Call) => Reply | Promise<Reply>;

export interface RouteDoc {
  summary: string;
  /** loopback: loopback callers (and VALENCE_PUBLISH_ALLOW) with the publish token when set; local: loopback callers or an admin's session. */
  auth: 'none' | 'agent' | 'buyer' | 'worker' | 'admin' | 'session' | 'loopback' | 'local';
  /** Error statuses particular to this route, with what they mean (the common ones are added from auth, body and path). */
  errors?: Record<number, string>;
  /** The zod schema that validates the body (a function: schemas are made on first use); the API description is made from it. */
  body?: () => unknown;
  query?: () => unknown;
  status?: number;
}

export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
  /** Routes with a doc are listed in /api/openapi.json. */
  doc?: RouteDoc;
}

interface CompiledRoute extends Route {
  /** The path's literal segments, by position (position 0 is the empty one before the first slash). */
  literals: [number, string][];
  /** The parameters' names, by position. */
  names: [number, string][];
}

const MAX_ID = 128;

/** Compiles a route table; matching returns the handler and params, or the allowed methods for a path. */
export function compileRoutes(routes: Route[]) {
  // Exact paths are looked up in a map; patterns with parameters are tried in table order among those
  // with as many segments, their literal segments compared before any parameter is decoded.
  const exact = new Map<string, { pattern: string; byMethod: Map<string, Handler> }>();
  const bySegments = new Map<number, CompiledRoute[]>();
  // A GET route with the pattern '*' answers a GET or HEAD that no other route takes (the web pages'
  // "page not found"); it throws noRoute() for requests it does not answer itself.
  let fallback: Handler | undefined;
  for (const r of routes) {
    if (r.pattern === '*') {
      fallback = r.handler;
      continue;
    }
    const parts = r.pattern.split('/');
    if (!parts.some((p) => p.startsWith(':'))) {
      if (!exact.has(r.pattern)) exact.set(r.pattern, { pattern: r.pattern, byMethod: new Map() });
      exact.get(r.pattern)!.byMethod.set(r.method, r.handler);
      continue;
    }
    const c: CompiledRoute = { ...r, literals: [], names: [] };
    parts.forEach((p, i) => (p.startsWith(':') ? c.names.push([i, p.slice(1)]) : c.literals.push([i, p])));
    if (!bySegments.has(parts.length)) bySegments.set(parts.length, []);
    bySegments.get(parts.length)!.push(c);
  }
  const samePath = (r: CompiledRoute, segs: string[]) => {
    for (const [i, lit] of r.literals) if (segs[i] !== lit) return false;
    for (const [i] of r.names) if (segs[i] === '') return false;
    return true;
  };
  const paramsOf = (r: CompiledRoute, segs: string[]) => {
    const params: Record<string, string> = {};
    for (const [i, name] of r.names) {
      let v: string;
      try {
        v = decodeURIComponent(segs[i]);
      } catch {
        v = '';
      }
      // An id that is not an id still reaches the handler, which answers 404 with the resource's code.
      params[name] = v.length > MAX_ID ? '' : v;
    }
    return params;
  };
  return function match(method: string, path: string): { handler?: Handler; pattern?: string; params: Record<string, string>; allow?: string[] } {
    const e = exact.get(path);
    if (e) {
      const h = e.byMethod.get(method) ?? (method === 'HEAD' ? e.byMethod.get('GET') : undefined);
      // The table's own pattern string, not the request's copy of it: /metrics counts by it.
      return h ? { handler: h, pattern: e.pattern, params: {} } : { params: {}, allow: [...e.byMethod.keys()] };
    }
    const segs = path.split('/');
    let allow: string[] | undefined;
    for (const r of bySegments.get(segs.length) ?? []) {
      if (!samePath(r, segs)) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, pattern: r.pattern, params: paramsOf(r, segs) };
      (allow ??= []).push(r.method);
    }
    if (!allow && fallback && (method === 'GET' || method === 'HEAD')) return { handler: fallback, params: {} }; // counted as unmatched
    return { params: {}, allow };
  };
}

/** The answer to a request no route takes: 404 not_found (SPEC §4). */
export function noRoute(method: string, path: string): AppError {
  return new AppError(404, 'not_found', `No route for ${method} ${path}.`);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Whether the request says it carries a body (a length above 0, or chunks). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * For a route that takes no body: one sent anyway must still be JSON, UTF-8 and within the limit
 * (SPEC §4: 415, 400, 413), or the request is refused before anything is done. Its content is ignored.
 */
export function noBody(h: Handler): Handler {
  return (c) => (hasBody(c.req) ? c.body().then(() => h(c)) : h(c));
}

export function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    // The client went away before its body was complete (Node says "aborted", ECONNRESET): nothing
    // went wrong on the hub, so no 500 and no error log; the answer has nobody to reach anyway.
    req.on('error', () => {
      if (!failed) reject(new AppError(400, 'body_incomplete', 'The connection closed before the whole body arrived.'));
    });
    req.on('end', () => {
      if (failed) return;
      if (size === 0) return resolve({});
      const type = req.headers['content-type'] ?? '';
      if (!JSON_TYPE.test(type)) {
        return reject(new AppError(415, 'unsupported_media_type', 'Send the body as JSON with "Content-Type: application/json".'));
      }
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      // JSON is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, not turned into U+FFFD and stored.
      if (!isUtf8(buf)) return reject(new AppError(400, 'invalid_json', 'The request body is not valid UTF-8.'));
      const text = buf.toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return reject(new AppError(400, 'invalid_json', 'The request body is not valid JSON.'));
      }
      if (hasLoneSurrogate(text, value)) return reject(loneSurrogate());
      resolve(value);
    });
  });
}

// A \uD800–\uDFFF escape in the text is the only way JSON can carry half a surrogate pair (UTF-8
// bytes cannot), so only a text with one is searched, string by string.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether parsed JSON holds a string (or key) with half a surrogate pair ("\ud800" alone): not text,
 * and not storable as UTF-8 (SQLite would keep bytes that read back as U+FFFD).
 */
export function hasLoneSurrogate(text: string, value: unknown): boolean {
  if (!SURROGATE_ESCAPE.test(text)) return false;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

export function loneSurrogate(): AppError {
  return new AppError(400, 'invalid_json', 'The JSON holds a \\u escape that is half of a surrogate pair; text must be valid Unicode.');
}

function tooLarge(limit: number) {
  return new AppError(413, 'body_too_large', `The request body is larger than ${limit} bytes.`);
}

const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string | string[]>) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string, headers?: Record<string, string | string[]>) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(html);
}

/** The one place an error becomes a response. Unknown errors are logged and answered 500 without details. */
export function sendError(res: ServerResponse, err: unknown, log: Logger, ctx: Record<string, unknown>) {
  const e = toAppError(err);
  // Only what went wrong unexpectedly (500) is an error line; a 503 (database_busy) is a refusal the request's own line records.
  if (e.status === 500) log.error('request failed', { ...ctx, error: String((err as Error)?.stack ?? err) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { ...(e.headers ?? {}) };
  if (e.status === 413) headers.Connection = 'close';
  sendJson(res, e.status, errorBody(e), headers);
}

/**
 * An error answer written straight to a socket, for what never becomes a request object: requests
 * Node's parser refuses, and refused WebSocket handshakes. Same body as every other error (SPEC §4).
 */
export function endWithError(socket: Duplex, err: AppError) {
  const body = JSON.stringify(errorBody(err));
  const extra = Object.entries(err.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/** The answer to a request Node's HTTP parser refused ('clientError'), by the parser's error code; `who` names the server in it. */
export function clientErrorAnswer(errCode: string | undefined, rawPacket?: Buffer, who = 'this hub'): AppError {
  // An unknown method in an otherwise well-formed request line is 501; other garbage is a 400. Node's
  // parser says HPE_INVALID_METHOD; Deno's says HPE_ERROR for everything, so the line itself decides.
  const method = rawPacket && /^([A-Z][A-Z-]*) \S+ HTTP\/1\.[01]\r?\n/.exec(rawPacket.toString('latin1', 0, 2048))?.[1];
  if (errCode === 'HPE_INVALID_METHOD' || errCode === 'HPE_ERROR') errCode = method && !METHODS.includes(method) ? 'HPE_INVALID_METHOD' : undefined;
  switch (errCode) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(431, 'headers_too_large', `The request line and headers are larger than ${who} reads (16 KB).`);
    case 'HPE_INVALID_METHOD':
      return new AppError(501, 'method_not_implemented', `${who[0].toUpperCase()}${who.slice(1)} does not know that request method.`);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_REQUEST_HEADERS_TIMEOUT':
      return new AppError(408, 'request_timeout', 'The request did not arrive in time.');
    default:
      return new AppError(400, 'bad_request', 'The request is not valid HTTP/1.1 (its framing, a header or the request line).');
  }
}

/**
 * Node's own answers (parser errors, Expect, CONNECT) in the JSON error shape; each refusal logged as
 * one line. For the hub, and for the bridge's local API (`who`: 'the bridge', `allow`: its methods).
 */
export function answerProtocolErrors(server: Server, log?: (msg: string, fields: Record<string, unknown>) => void, who = 'this hub', allow = 'GET, HEAD, POST, PATCH') {
  server.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const answer = clientErrorAnswer(err.code, err.rawPacket, who);
    endWithError(socket, answer);
    log?.('request refused by the HTTP parser', { status: answer.status, code: answer.code });
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    sendJson(res, 417, errorBody(new AppError(417, 'expectation_failed', `The only Expect ${who} answers is 100-continue.`)), { Connection: 'close' });
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => {});
    endWithError(socket, new AppError(405, 'method_not_allowed', `CONNECT is not served here: ${who} is not a proxy.`, { headers: { Allow: allow } }));
  });
}
