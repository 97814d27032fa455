// Hands pending offers to OpenClaw, one request at a time, each exactly once.
// - OpenClaw unreachable, 5xx: the offer waits and is tried again with backoff (1 s doubling to 60 s).
// - 429: wait for Retry-After.
// - 401/403: a wrong hooks token is a set-up error; hand-overs pause (one probe a minute) and say so loudly.
// - another 4xx: that offer is given up with a loud log line (and not retried after a replay).
import { backoffDelay } from './hub-link.ts';
import type { HookOutcome, OpenClawClient } from './openclaw.ts';
import type { Logger } from './log.ts';
import { offerMessage, type BridgeEndpoint } from './message.ts';
import type { OfferStore, PendingOffer } from './state.ts';

export interface HandoverTimings {
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How long hand-overs pause after OpenClaw refused the hooks token. */
  authPauseMs: number;
}

export const DEFAULT_HANDOVER_TIMINGS: HandoverTimings = { minBackoffMs: 1_000, maxBackoffMs: 60_000, authPauseMs: 60_000 };

/**
 * When to try OpenClaw again after attempt number `attempts` failed: the time its Retry-After named,
 * but never sooner than the first backoff step (a Retry-After of 0, or a date already past, would
 * otherwise retry in a tight loop); without one, the backoff.
 */
export function retryDelay(retryAfterMs: number | undefined, attempts: number, t: HandoverTimings): number {
  return retryAfterMs === undefined ? backoffDelay(attempts - 1, t.minBackoffMs, t.maxBackoffMs) : Math.max(retryAfterMs, t.minBackoffMs);
}

export class Handover {
  /** offerId → when to try next (ms since epoch). */
  private due = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pumping = false;
  private closed = false;
  /** The offer whose hand-over request is in flight, and what to do if OpenClaw takes it after all. */
  private inFlight: string | null = null;
  private ifTakenLate: (() => void) | null = null;
  pausedUntil = 0;
  pauseReason: string | null = null;

  constructor(
    private store: OfferStore,
    private client: OpenClawClient,
    private endpoint: () => BridgeEndpoint,
    private log: Logger,
    private onError: (source: string, message: string) => void,
    private timings: HandoverTimings = DEFAULT_HANDOVER_TIMINGS,
  ) {}

  /** Resumes offers left waiting by an earlier run. */
  resume() {
    for (const rec of this.store.all()) if (rec.status === 'waiting') this.due.set(rec.offer.offerId, Date.now());
    this.kick();
  }

  /** A pending_offer from the hub (live or replayed). */
  offer(offer: PendingOffer) {
    const known = this.store.get(offer.offerId);
    if (known) {
      if (known.status === 'waiting' && !this.due.has(offer.offerId)) this.schedule(offer.offerId, Date.now());
      return; // handed over (or given up) already: never again
    }
    if (offer.expiresAt && Date.parse(offer.expiresAt) <= Date.now()) {
      this.log('info', 'offer already expired; not handed over', { offerId: offer.offerId });
      return;
    }
    this.store.add(offer);
    this.log('info', 'offer received', { offerId: offer.offerId, taskId: offer.task?.id });
    this.schedule(offer.offerId, Date.now());
  }

  /** The offer is no longer pending: stop trying. */
  forget(offerId: string) {
    this.due.delete(offerId);
  }

  /**
   * True when a hand-over request for this offer is in flight: OpenClaw may still take it. Then
   * `tell` runs if it does (the offer was withdrawn or its task cancelled meanwhile, and the agent
   * must hear so, as for an offer handed over earlier).
   */
  whenTakenLate(offerId: string, tell: () => void): boolean {
    if (this.inFlight !== offerId) return false;
    this.ifTakenLate = tell;
    return true;
  }

  get paused(): boolean {
    return this.pausedUntil > Date.now();
  }

  private schedule(offerId: string, at: number) {
    this.due.set(offerId, at);
    this.kick();
  }

  private kick() {
    if (this.closed || this.pumping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.due.size === 0) return;
    const next = Math.max(Math.min(...this.due.values()), this.pausedUntil);
    this.timer = setTimeout(() => void this.pump(), Math.max(0, next - Date.now()));
  }

  private async pump() {
    this.timer = null;
    this.pumping = true;
    try {
      while (!this.closed) {
        const now = Date.now();
        if (this.pausedUntil > now) break;
        let pick: string | null = null;
        let pickAt = Infinity;
        for (const [id, at] of this.due) if (at <= now && at < pickAt) [pick, pickAt] = [id, at];
        if (pick === null) break;
        this.due.delete(pick);
        await this.attempt(pick);
      }
    } finally {
      this.pumping = false;
      this.kick();
    }
  }

  private async attempt(offerId: string) {
    const rec = this.store.get(offerId);
    if (!rec || rec.status !== 'waiting') return;
    if (rec.offer.expiresAt && Date.parse(rec.offer.expiresAt) <= Date.now()) {
      this.store.drop(offerId);
      this.log('warn', 'offer expired before OpenClaw took it', { offerId, attempts: rec.attempts });
      return;
    }
    this.store.attempted(offerId);
    const attempts = rec.attempts; // this one included
    let outcome: HookOutcome;
    this.inFlight = offerId;
    try {
      outcome = await this.client.agent(offerMessage(rec.offer, this.endpoint()), offerId);
    } catch (err) {
      outcome = { kind: 'retry', status: null, detail: (err as Error).message };
    }
    const takenLate = this.ifTakenLate;
    this.inFlight = null;
    this.ifTakenLate = null;
    if (this.closed) return;
    // The offer may have been withdrawn or decided while the request was in flight.
    const still = this.store.get(offerId);
    switch (outcome.kind) {
      case 'ok':
        this.store.handedOver(offerId, outcome.runId);
        this.pausedUntil = 0;
        this.pauseReason = null;
        this.log('info', 'offer handed to OpenClaw', { offerId, runId: outcome.runId, attempts });
        if (!still) takenLate?.();
        return;
      case 'retry': {
        if (!still) return;
        // The first retry after 1 s (minBackoffMs), then doubling: backoffDelay counts from 0.
        const delay = retryDelay(outcome.retryAfterMs, attempts, this.timings);
        this.onError('openclaw', `hand-over of offer ${offerId} failed (${outcome.detail}); retrying`);
        this.log('warn', 'OpenClaw did not take the offer; will retry', { offerId, detail: outcome.detail, attempt: attempts, retryInMs: delay });
        this.schedule(offerId, Date.now() + delay);
        return;
      }
      case 'auth':
        this.pausedUntil = Date.now() + this.timings.authPauseMs;
        this.pauseReason = `OpenClaw refused the hooks token (${outcome.detail}); check OPENCLAW_HOOKS_TOKEN against hooks.token in the OpenClaw config`;
        this.onError('openclaw', this.pauseReason);
        this.log('error', 'OPENCLAW REFUSED THE HOOKS TOKEN: hand-overs paused', { offerId, detail: outcome.detail, probeInMs: this.timings.authPauseMs });
        if (still) this.due.set(offerId, Date.now());
        return;
      case 'rejected':
        if (still) this.store.giveUp(offerId, outcome.detail);
        this.onError('openclaw', `OpenClaw rejected offer ${offerId} (${outcome.detail}); it will not be retried`);
        this.log('error', 'OPENCLAW REJECTED THE OFFER: given up, fix the set-up', { offerId, detail: outcome.detail });
        return;
    }
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
