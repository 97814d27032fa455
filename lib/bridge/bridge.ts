// Wires the bridge together: the hub link, the record of offers, the hand-over to OpenClaw and the
// local API. bridge.ts (the program) only reads the configuration and calls startBridge.
import { hubSocketUrl, type BridgeConfig } from './config.ts';
import { HubLink, DEFAULT_TIMINGS, type LinkTimings, type HubReply } from './hub-link.ts';
import { Handover, DEFAULT_HANDOVER_TIMINGS, type HandoverTimings } from './handover.ts';
import { OpenClawClient } from './openclaw.ts';
import { OfferStore, type PendingOffer } from './state.ts';
import { startLocalApi } from './local-api.ts';
import { makeLogger, type Logger } from './log.ts';
import { cancelledNotice, rejectedMessage, withdrawnNotice } from './message.ts';
import { randomUUID } from 'node:crypto';
import type { HookOutcome } from './openclaw.ts';

export interface BridgeOptions {
  log?: Logger;
  link?: Partial<LinkTimings>;
  handover?: Partial<HandoverTimings>;
  /** How often offers past their expiry are forgotten. */
  pruneEveryMs?: number;
}

export interface BridgeStatus {
  ok: true;
  connected: boolean;
  agentId: string | null;
  /** Offers OpenClaw has admitted, in all (kept across restarts). */
  handedOver: number;
  /** Offers received and not yet taken by OpenClaw. */
  waiting: number;
  lastError: { at: string; source: string; message: string } | null;
  handOversPaused: boolean;
}

export interface Bridge {
  /** Base URL of the local API, e.g. http://127.0.0.1:4021 */
  url: string;
  status: () => BridgeStatus;
  link: HubLink;
  store: OfferStore;
  close: () => Promise<void>;
}

// Hub error codes that mean the offer is not pending any more, so the bridge can forget it.
const OFFER_SETTLED = new Set(['offer_not_found', 'offer_expired', 'task_already_assigned', 'task_not_open', 'offer_not_pending']);

