// The agent gateway at /agent-ws (SPEC §6): auth frame, replay of pending offers (and of the frames
// kept while the agent had no socket), live pushes, decisions and deliverables over the socket
// through the same domain functions the HTTP routes call.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { type Ctx, lazySchemas, type Notifier, type Principal } from '../domain/context.ts';
import type { Domain } from '../domain/index.ts';
import { AppError, isBusyError, toAppError } from '../errors.ts';
import { whileBusy } from '../storage/index.ts';
import { endWithError, hasLoneSurrogate, loneSurrogate } from '../http/core.ts';
import { pendingOfferFrame, taskBrief } from '../domain/views.ts';

export const MAX_FRAME = 1024 * 1024;
const AUTH_TIMEOUT_MS = 10_000;
const FIRST_FRAME = 'The first frame must be {"type":"auth","apiKey":"hc_agent_…"}.';
const PING_MS = 30_000;
/** The sentence for a key that did not authenticate: the check's own, or a general one. */
const authFailure = (err: unknown) => (err instanceof AppError ? err.message : 'Authentication failed.');
const REPLY_CACHE = 500;
// A socket that stops reading gets cut off before its unsent frames eat the hub's memory.
const MAX_BUFFERED = 8 * 1024 * 1024;

interface Conn {
  ws: WebSocket;
  /** The connection's TCP socket (from the upgrade): text frames are written to it whole (textFrame). */
  socket: Duplex;
  principal?: Principal;
  alive: boolean;
  authTimer?: ReturnType<typeof setTimeout>;
  /** Answers by requestId (the frame's text, and its status for the log line). */
  replies: Map<string, { text: string; status: number }>;
  /** Frames for this socket between its auth and its join (see authenticate). */
  held?: string[] | null;
  /** Repeats of a request (same requestId) that arrived while it was still being answered. */
  waiting: Map<string, Record<string, unknown>[]>;
}

const ignore = () => {};

const requestId = () => z.union([z.string().min(1).max(200), z.number().finite()], { message: 'must be a string or a number' });
const frames = lazySchemas({
  offer_decision: () => z.object({ requestId: requestId(), offerId: z.string({ message: 'must be a string' }).min(1).max(200) }),
  submit_deliverable: () => z.object({ requestId: requestId(), assignmentId: z.string({ message: 'must be a string' }).min(1).max(200) }),
});

export interface GatewayOptions {
  pingMs?: number;
  authTimeoutMs?: number;
}

