// A match's offers, made durable before their pending_offer frames go out, in one small row.
//
// Writing 1000 offer rows (their indexes, their foreign keys, each worker's last_offered_at) takes
// 10-20 ms. A match commits one offer_batches row instead (the task, the offer ids and workers, the
// message's two halves, the times), pushes the frames once that COMMIT is done, and writes the batch
// into match_offers right after the sends, in the same turn: an agent is never told of an offer that
// a crash or a failed COMMIT would take back, and the rows are written while the agents read.
//
// Whatever reads or writes offers first calls settle(), which writes every batch still here into
// match_offers (and deletes it, in the same transaction). Normally there is none: the match's own
// settle() runs right after its sends. One stays only if the hub stopped in between (a crash: the
// hub settles at start) or the write's group failed (the next settle() writes it again; the DELETE
// went with the rows, so the batch is there).
import type { Ctx } from './context.ts';

export function offerBatches(ctx: Ctx) {
  const { db } = ctx;
  const q = {
    insert: db.prepare(
      `INSERT INTO offer_batches (task_id, offers, message_head, message_tail, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    any: db.prepareArrays<[number]>(`SELECT id FROM offer_batches LIMIT 1`),
    all: db.prepare(`SELECT * FROM offer_batches ORDER BY id`),
    // Every offer of the batch in one statement (in process, 1000 offers: 9.8 ms against 12.7 ms for
    // 1000 single-row inserts). OR IGNORE: an offer already written (the same worker offered the
    // same task) cannot happen, since a match settles first and skips workers offered the task; if it
    // did, the batch must still be written, not fail every settle() after it.
    spread: db.prepare(
      `INSERT OR IGNORE INTO match_offers (id, task_id, worker_user_id, status, message, created_at, expires_at)
       SELECT value ->> 0, ?, value ->> 1, 'PENDING', ? || (value ->> 0) || ?, ?, ? FROM json_each(?)`,
    ),
    // One statement for every worker offered in the batch (matching ranks by it).
    touch: db.prepare(`UPDATE users SET last_offered_at = ? WHERE id IN (SELECT value ->> 1 FROM json_each(?))`),
    remove: db.prepare(`DELETE FROM offer_batches WHERE id = ?`),
  };

  const api = {
    /** Records one match's offers ([offerId, workerUserId] pairs); call inside the match's transaction. */
    write(taskId: string, offers: [string, string][], parts: [string, string], createdAt: string, expiresAt: string): void {
      q.insert.run(taskId, JSON.stringify(offers), parts[0], parts[1], createdAt, expiresAt);
    },
    /** Writes every batch still waiting into match_offers; returns how many batches. Call outside any transaction. */
    settle(): number {
      if (!q.any.get()) return 0;
      return db.tx(() => {
        const rows = q.all.all();
        for (const b of rows) {
          q.spread.run(b.task_id, b.message_head, b.message_tail, b.created_at, b.expires_at, b.offers);
          q.touch.run(b.created_at, b.offers);
          q.remove.run(b.id);
        }
        return rows.length;
      });
    },
    /**
     * settle() that logs its failure instead of throwing: for a read, which goes on without the
     * batch's offers if they cannot be written now (another program holds the write lock), and for the
     * match's own settle() after its sends. The next settle() writes them.
     */
    trySettle(): number {
      try {
        return api.settle();
      } catch (err) {
        ctx.log.error('offers of a match not written yet', { error: String(err) });
        return 0;
      }
    },
  };
  return api;
}

export type OfferBatches = ReturnType<typeof offerBatches>;
