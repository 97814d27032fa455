// A WebSocket test client that keeps every frame it receives and lets a test wait for the one it needs.
import { WebSocket } from 'ws';

// deno-lint-ignore no-explicit-any
export type Frame = Record<string, any>;

export interface AgentSocket {
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
  sendRaw(data: string | Buffer): void;
  /** The first frame (already received or still to come) that matches, not yet taken by another next(). */
  next(match: (f: Frame) => boolean, timeoutMs?: number, what?: string): Promise<Frame>;
  nextType(type: string, timeoutMs?: number): Promise<Frame>;
  /** A request with a requestId, answered by ack or error with the same requestId. */
  request(frame: Frame, timeoutMs?: number): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

let seq = 0;

export function connect(url: string, opts: { headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<AgentSocket> {
  const ws = new WebSocket(url, { headers: opts.headers, autoPong: opts.autoPong ?? true });
  const frames: Frame[] = [];
  const taken = new Set<Frame>();
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  );
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as Frame;
    frames.push(f);
    const i = waiters.findIndex((w) => w.match(f));
    if (i >= 0) {
      taken.add(f);
      waiters.splice(i, 1)[0].resolve(f);
    }
  });
  const sock: AgentSocket = {
    ws, frames, closed,
    send: (frame) => ws.send(JSON.stringify(frame)),
    sendRaw: (data) => ws.send(data),
    next(match, timeoutMs = 5000, what = 'frame') {
      const have = frames.find((f) => !taken.has(f) && match(f));
      if (have) {
        taken.add(have);
        return Promise.resolve(have);
      }
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (f: Frame) => (clearTimeout(timer), resolve(f)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(frames).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    nextType: (type, timeoutMs) => sock.next((f) => f.type === type, timeoutMs, `"${type}" frame`),
    request(frame, timeoutMs) {
      const requestId = frame.requestId ?? `r${++seq}`;
      const p = sock.next((f) => (f.type === 'ack' || f.type === 'error') && f.requestId === requestId, timeoutMs, `answer to ${requestId}`);
      ws.send(JSON.stringify({ ...frame, requestId }));
      return p;
    },
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(sock));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** Connects and authenticates an agent; resolves after auth_ok. */
export async function connectAgent(url: string, apiKey: string): Promise<AgentSocket & { authOk: Frame }> {
  const s = await connect(url);
  s.send({ type: 'auth', apiKey });
  const authOk = await s.nextType('auth_ok');
  return Object.assign(s, { authOk });
}
