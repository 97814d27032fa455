// Offers from the worker's side: the decision (SPEC §4.2, one transaction, first confirm wins),
// listing, and the expiry sweep.
import { z } from 'zod';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors.ts';
import { type Ctx, lazySchemas, parseInput, type Principal } from './context.ts';
import { newId, nowIso } from './util.ts';
import { workerOfferView } from './views.ts';
import type { OfferBatches } from './batches.ts';

const OFFER_STATUSES = ['PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED', 'WITHDRAWN'] as const;

export const schemas = lazySchemas({
  decision: () =>
    z.object({
      accept: z.boolean({ message: 'must be true or false' }),
      reason: z.string().max(2000, 'must be at most 2000 characters').nullish(),
    }),
  listOffers: () => z.object({ status: z.enum(OFFER_STATUSES, { message: `must be one of ${OFFER_STATUSES.join(', ')}` }).optional() }),
});

/** The decision's read (q.offer), column by column. */
type OfferRow = [
  offerRow: number, taskRow: number, taskId: string, workerUserId: string, status: string, expiresAt: string, taskStatus: string,
  assignmentId: string | null, assignee: string | null, workerId: string | null, disabled: number | null, revokedAt: string | null, maxConcurrent: number,
];

export type DecisionResult = { ok: true; accept: true; assignmentId: string } | { ok: true; accept: false };

