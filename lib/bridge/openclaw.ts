// Client for OpenClaw's inbound hooks (POST <hooks>/agent and <hooks>/wake, Bearer hooks token).
// It only classifies OpenClaw's answer; what to do about it (retry, pause, drop) is the hand-over's call.

export type HookOutcome =
  | { kind: 'ok'; runId: string | null }
  /** OpenClaw unreachable or 5xx (or 429): try again later; retryAfterMs when OpenClaw named a time. */
  | { kind: 'retry'; status: number | null; detail: string; retryAfterMs?: number }
  /** 401/403: the hooks token is wrong; nothing will work until a person fixes it. */
  | { kind: 'auth'; status: number; detail: string }
  /** Any other 4xx: this request will never be admitted as it is. */
  | { kind: 'rejected'; status: number; detail: string };

export interface AgentHook {
  message: string;
  name: string;
  agentId?: string;
  wakeMode: 'now';
  deliver: false;
  idempotencyKey: string;
}

export class OpenClawClient {
  readonly agentUrl: string;
  readonly wakeUrl: string;

  constructor(hooksUrl: string, private token: string, private agentId: string, private timeoutMs = 30_000) {
    this.agentUrl = hooksUrl;
    const u = new URL(hooksUrl);
    u.pathname = u.pathname.replace(/\/agent\/?$/, '') + '/wake';
    this.wakeUrl = u.toString();
  }

  /** Hands one offer message to the agent; idempotencyKey lets OpenClaw drop a repeat of a request whose answer we lost. */
  agent(message: string, idempotencyKey: string): Promise<HookOutcome> {
    const body: AgentHook = { message, name: 'Valence', wakeMode: 'now', deliver: false, idempotencyKey };
    if (this.agentId) body.agentId = this.agentId;
    return this.post(this.agentUrl, body, idempotencyKey);
  }

  /** A short system notice to the agent's main session (an offer withdrawn, a task cancelled). */
  wake(text: string): Promise<HookOutcome> {
    const body: Record<string, unknown> = { text, mode: 'now' };
    if (this.agentId) body.agentId = this.agentId;
    return this.post(this.wakeUrl, body);
  }

  private async post(url: string, body: unknown, idempotencyKey?: string): Promise<HookOutcome> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, 'Content-Type': 'application/json' };
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { kind: 'retry', status: null, detail: `OpenClaw unreachable at ${url}: ${e.cause?.code ?? e.name ?? e.message}` };
    }
    const text = await res.text().catch(() => '');
    const detail = describe(res.status, text);
    if (res.ok) {
      let runId: string | null = null;
      try {
        const parsed = JSON.parse(text);
        if (typeof parsed?.runId === 'string') runId = parsed.runId;
      } catch {
        // a 200 without JSON still means admitted
      }
      return { kind: 'ok', runId };
    }
    if (res.status === 401 || res.status === 403) return { kind: 'auth', status: res.status, detail };
    if (res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      return { kind: 'retry', status: 429, detail, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    // SPEC §7: unreachable or 5xx retries; 429 waits; 401/403 pause; any other 4xx drops that one offer.
    if (res.status >= 500) return { kind: 'retry', status: res.status, detail };
    return { kind: 'rejected', status: res.status, detail };
  }
}

/** OpenClaw answers errors as {ok:false, error:"…"} or as plain text; keep a short, single-line version. */
function describe(status: number, text: string): string {
  let msg = text;
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.error === 'string') msg = parsed.error;
    else if (typeof parsed?.error?.message === 'string') msg = parsed.error.message;
  } catch {
    // plain text
  }
  msg = msg.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `HTTP ${status}${msg ? `: ${msg}` : ''}`;
}

export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}