export function createGateway(ctx: Ctx, domain: Domain, opts: GatewayOptions = {}) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, clientTracking: false, perMessageDeflate: false });
  const byUser = new Map<string, Set<Conn>>();
  const all = new Set<Conn>();
  const log = ctx.log;

  function send(c: Conn, frame: unknown): boolean {
    return sendText(c, JSON.stringify(frame));
  }
  function sendText(c: Conn, text: string): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    // Authenticated, not joined yet: answers wait behind auth_ok and the replay (join()).
    if (c.held) {
      c.held.push(text);
      return true;
    }
    if (c.ws.bufferedAmount > MAX_BUFFERED) {
      log.error('agent socket not reading; terminated', { userId: c.principal?.userId });
      c.ws.terminate();
      return false;
    }
    c.socket.write(textFrame(text));
    return true;
  }

  function errorFrame(err: unknown, reqId?: unknown) {
    const e = err instanceof AppError ? err : toAppError(err);
    // Only what went wrong unexpectedly (500) is an error line; a 503 (database_busy, shutting_down)
    // is a refusal the frame's own line records.
    if (e.status === 500) log.error('gateway frame failed', { error: String((err as Error)?.stack ?? err) });
    return {
      type: 'error', ...(reqId !== undefined ? { requestId: reqId } : {}),
      code: e.code, status: e.status, message: e.message, ...(e.issues ? { issues: e.issues } : {}),
    };
  }

  function authenticate(c: Conn, principal: Principal) {
    clearTimeout(c.authTimer);
    c.principal = principal;
    // The socket joins once what this turn wrote is committed: its replay then holds committed offers
    // only, and an offer matched in this turn reaches it once (by the replay; the match's push, made
    // after the COMMIT, comes before the socket is listed). Frames it sends meanwhile are taken, and
    // their answers follow auth_ok.
    const pending = ctx.db.durable();
    if (!pending) return join(c, principal);
    c.held = [];
    pending.then(() => join(c, principal), () => join(c, principal));
  }

  function join(c: Conn, principal: Principal) {
    const held = c.held ?? [];
    c.held = null;
    if (c.ws.readyState !== WebSocket.OPEN) return;
    // Nothing lost: every offer still pending for this agent, oldest first; then what happened to its
    // work while it had no socket (a review, a cancellation: outbox.ts). Read before auth_ok: a socket
    // whose replay cannot be read (SQLite failed) is closed, and the agent connects again.
    let replay: string[];
    try {
      replay = domain.offers.pendingFor(principal.userId).map((o) => JSON.stringify(pendingOfferFrame(o as never, taskBrief(o))));
      replay.push(...domain.outbox.take(principal.userId));
    } catch (err) {
      send(c, errorFrame(err));
      c.ws.close(1011, 'replay failed; connect again');
      log.error('agent socket closed: its replay could not be read', { agentId: principal.agentId, error: String(err) });
      return;
    }
    let set = byUser.get(principal.userId);
    if (!set) byUser.set(principal.userId, (set = new Set()));
    set.add(c);
    send(c, { type: 'auth_ok', agentId: principal.agentId, userId: principal.userId });
    for (const text of replay) sendText(c, text);
    for (const text of held) sendText(c, text);
    log.info('agent connected', { agentId: principal.agentId, sockets: set.size });
  }

  /** A refused handshake: answered, and logged as the request it is (an accepted one is logged once it authenticates). */
  function refuseUpgrade(socket: Duplex, method: string, path: string, err: AppError) {
    endWithError(socket, err);
    log.request(method, path, err.status, 0);
  }

  function refuse(c: Conn, message: string) {
    c.held = null; // the socket is closing: its refusal goes out now
    send(c, { type: 'error', code: 'unauthorized', status: 401, message });
    c.ws.close(4401, 'unauthorized');
    log.info('agent socket refused', { code: 'unauthorized', message });
  }

  /** The agent behind an auth frame's key, or null after refusing the socket (SPEC §6: 4401). */
  function checkedKey(c: Conn, apiKey: unknown): Principal | null {
    try {
      return keyPrincipal(apiKey);
    } catch (err) {
      refuse(c, authFailure(err));
      return null;
    }
  }

  function keyPrincipal(apiKey: unknown): Principal {
    if (typeof apiKey !== 'string') throw new AppError(401, 'unauthorized', 'The auth frame needs "apiKey": "hc_agent_…".');
    const p = domain.accounts.authenticateBearer(`Bearer ${apiKey}`);
    if (p.role !== 'AGENT') throw new AppError(401, 'unauthorized', 'Only agent keys can open the agent gateway.');
    return p;
  }

  // Requests taken and not yet answered; close() waits for them, so that no decision is committed
  // without its ack reaching the agent.
  let inflight = 0;
  let closing = false;
  let drained: (() => void) | null = null;

  /**
   * Handles one client request frame. The answer is remembered per requestId on this connection; a
   * repeat gets the first answer again, also when it arrives while the first is still being answered.
   */
  function request(c: Conn, msg: Record<string, unknown>) {
    const started = performance.now();
    const reqId = msg.requestId;
    const cacheKey = typeof reqId === 'string' || typeof reqId === 'number' ? `${typeof reqId}:${reqId}` : undefined;
    if (cacheKey) {
      const cached = c.replies.get(cacheKey);
      if (cached !== undefined) {
        sendText(c, cached.text);
        return logFrame(c, msg.type as string, cached.status, started);
      }
      const repeats = c.waiting.get(cacheKey);
      if (repeats) return void repeats.push(msg);
      c.waiting.set(cacheKey, []);
    }
    inflight++;
    const type = msg.type as string;
    const p = c.principal!;
    // The request's work, returning its ack (a decision settles once committed: the decisions of one
    // turn run together before its COMMIT).
    const work = (): Record<string, unknown> | Promise<Record<string, unknown>> => {
      if (type === 'offer_decision') {
        const f = parseFrame(frames.offer_decision, msg);
        return domain.offers.queueDecision(p, f.offerId, { accept: msg.accept, reason: msg.reason }).then((r) => ({ type: 'ack', requestId: f.requestId, ...r }));
      }
      const f = parseFrame(frames.submit_deliverable, msg);
      return { type: 'ack', requestId: f.requestId, ...domain.assignments.submit(p, f.assignmentId, { contentText: msg.contentText }) };
    };
    const answerError = (err: unknown) => answer(c, errorFrame(err, reqId), cacheKey, type, started);
    // While another program holds the database's lock, the work is run again a moment later (for up
    // to 5 s, then 503 database_busy), as an HTTP request is.
    const retry = (err: unknown) => (isBusyError(err) ? whileBusy(work).then((ack) => answer(c, ack, cacheKey, type, started), answerError) : answerError(err));
    let ack: Record<string, unknown> | Promise<Record<string, unknown>>;
    try {
      ack = work();
    } catch (err) {
      return void retry(err);
    }
    if (ack instanceof Promise) ack.then((a) => answer(c, a, cacheKey, type, started), retry);
    else answer(c, ack, cacheKey, type, started);
  }

  /** One log line per answered request frame, like the HTTP request line (SPEC §9). */
  function logFrame(c: Conn, type: string, status: number, started: number) {
    log.frame(type, c.principal?.agentId ?? '', status, Math.round((performance.now() - started) * 10) / 10);
  }

  /** A frame refused before it became a request (invalid JSON, an unknown type…): answered and logged. */
  function refuseFrame(c: Conn, type: unknown, frame: { status: number; [k: string]: unknown }) {
    send(c, frame);
    log.frame(typeof type === 'string' ? type : '(none)', c.principal?.agentId ?? '', frame.status, 0);
  }

  /** Sends (and remembers) the answer to a request frame once the writes it reports are committed. */
  function answer(c: Conn, reply: Record<string, unknown>, cacheKey: string | undefined, type: string, started: number) {
    const text = JSON.stringify(reply);
    const status = reply.type === 'ack' ? 200 : Number(reply.status);
    // Every answer is remembered (a repeat gets the first reply, SPEC §6), an error too, except a 5xx:
    // then nothing was done (another program held the write lock, a COMMIT failed), and the same
    // request sent again is run again.
    const remember = !!cacheKey && !(status >= 500);
    // Like the HTTP answer, the ack waits until the writes are committed (storage groups commits).
    const pending = ctx.db.durable();
    if (!pending) return answered(c, { text, status }, cacheKey, remember, type, started);
    pending.then(
      () => answered(c, { text, status }, cacheKey, remember, type, started),
      (err) => {
        const failed = errorFrame(err, reply.requestId);
        answered(c, { text: JSON.stringify(failed), status: failed.status }, cacheKey, false, type, started);
      },
    );
  }

  /** The answer goes out; repeats that waited for it get it too (or, when it is not remembered, run anew). */
  function answered(c: Conn, reply: { text: string; status: number }, cacheKey: string | undefined, remember: boolean, type: string, started: number) {
    sendText(c, reply.text);
    logFrame(c, type, reply.status, started);
    if (cacheKey) {
      const repeats = c.waiting.get(cacheKey) ?? [];
      c.waiting.delete(cacheKey);
      if (remember) {
        c.replies.set(cacheKey, reply);
        if (c.replies.size > REPLY_CACHE) c.replies.delete(c.replies.keys().next().value!);
      }
      for (const m of repeats) {
        if (!remember) request(c, m);
        else {
          sendText(c, reply.text);
          logFrame(c, type, reply.status, started);
        }
      }
    }
    if (--inflight === 0 && drained) drained();
  }

  function onMessage(c: Conn, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    let msg: unknown;
    try {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      // ws checks a text frame's UTF-8 itself (1007 otherwise); a binary frame's bytes are checked here.
      if (isBinary && !isUtf8(buf)) throw new Error('not UTF-8');
      const text = buf.toString('utf8');
      msg = JSON.parse(text);
      if (hasLoneSurrogate(text, msg)) throw loneSurrogate();
    } catch (err) {
      if (!c.principal) return refuse(c, FIRST_FRAME);
      // Half a surrogate pair is refused with its own sentence, and the requestId it came with.
      if (err instanceof AppError) return refuseFrame(c, (msg as Record<string, unknown>).type, errorFrame(err, (msg as Record<string, unknown>).requestId));
      return refuseFrame(c, undefined, { type: 'error', code: 'invalid_json', status: 400, message: 'The frame is not valid JSON.' });
    }
    const m = (msg && typeof msg === 'object' && !Array.isArray(msg) ? msg : {}) as Record<string, unknown>;
    if (!c.principal) {
      if (m.type !== 'auth') return refuse(c, FIRST_FRAME);
      const p = checkedKey(c, m.apiKey);
      if (p) authenticate(c, p);
      return;
    }
    switch (m.type) {
      case 'offer_decision':
      case 'submit_deliverable':
        if (closing) {
          return refuseFrame(c, m.type, errorFrame(new AppError(503, 'shutting_down', 'The hub is shutting down; nothing was done. Send this again once you have reconnected.'), m.requestId));
        }
        return request(c, m);
      case 'auth': {
        // Another auth frame on an authenticated socket is checked like the first: a bad key ends the
        // socket as it would have at the start; another agent's key cannot take this socket over.
        const again = checkedKey(c, m.apiKey);
        if (!again) return;
        if (again.userId !== c.principal.userId) {
          return refuseFrame(c, m.type, errorFrame(new AppError(409, 'already_authenticated', 'This socket is authenticated as another agent; open a new socket for this key.'), m.requestId));
        }
        return send(c, { type: 'auth_ok', agentId: c.principal.agentId, userId: c.principal.userId });
      }
      case 'ping':
        return send(c, { type: 'pong', ...(m.requestId !== undefined ? { requestId: m.requestId } : {}) });
      case undefined:
        return refuseFrame(c, undefined, errorFrame(new AppError(400, 'invalid_body', 'The frame needs a "type".', { issues: [{ path: 'type', message: 'is required' }] }), m.requestId));
      default:
        return refuseFrame(c, String(m.type), errorFrame(new AppError(400, 'unknown_type', `Unknown frame type "${String(m.type).slice(0, 100)}".`), m.requestId));
    }
  }

  function onConnection(ws: WebSocket, socket: Duplex, preauth: Principal | null) {
    const c: Conn = { ws, socket, alive: true, replies: new Map(), waiting: new Map() };
    all.add(c);
    ws.on('pong', () => (c.alive = true));
    ws.on('message', (data, isBinary) => onMessage(c, data as Buffer, isBinary));
    ws.on('error', () => {}); // a protocol error closes the socket; 'close' cleans up
    ws.on('close', () => {
      clearTimeout(c.authTimer);
      all.delete(c);
      if (c.principal) {
        const set = byUser.get(c.principal.userId);
        set?.delete(c);
        if (set && set.size === 0) byUser.delete(c.principal.userId);
        log.info('agent disconnected', { agentId: c.principal.agentId });
      }
    });
    if (preauth) authenticate(c, preauth);
    else {
      c.authTimer = setTimeout(() => {
        send(c, { type: 'error', code: 'auth_timeout', status: 401, message: 'No auth frame within 10 seconds.' });
        ws.close(4408, 'auth_timeout');
        log.info('agent socket refused', { code: 'auth_timeout' });
      }, opts.authTimeoutMs ?? AUTH_TIMEOUT_MS);
    }
  }

  const heartbeat = setInterval(() => {
    for (const c of all) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, opts.pingMs ?? PING_MS);
  heartbeat.unref();

  const notifier: Notifier = {
    isConnected: (userId) => byUser.has(userId),
    push(userId, frame) {
      const set = byUser.get(userId);
      if (!set) return false;
      const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
      let delivered = false;
      for (const c of set) delivered = sendText(c, text) || delivered;
      return delivered;
    },
    disconnect(userId) {
      // Every socket of the worker, also one authenticated in this turn and not joined yet (its auth
      // frame was read before the key was rotated or revoked; it would join once this turn commits).
      for (const c of all) {
        if (c.principal?.userId !== userId) continue;
        c.held = null; // closing: the refusal goes out now, and join() finds the socket closed
        send(c, { type: 'error', code: 'unauthorized', status: 401, message: 'This key is no longer valid.' });
        c.ws.close(4401, 'unauthorized');
      }
    },
  };

  return {
    notifier,
    connectedCount: () => byUser.size,
    socketCount: () => {
      let n = 0;
      for (const set of byUser.values()) n += set.size;
      return n;
    },
    /** For the 'upgrade' event of any listener: /agent-ws only; a failed handshake gets a real HTTP status. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      // No closure here may name req: one that lives as long as the socket (its error handler, the
      // upgrade's callback) would keep the request object, about 1 KB per agent, for good.
      socket.on('error', ignore);
      const path = (req.url ?? '').split('?')[0];
      const method = req.method ?? 'GET';
      if (path !== '/agent-ws') return refuseUpgrade(socket, method, path, new AppError(404, 'not_found', 'The agent gateway is at /agent-ws.'));
      let preauth: Principal | null = null;
      if (req.headers.authorization !== undefined) {
        try {
          preauth = keyPrincipal(req.headers.authorization.replace(/^Bearer\s+/i, ''));
        } catch (err) {
          return refuseUpgrade(socket, method, path, new AppError(401, 'unauthorized', authFailure(err)));
        }
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, preauth));
    },
    /** Publishes a frame to one worker's sockets, or to every authenticated socket; returns sockets reached. */
    publish(target: { userId?: string; broadcast?: boolean }, frame: Record<string, unknown>): number {
      const text = JSON.stringify(frame);
      let n = 0;
      const conns = target.broadcast ? [...all].filter((c) => c.principal) : [...(byUser.get(target.userId ?? '') ?? [])];
      for (const c of conns) if (sendText(c, text)) n++;
      return n;
    },
    /**
     * Takes no more requests, sends the answers of those in flight (a decision being committed), then
     * closes every socket with 1001. Resolves once the sockets are told, after at most waitMs.
     */
    close(waitMs = 10_000): Promise<void> {
      closing = true;
      clearInterval(heartbeat);
      const finish = () => {
        for (const c of all) c.ws.close(1001, 'hub shutting down');
        wss.close();
      };
      if (inflight === 0) return Promise.resolve(finish());
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => drained!(), waitMs);
        drained = () => {
          drained = null;
          clearTimeout(timer);
          finish();
          resolve();
        };
      });
    },
  };
}

/**
 * One unmasked, unfragmented text frame (RFC 6455 §5.2), header and payload in one buffer: one socket
 * write per frame where ws.send makes two (a corked header and payload). The hub negotiates no
 * extensions, so its frames are never compressed and ws never holds frames of its own back.
 */
export function textFrame(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x81; // FIN, opcode 1 (text)
  if (head === 2) buf[1] = len;
  else if (head === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(0, 2);
    buf.writeUInt32BE(len, 6);
  }
  buf.write(text, head, len, 'utf8');
  return buf;
}

function parseFrame<S extends z.ZodType>(schema: S, msg: unknown): z.infer<S> {
  const r = schema.safeParse(msg);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw new AppError(400, 'invalid_body', 'The frame is not valid: ' + issues.map((i) => `${i.path}: ${i.message}`).join('; '), { issues });
}

export type Gateway = ReturnType<typeof createGateway>;