export async function startBridge(config: BridgeConfig, opts: BridgeOptions = {}): Promise<Bridge> {
  const cfg = { ...config, wsUrl: hubSocketUrl(config.wsUrl) };
  const log = opts.log ?? makeLogger(cfg.logLevel);
  let lastError: BridgeStatus['lastError'] = null;
  const noteError = (source: string, message: string) => {
    lastError = { at: new Date().toISOString(), source, message };
  };

  const store = OfferStore.open(cfg.stateDir, (msg, fields) => log('error', msg, fields));
  const client = new OpenClawClient(cfg.hooksUrl, cfg.hooksToken, cfg.agentId);
  const link = new HubLink(cfg.wsUrl, cfg.apiKey, log, { ...DEFAULT_TIMINGS, ...opts.link });
  // assignmentId → task title, for a readable notice if the buyer cancels.
  const assignments = new Map<string, { taskId: string; title: string | null }>();

  let baseUrl = '';
  const handover = new Handover(store, client, () => ({ baseUrl, token: cfg.token }), log, noteError, { ...DEFAULT_HANDOVER_TIMINGS, ...opts.handover });

  const status = (): BridgeStatus => ({
    ok: true,
    connected: link.connected,
    agentId: link.agentId,
    handedOver: store.handedOverTotal,
    waiting: store.count('waiting'),
    lastError,
    handOversPaused: handover.paused,
  });

  // Notices are best effort: a few tries, then a log line (the offer record is what must not be lost).
  const tell = async (send: () => Promise<HookOutcome>, fields: Record<string, unknown>) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const out = await send();
      if (out.kind === 'ok') {
        log('info', 'told OpenClaw', fields);
        return;
      }
      if (out.kind !== 'retry') {
        noteError('openclaw', `notice refused (${out.detail})`);
        log('error', 'OpenClaw refused the notice', { ...fields, detail: out.detail });
        return;
      }
      await new Promise((r) => setTimeout(r, out.retryAfterMs ?? 1_000 * 2 ** attempt));
    }
    log('warn', 'could not tell OpenClaw; gave up', fields);
  };
  const wake = (text: string, fields: Record<string, unknown>) => tell(() => client.wake(text), fields);

  const settle = (offerId: string) => {
    handover.forget(offerId);
    return store.drop(offerId);
  };

  link.on('frame', (msg: Record<string, unknown>) => {
    switch (msg.type) {
      case 'pending_offer': {
        if (typeof msg.offerId !== 'string' || !msg.offerId) {
          log('warn', 'pending_offer without an offerId; ignored');
          return;
        }
        handover.offer(msg as unknown as PendingOffer);
        return;
      }
      case 'offer_withdrawn': {
        const offerId = String(msg.offerId ?? '');
        const rec = settle(offerId);
        log('info', 'offer withdrawn', { offerId, reason: msg.reason, wasHandedOver: rec?.status === 'handed_over' });
        if (!rec) return;
        const notice = () => void wake(withdrawnNotice(rec.offer, String(msg.reason ?? 'withdrawn')), { offerId, event: 'offer_withdrawn' });
        // Handed over already, or being handed over right now (then told if OpenClaw takes it).
        if (rec.status === 'handed_over') notice();
        else handover.whenTakenLate(offerId, notice);
        return;
      }
      case 'task_cancelled': {
        const taskId = String(msg.taskId ?? '');
        const assignmentId = typeof msg.assignmentId === 'string' ? msg.assignmentId : null;
        const recs = store.byTask(taskId).map((r) => settle(r.offer.offerId)).filter((r) => r !== undefined);
        const told = recs.some((r) => r!.status === 'handed_over');
        const known = assignmentId ? assignments.get(assignmentId) : undefined;
        const title = recs[0]?.offer.task.title ?? known?.title ?? null;
        log('info', 'task cancelled', { taskId, assignmentId });
        const notice = () => void wake(cancelledNotice(taskId, title, assignmentId), { taskId, event: 'task_cancelled' });
        if (told || assignmentId) notice();
        else for (const r of recs) if (handover.whenTakenLate(r!.offer.offerId, notice)) break;
        return;
      }
      case 'deliverable_reviewed': {
        const assignmentId = String(msg.assignmentId ?? '');
        log('info', 'deliverable reviewed', { assignmentId, taskId: msg.taskId, decision: msg.decision, status: msg.status });
        if (msg.decision === 'reject' && assignmentId) {
          const text = rejectedMessage(assignmentId, assignments.get(assignmentId)?.title ?? null, typeof msg.feedback === 'string' ? msg.feedback : null, { baseUrl, token: cfg.token });
          const key = `${assignmentId}:rejected:${randomUUID()}`;
          void tell(() => client.agent(text, key), { assignmentId, event: 'deliverable_reviewed' });
        }
        return;
      }
      default:
        log('info', 'hub frame ignored', { type: msg.type });
    }
  });
  link.on('down', (info: { reason: string }) => noteError('hub', `hub link down: ${info.reason}`));

  const api = await startLocalApi(cfg.host, cfg.port, {
    token: cfg.token,
    log,
    status,
    decide: async (offerId, accept, reason) => {
      const frame: Record<string, unknown> = { type: 'offer_decision', offerId, accept };
      if (reason !== undefined) frame.reason = reason;
      const reply: HubReply = await link.request(frame);
      const rec = store.get(offerId);
      if (reply.ok || OFFER_SETTLED.has(reply.code)) settle(offerId);
      if (reply.ok && typeof reply.body.assignmentId === 'string') assignments.set(reply.body.assignmentId, { taskId: rec?.offer.task.id ?? '', title: rec?.offer.task.title ?? null });
      log('info', 'decision relayed', { offerId, accept, ok: reply.ok, ...(reply.ok ? {} : { code: reply.code }) });
      return reply;
    },
    submit: async (assignmentId, contentText) => {
      const reply = await link.request({ type: 'submit_deliverable', assignmentId, contentText });
      log('info', 'deliverable relayed', { assignmentId, chars: contentText.length, ok: reply.ok, ...(reply.ok ? {} : { code: reply.code }) });
      return reply;
    },
  }).catch((err) => {
    store.close();
    throw err;
  });
  baseUrl = api.url;

  for (const rec of store.prune()) handover.forget(rec.offer.offerId);
  const pruneTimer = setInterval(() => {
    for (const rec of store.prune()) handover.forget(rec.offer.offerId);
  }, opts.pruneEveryMs ?? 60_000);
  pruneTimer.unref?.();

  handover.resume();
  link.start();

  let closing: Promise<void> | null = null;
  return {
    url: api.url,
    status,
    link,
    store,
    close: () =>
      (closing ??= (async () => {
        clearInterval(pruneTimer);
        handover.close();
        await Promise.all([api.close(), link.close()]);
        store.close();
      })()),
  };
}