export function offers(ctx: Ctx, batches: OfferBatches, logEvent: (actor: string | null, taskId: string | null, kind: string, data?: unknown) => void) {
  const { db } = ctx;
  const q = {
    // Everything the decision needs in one read: the offer, its task, the task's assignment if any,
    // and whether the offer's worker may still take it. Rows as arrays (the decision's hot path), read
    // by destructuring in decideInTx, in this order.
    offer: db.prepareArrays<OfferRow>(
      `SELECT o.rowid, t.rowid, o.task_id, o.worker_user_id, o.status, o.expires_at, t.status,
              a.id, a.worker_user_id, u.id, u.disabled, ap.revoked_at, COALESCE(ap.max_concurrent, 0)
         FROM match_offers o JOIN tasks t ON t.id = o.task_id LEFT JOIN assignments a ON a.task_id = o.task_id
              LEFT JOIN users u ON u.id = o.worker_user_id LEFT JOIN agent_profiles ap ON ap.user_id = o.worker_user_id
        WHERE o.id = ?`,
    ),
    openCount: db.prepare(
      `SELECT COUNT(*) AS n FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE a.worker_user_id = ? AND a.status != 'ACCEPTED' AND t.status != 'CANCELLED'`,
    ),
    expire: db.prepare(`UPDATE match_offers SET status = 'EXPIRED' WHERE id = ? AND status = 'PENDING'`),
    // The two updates go by rowid, found by the read above: one index search fewer each.
    decide: db.prepare(`UPDATE match_offers SET status = ?, reason = ?, decided_at = ? WHERE rowid = ?`),
    insertAssignment: db.prepare(
      `INSERT INTO assignments (id, task_id, worker_user_id, offer_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'ASSIGNED', ?, ?)`,
    ),
    assignTask: db.prepare(`UPDATE tasks SET status = 'ASSIGNED', updated_at = ? WHERE rowid = ?`),
    // The other offers still live: one past its expiry is EXPIRED (SPEC §4.2 step 4), not withdrawn,
    // whether or not the sweep has marked it yet.
    otherPending: db.prepare(`SELECT id, worker_user_id FROM match_offers WHERE task_id = ? AND status = 'PENDING' AND id != ? AND expires_at > ?`),
    withdrawOthers: db.prepare(
      `UPDATE match_offers SET status = 'WITHDRAWN', reason = 'task_assigned', decided_at = ? WHERE task_id = ? AND status = 'PENDING' AND id != ? AND expires_at > ?`,
    ),
    listForWorker: db.prepare(
      `SELECT o.*, t.title, t.description, t.category, t.deadline FROM match_offers o JOIN tasks t ON t.id = o.task_id
        WHERE o.worker_user_id = ? ORDER BY o.created_at DESC, o.id DESC LIMIT 500`,
    ),
    pendingForWorker: db.prepare(
      `SELECT o.*, t.title, t.description, t.category, t.deadline FROM match_offers o JOIN tasks t ON t.id = o.task_id
        WHERE o.worker_user_id = ? AND o.status = 'PENDING' AND o.expires_at > ? ORDER BY o.created_at, o.id`,
    ),
    sweep: db.prepare(`UPDATE match_offers SET status = 'EXPIRED' WHERE status = 'PENDING' AND expires_at <= ?`),
  };

  /**
   * SPEC §4.2, step by step. Returns the answer or the error to throw after the transaction ends.
   * Every check comes before the first write (db.txChecked): only the expiry mark is written before an error, and that mark is kept.
   */
  function decideInTx(p: Principal, offerId: string, accept: boolean, reason: string | null, now: string) {
    const row = q.offer.get(offerId);
    if (!row) return { err: notFound('offer_not_found', 'No offer with this id.') };
    const [offerRow, taskRow, taskId, workerUserId, status, expiresAt, taskStatus, assignmentId, assignee, workerId, disabled, revokedAt, maxConcurrent] = row;
    if (workerUserId !== p.userId) return { err: forbidden('This offer belongs to another worker.') };
    // 3. The same decision again: the same answer, so retries are safe.
    if (accept && status === 'ACCEPTED') return { res: { ok: true, accept: true, assignmentId } as DecisionResult };
    if (!accept && status === 'DECLINED') return { res: { ok: true, accept: false } as DecisionResult };
    // 4. Expired, or pending past its expiry (marked now, and the mark is kept).
    if (status === 'EXPIRED' || (status === 'PENDING' && expiresAt <= now)) {
      if (status === 'PENDING') q.expire.run(offerId);
      return { err: badRequest('offer_expired', 'This offer has expired.') };
    }
    // 5. Someone else already won the task (this offer still PENDING, or WITHDRAWN because of it; a
    // declined offer goes on to step 6: offer_not_pending).
    if (accept && assignmentId && assignee !== p.userId && (status === 'PENDING' || status === 'WITHDRAWN')) {
      return { err: conflict('task_already_assigned', 'Another worker accepted this task first.') };
    }
    // 6. The task or the offer no longer allows a decision.
    if (taskStatus === 'CANCELLED' || (status === 'PENDING' && taskStatus !== 'OPEN')) {
      return { err: badRequest('task_not_open', `The task is ${taskStatus}, no longer open.`) };
    }
    if (status !== 'PENDING') return { err: badRequest('offer_not_pending', `This offer is ${status}, no longer pending.`) };
    if (!accept) {
      q.decide.run('DECLINED', reason, now, offerRow);
      logEvent(p.userId, taskId, 'offer_declined', { offerId });
      return { res: { ok: true, accept: false } as DecisionResult };
    }
    // 7. Still eligible?
    // (the offer's worker is p, checked above; the read brought its account and profile along)
    if (!workerId || disabled || revokedAt) return { err: new AppError(403, 'not_eligible', 'This worker can no longer take offers.') };
    if (maxConcurrent > 0 && Number(q.openCount.get(p.userId)!.n) >= maxConcurrent) {
      return { err: new AppError(403, 'not_eligible', `This worker is at its limit of ${maxConcurrent} open assignment${maxConcurrent === 1 ? '' : 's'} (maxConcurrent); finish one first.`) };
    }
    // 9. Accept: the assignment (task_id is UNIQUE, so a second winner is impossible), then the rest.
    const newAssignmentId = newId();
    q.insertAssignment.run(newAssignmentId, taskId, p.userId, offerId, now, now);
    q.decide.run('ACCEPTED', reason, now, offerRow);
    q.assignTask.run(now, taskRow);
    const withdrawn = q.otherPending.all(taskId, offerId, now);
    if (withdrawn.length) q.withdrawOthers.run(now, taskId, offerId, now);
    logEvent(p.userId, taskId, 'offer_accepted', { offerId, assignmentId: newAssignmentId });
    return { res: { ok: true, accept: true, assignmentId: newAssignmentId } as DecisionResult, withdrawn, taskId };
  }

  // Decisions queued in one turn of the event loop, run back to back just before its COMMIT.
  let queued: { p: Principal; offerId: string; input: unknown; resolve: (r: DecisionResult) => void; reject: (err: unknown) => void }[] = [];
  function runQueued() {
    const batch = queued;
    queued = [];
    // An offer still in its match's batch is written first (see batches.ts); if SQLite refuses that
    // write (disk full, I/O error), each decision of the turn gets its error.
    try {
      batches.settle();
    } catch (err) {
      for (const it of batch) it.reject(err);
      return;
    }
    for (const it of batch) {
      let res: DecisionResult;
      try {
        res = api.decide(it.p, it.offerId, it.input);
      } catch (err) {
        it.reject(err);
        continue;
      }
      // Answered once the decision is committed; if the COMMIT fails, with its error.
      const done = db.durable();
      if (done) done.then(() => it.resolve(res), it.reject);
      else it.resolve(res);
    }
  }

  /** A worker's live offers, oldest first, with those of a match whose rows are not written yet (batches.ts). */
  const pendingRows = (userId: string, now: string) =>
    batches.withWorker(q.pendingForWorker.all(userId, now), userId).filter((o) => o.status === 'PENDING' && o.expires_at > now);

  const api = {
    /**
     * decide() for the transports (HTTP, WebSocket): the decisions that arrive in one turn of the event
     * loop run back to back at its end, just before the group's COMMIT (db.beforeCommit), in the order
     * they arrived. Run between the parsing of one request and the next, the same statements took about
     * a fifth longer (SQLite's code and pages pushed out of the CPU caches by the request handling).
     * Settles once the decision is committed.
     */
    queueDecision(p: Principal, offerId: string, input: unknown): Promise<DecisionResult> {
      return new Promise((resolve, reject) => {
        queued.push({ p, offerId, input, resolve, reject });
        if (queued.length > 1) return;
        try {
          db.beforeCommit(runQueued);
        } catch (err) {
          // No transaction could begin (the database is locked by another program past busy_timeout):
          // this decision fails, and the next one starts the queue again.
          queued = [];
          reject(err);
        }
      });
    },
    decide(p: Principal, offerId: string, input: unknown): DecisionResult {
      const v = parseInput(schemas.decision, input);
      // decideInTx checks everything before its first write, so it needs no savepoint of its own.
      const out = db.txChecked(() => decideInTx(p, offerId, v.accept, v.reason ?? null, nowIso()));
      if (out.err) throw out.err;
      const { withdrawn, taskId } = out;
      // The other workers hear that their offers are gone once the acceptance is committed.
      if (withdrawn?.length) {
        db.afterCommit(() => {
          for (const w of withdrawn) ctx.notifier.push(w.worker_user_id, { type: 'offer_withdrawn', offerId: w.id, taskId, reason: 'task_assigned' });
        });
      }
      return out.res!;
    },
    listOffers(p: Principal, input: unknown) {
      // ?status= is read in any case (pending, Pending): a query string is typed by hand.
      const q0 = (input ?? {}) as Record<string, unknown>;
      const v = parseInput(schemas.listOffers, typeof q0.status === 'string' ? { ...q0, status: q0.status.toUpperCase() } : q0, 'query string');
      const now = nowIso();
      const rows = v.status === 'PENDING' ? pendingRows(p.userId, now) : batches.withWorker(q.listForWorker.all(p.userId), p.userId, true).slice(0, 500);
      const list = rows.map((o) => workerOfferView(o, now));
      return { offers: v.status && v.status !== 'PENDING' ? list.filter((o) => o.status === v.status) : list };
    },
    /** Rows for the pending_offer replay right after a socket authenticates. */
    pendingFor(userId: string) {
      return pendingRows(userId, nowIso());
    },
    /**
     * Marks every pending offer past its expiry EXPIRED; returns how many. Bookkeeping (every read
     * shows such an offer as EXPIRED already), so it never waits for another program's write lock: it
     * fails at once with SQLITE_BUSY instead, and the next sweep does it.
     */
    sweepExpired(): number {
      return db.noWait(() => {
        batches.settle();
        return Number(q.sweep.run(nowIso()).changes);
      });
    },
  };
  return api;
}
