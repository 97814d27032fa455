// The bridge's one outbound WebSocket to the hub (SPEC §6/§7): auth first, then offers and events in,
// offer_decision / submit_deliverable out. It reconnects by itself — exponential backoff from 1 s to a
// 60 s cap with jitter — and treats a link that misses a pong as dead, so a hub restart or a dropped
// network needs no person.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from './log.ts';

export interface LinkTimings {
  minBackoffMs: number;
  maxBackoffMs: number;
  pingEveryMs: number;
  pongTimeoutMs: number;
  /** Time allowed for the TCP/TLS/HTTP handshake and then for auth_ok. */
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

export const DEFAULT_TIMINGS: LinkTimings = {
  minBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  pingEveryMs: 15_000,
  pongTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

/** The hub's answer to a request: its ack body, or its error code and HTTP status. */
export type HubReply =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; status: number; code: string; message: string; issues?: unknown };

export class HubUnavailable extends Error {
  constructor(message = 'The bridge is not connected to the hub right now; it is reconnecting. Try again in a few seconds.') {
    super(message);
  }
}

export class HubTimeout extends Error {}

/** Delay before reconnect attempt `n` (0-based): doubling from min to max, then "equal jitter" (half fixed, half random). */
export function backoffDelay(n: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(n, 30));
  return Math.round(base / 2 + random() * (base / 2));
}

interface Pending {
  resolve: (r: HubReply) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class HubLink extends EventEmitter {
  connected = false;
  agentId: string | null = null;
  userId: string | null = null;
  /** Reconnect attempts since the last good auth. */
  failures = 0;
  private ws: WebSocket | null = null;
  private closed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private pending = new Map<string, Pending>();
  private seq = 0;
  private prefix = randomBytes(4).toString('hex');

  constructor(
    readonly url: string,
    private apiKey: string,
    private log: Logger,
    readonly timings: LinkTimings = DEFAULT_TIMINGS,
  ) {
    super();
  }

  start() {
    this.connect();
  }

  private connect() {
    if (this.closed) return;
    this.reconnectTimer = null;
    const ws = new WebSocket(this.url, { handshakeTimeout: this.timings.connectTimeoutMs, maxPayload: 2 * 1024 * 1024 });
    this.ws = ws;
    let authTimer: ReturnType<typeof setTimeout> | null = null;
    let why = '';

    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'auth', apiKey: this.apiKey }));
      authTimer = setTimeout(() => {
        why = 'the hub did not answer the auth frame in time';
        ws.terminate();
      }, this.timings.connectTimeoutMs);
    });

    ws.on('message', (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(data));
      } catch {
        this.log('warn', 'hub sent a frame that is not JSON; ignored');
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'auth_ok') {
        if (authTimer) clearTimeout(authTimer);
        this.connected = true;
        this.failures = 0;
        this.agentId = typeof msg.agentId === 'string' ? msg.agentId : null;
        this.userId = typeof msg.userId === 'string' ? msg.userId : null;
        this.startHeartbeat(ws);
        this.log('info', 'hub link up', { hub: this.url, agentId: this.agentId });
        this.emit('up', { agentId: this.agentId, userId: this.userId });
        return;
      }
      if ((msg.type === 'ack' || msg.type === 'pong' || msg.type === 'error') && typeof msg.requestId === 'string' && this.pending.has(msg.requestId)) {
        const p = this.pending.get(msg.requestId)!;
        this.pending.delete(msg.requestId);
        clearTimeout(p.timer);
        if (msg.type !== 'error') {
          const { type: _t, requestId: _r, ...body } = msg;
          p.resolve({ ok: true, body });
        } else {
          p.resolve({
            ok: false,
            status: typeof msg.status === 'number' ? msg.status : 502,
            code: typeof msg.code === 'string' ? msg.code : 'hub_error',
            message: typeof msg.message === 'string' ? msg.message : 'The hub refused the request.',
            ...(msg.issues === undefined ? {} : { issues: msg.issues }),
          });
        }
        return;
      }
      if (msg.type === 'error' && !this.connected) {
        why = `the hub refused the agent key (${String(msg.code ?? 'error')}: ${String(msg.message ?? '')})`;
        return; // the hub closes the socket next
      }
      if (msg.type === 'error') {
        this.log('warn', 'hub sent an error frame', { code: msg.code, message: msg.message });
        return;
      }
      this.emit('frame', msg);
    });

    ws.on('pong', () => {
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pongTimer = null;
    });

    ws.on('error', (err) => {
      if (!why) why = (err as NodeJS.ErrnoException).code ?? err.message;
    });

    ws.on('close', (code, reason) => {
      if (authTimer) clearTimeout(authTimer);
      this.stopHeartbeat();
      const wasUp = this.connected;
      this.connected = false;
      if (this.ws === ws) this.ws = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new HubUnavailable('The hub link dropped before the hub answered; repeating the same request is safe.'));
        this.pending.delete(id);
      }
      if (this.closed) return;
      const detail = why || `closed with code ${code}${reason.length ? ` (${String(reason)})` : ''}`;
      const delay = backoffDelay(this.failures, this.timings.minBackoffMs, this.timings.maxBackoffMs);
      this.failures++;
      const level = code === 4401 ? 'error' : 'warn';
      this.log(level, wasUp ? 'hub link down; reconnecting' : 'could not connect to the hub; retrying', { hub: this.url, reason: detail, closeCode: code, retryInMs: delay });
      this.emit('down', { reason: detail, code, retryInMs: delay });
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private startHeartbeat(ws: WebSocket) {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!this.pongTimer) {
        this.pongTimer = setTimeout(() => {
          this.pongTimer = null;
          this.log('warn', 'hub missed a heartbeat; dropping the link', { hub: this.url });
          ws.terminate();
        }, this.timings.pongTimeoutMs);
      }
      ws.ping();
    }, this.timings.pingEveryMs);
  }

  private stopHeartbeat() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }

  /** Sends a request frame and waits for its ack (pong for a ping) or error. Throws HubUnavailable while the link is down, HubTimeout when the hub is silent. */
  request(frame: Record<string, unknown>): Promise<HubReply> {
    const ws = this.ws;
    if (!this.connected || !ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new HubUnavailable());
    const requestId = `${this.prefix}-${++this.seq}`;
    return new Promise<HubReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new HubTimeout('The hub did not answer in time; the request may or may not have been recorded. Repeating it is safe.'));
      }, this.timings.requestTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...frame, requestId }), (err) => {
        if (!err) return;
        const p = this.pending.get(requestId);
        if (!p) return;
        this.pending.delete(requestId);
        clearTimeout(p.timer);
        reject(new HubUnavailable());
      });
    });
  }

  /** Closes for good (1001 going away); no reconnect. */
  close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'bridge shutting down');
    });
  }
}
