// Notices for the agent — a rejected deliverable with the buyer's feedback (agent hook), an offer or
// task gone (wake hook) — are kept in the state file until OpenClaw takes them, like offers: retried
// with the same backoff while OpenClaw is unreachable or busy, sent again after a restart of the bridge.
// - OpenClaw unreachable, 5xx: retry, 1 s doubling to 60 s, with jitter; 429: Retry-After.
// - 401/403 (a wrong hooks token): retry once per pause period (the offers' pause says it loudly).
// - another 4xx: that notice is dropped with a loud log line.
import { retryDelay, type HandoverTimings } from './handover.ts';
import type { HookOutcome, OpenClawClient } from './openclaw.ts';
import type { Logger } from './log.ts';
import type { NoticeRecord, OfferStore } from './state.ts';

export class Notices {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private store: OfferStore,
    private client: OpenClawClient,
    private log: Logger,
    private onError: (source: string, message: string) => void,
    private timings: HandoverTimings,
  ) {}

  /** Sends the notices an earlier run could not deliver. */
  resume() {
    for (const n of this.store.allNotices()) this.schedule(n.key, 0);
  }

  /** Keeps the notice (on disk) and sends it. */
  send(notice: Omit<NoticeRecord, 'createdAt' | 'attempts'>) {
    this.store.addNotice(notice);
    this.schedule(notice.key, 0);
  }

  private schedule(key: string, delayMs: number) {
    if (this.closed) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => void this.attempt(key), delayMs));
  }

  private async attempt(key: string) {
    this.timers.delete(key);
    const n = this.store.notice(key);
    if (!n || this.closed) return;
    this.store.noticeAttempted(key);
    const attempts = n.attempts; // this one included
    let out: HookOutcome;
    try {
      out = n.hook === 'agent' ? await this.client.agent(n.text, n.key) : await this.client.wake(n.text);
    } catch (err) {
      out = { kind: 'retry', status: null, detail: (err as Error).message };
    }
    if (this.closed) return;
    switch (out.kind) {
      case 'ok':
        this.store.dropNotice(key);
        this.log('info', 'told OpenClaw', { ...n.about, attempts });
        return;
      case 'rejected':
        this.store.dropNotice(key);
        this.onError('openclaw', `OpenClaw refused a notice (${out.detail}); it will not be retried`);
        this.log('error', 'OPENCLAW REFUSED THE NOTICE', { ...n.about, detail: out.detail });
        return;
      default: {
        const delay = out.kind === 'auth'
          ? this.timings.authPauseMs
          : retryDelay(out.retryAfterMs, attempts, this.timings);
        this.onError('openclaw', `a notice for the agent was not taken (${out.detail}); retrying`);
        this.log('warn', 'OpenClaw did not take the notice; will retry', { ...n.about, detail: out.detail, attempt: attempts, retryInMs: delay });
        this.schedule(key, delay);
      }
    }
  }

  close() {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
