// A match's offers, made durable before their pending_offer frames go out, in one small row.
//
// Writing 1000 offer rows (their indexes, their foreign keys, each worker's last_offered_at) takes
// 10-20 ms. A match commits one offer_batches row instead (the task, the offer ids and workers, the
// message's two halves, the times), pushes the frames once that COMMIT is done, and writes the batch
// into match_offers right after the sends, in the same turn: an agent is never told of an offer that
// a crash or a failed COMMIT would take back, and the rows are written while the agents read.
//
// A batch can stay unwritten: the hub stopped between the push and the write (it writes the batch at
// start), another program held the write lock just then (the write does not wait for it: noWait), or
// the write's group failed. Every write that touches offers (a match, a decision, a cancellation, the
// expiry sweep) first writes what is left (settle()), and every read of offers adds the offers of an
// unwritten batch to the rows it read (the forWorker and forTask reads), so nothing is missing from
// an answer meanwhile and a read never waits for the write lock.
import type { Ctx } from './context.ts';
import type { Row } from '../storage/index.ts';

// A batch's offers (b: offer_batches, j: json_each(b.offers)) as the columns of a match_offers row.
const OFFER_COLUMNS = `j.value ->> 0 AS id, b.task_id, j.value ->> 1 AS worker_user_id, 'PENDING' AS status, NULL AS reason,
  b.message_head || (j.value ->> 0) || b.message_tail AS message, b.created_at, b.expires_at, NULL AS decided_at`;

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
    // The offers of unwritten batches as the reads of match_offers return them.
    forWorker: db.prepare(
      `SELECT ${OFFER_COLUMNS}, t.title, t.description, t.category, t.deadline
         FROM offer_batches b JOIN tasks t ON t.id = b.task_id, json_each(b.offers) j
        WHERE j.value ->> 1 = ?`,
    ),
    forTask: db.prepare(
      `SELECT ${OFFER_COLUMNS}, u.name AS worker_name
         FROM offer_batches b, json_each(b.offers) j JOIN users u ON u.id = j.value ->> 1
        WHERE b.task_id = ?`,
    ),
  };
  /** rows with the unwritten offers added, in the order of (created_at, id), newest first when desc. */
  const merged = (rows: Row[], extra: Row[], desc: boolean) => {
    if (!extra.length) return rows;
    const sign = desc ? -1 : 1;
    return [...rows, ...extra].sort((a, b) =>
      sign * (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    );
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
     * settle() that neither waits for another program's write lock nor throws: for the match's own
     * write right after its sends, and at start. What it cannot write now, the next settle() writes.
     */
    trySettle(): number {
      try {
        return db.noWait(() => api.settle());
      } catch (err) {
        ctx.log.error('offers of a match not written yet', { error: String(err) });
        return 0;
      }
    },
    /** A worker's offer rows (match_offers joined to tasks) with the offers of unwritten batches added. */
    withWorker(rows: Row[], userId: string, desc = false): Row[] {
      return q.any.get() ? merged(rows, q.forWorker.all(userId), desc) : rows;
    },
    /** A task's offer rows (match_offers with worker_name) with the offers of unwritten batches added. */
    withTask(rows: Row[], taskId: string): Row[] {
      return q.any.get() ? merged(rows, q.forTask.all(taskId), false) : rows;
    },
  };
  return api;
}

export type OfferBatches = ReturnType<typeof offerBatches>;
