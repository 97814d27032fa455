// Wires the bridge together: the hub link, the record of offers, the hand-over to OpenClaw and the
// local API. bridge.ts (the program) only reads the configuration and calls startBridge.
import { hubSocketUrl, type BridgeConfig } from './config.ts';
import { HubLink, DEFAULT_TIMINGS, type LinkTimings, type HubReply } from './hub-link.ts';
import { Handover, DEFAULT_HANDOVER_TIMINGS, type HandoverTimings } from './handover.ts';
import { Notices } from './notices.ts';
import { OpenClawClient } from './openclaw.ts';
import { OfferStore, type PendingOffer } from './state.ts';
import { startLocalApi } from './local-api.ts';
import { makeLogger, type Logger } from './log.ts';
import { cancelledNotice, goneNotice, rejectedMessage, withdrawnNotice } from './message.ts';
import { randomUUID } from 'node:crypto';

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

  // Notices for the agent are kept until OpenClaw takes them, like offers (lib/bridge/notices.ts).
  const notices = new Notices(store, client, log, noteError, { ...DEFAULT_HANDOVER_TIMINGS, ...opts.handover });
  const wake = (key: string, text: string, about: Record<string, string | null>) => notices.send({ key, hook: 'wake', text, about });

  const settle = (offerId: string) => {
    handover.forget(offerId);
    return store.drop(offerId);
  };

  // After each auth_ok the hub replays every offer still pending, before it reads anything the bridge
  // sends (SPEC §6). So once the answer to a ping sent on auth_ok arrives, a record the bridge held
  // before that was not replayed is no longer pending: it was withdrawn, cancelled, decided or expired
  // while the link was down. It is forgotten, and the agent is told if it had the offer.
  let replayed: Set<string> | null = null;
  link.on('up', () => {
    const seen = new Set<string>();
    replayed = seen;
    const held = store.all().map((r) => r.offer.offerId);
    link.request({ type: 'ping' }).then((reply) => {
      if (replayed !== seen) return; // a newer connection took over
      replayed = null;
      if (!reply.ok) return;
      for (const offerId of held) {
        if (seen.has(offerId)) continue;
        const rec = settle(offerId);
        if (!rec) continue; // decided or dropped meanwhile
        const expired = rec.offer.expiresAt ? Date.parse(rec.offer.expiresAt) <= Date.now() : false;
        log('info', 'offer no longer pending after reconnect; forgotten', { offerId, wasHandedOver: rec.status === 'handed_over', expired });
        if (rec.status === 'handed_over' && !expired) wake(`gone:${offerId}`, goneNotice(rec.offer), { offerId, event: 'offer_gone' });
      }
    }, () => {
      // the link dropped again before the hub answered: the next auth_ok starts over
    });
  });

  link.on('frame', (msg: Record<string, unknown>) => {
    switch (msg.type) {
      case 'pending_offer': {
        if (typeof msg.offerId !== 'string' || !msg.offerId) {
          log('warn', 'pending_offer without an offerId; ignored');
          return;
        }
        replayed?.add(msg.offerId);
        handover.offer(msg as unknown as PendingOffer);
        return;
      }
      case 'offer_withdrawn': {
        const offerId = String(msg.offerId ?? '');
        const rec = settle(offerId);
        log('info', 'offer withdrawn', { offerId, reason: msg.reason, wasHandedOver: rec?.status === 'handed_over' });
        if (!rec) return;
        const notice = () => wake(`withdrawn:${offerId}`, withdrawnNotice(rec.offer, String(msg.reason ?? 'withdrawn')), { offerId, event: 'offer_withdrawn' });
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
        const notice = () => wake(`cancelled:${taskId}`, cancelledNotice(taskId, title, assignmentId), { taskId, assignmentId, event: 'task_cancelled' });
        if (told || assignmentId) notice();
        else for (const r of recs) if (handover.whenTakenLate(r!.offer.offerId, notice)) break;
        return;
      }
      case 'deliverable_reviewed': {
        const assignmentId = String(msg.assignmentId ?? '');
        log('info', 'deliverable reviewed', { assignmentId, taskId: msg.taskId, decision: msg.decision, status: msg.status });
        if (msg.decision === 'reject' && assignmentId) {
          const text = rejectedMessage(assignmentId, assignments.get(assignmentId)?.title ?? null, typeof msg.feedback === 'string' ? msg.feedback : null, { baseUrl, token: cfg.token });
          // A fresh key per rejection (OpenClaw's idempotency key), the same for every retry of it.
          notices.send({ key: `${assignmentId}:rejected:${randomUUID()}`, hook: 'agent', text, about: { assignmentId, event: 'deliverable_reviewed' } });
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
  notices.resume();
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
        notices.close();
        await Promise.all([api.close(), link.close()]);
        store.close();
      })()),
  };
}
