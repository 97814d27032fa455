// Frames an agent must not miss because it had no socket when they were made: the review of its
// deliverable (a rejection is work to redo) and the cancellation of its task (work to stop). The
// pending offers of an agent are replayed after every auth_ok from their own rows; these two kinds of
// frame have no row to replay from, so they are kept here, sent after the agent's next auth_ok (after
// the offers), and removed. Kept 30 days at most; human workers see the same in their portal.
import type { Ctx } from './context.ts';
import { nowIso } from './util.ts';

const KEEP_DAYS = 30;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export function agentOutbox(ctx: Ctx) {
  const { db } = ctx; // ctx.notifier is read at each call: the gateway sets it after the domain is made
  const q = {
    role: db.prepareArrays<[string]>(`SELECT role FROM users WHERE id = ?`),
    insert: db.prepare(`INSERT INTO agent_outbox (user_id, frame, created_at) VALUES (?, ?, ?)`),
    forUser: db.prepare(`SELECT id, frame FROM agent_outbox WHERE user_id = ? ORDER BY id`),
    remove: db.prepare(`DELETE FROM agent_outbox WHERE user_id = ? AND id <= ?`),
    prune: db.prepare(`DELETE FROM agent_outbox WHERE created_at <= ?`),
  };
  let prunedAt = 0;

  /** Keeps a frame whose live push found no socket; written now, in a group of its own. */
  function keepAfterCommit(userId: string, text: string) {
    try {
      db.noWait(() => db.tx(() => q.insert.run(userId, text, nowIso())));
    } catch (err) {
      ctx.log.error('a frame for an agent could not be kept for its next connection', { userId, error: String(err) });
    }
  }

  return {
    /**
     * Call inside the transaction that makes the change: the frame reaches the worker once the change
     * is committed, over its sockets; an agent with no socket gets it after its next auth_ok.
     */
    tell(userId: string, frame: Record<string, unknown>): void {
      const text = JSON.stringify(frame);
      if (q.role.get(userId)?.[0] !== 'AGENT') {
        db.afterCommit(() => ctx.notifier.push(userId, text));
        return;
      }
      // No socket now: kept with the change itself (a socket authenticating meanwhile reads it once
      // the change is committed). A socket now, gone by the push: kept right after.
      if (!ctx.notifier.isConnected(userId)) q.insert.run(userId, text, nowIso());
      else db.afterCommit(() => void (ctx.notifier.push(userId, text) || keepAfterCommit(userId, text)));
    },
    /**
     * The frames kept for an agent, oldest first, removed as they are taken. The removal does not wait
     * for another program's write lock: when it cannot be written, the frames are sent again next time.
     */
    take(userId: string): string[] {
      const rows = q.forUser.all(userId);
      if (!rows.length) return [];
      try {
        db.noWait(() => db.tx(() => q.remove.run(userId, rows[rows.length - 1].id)));
      } catch (err) {
        ctx.log.info('frames sent to an agent not removed yet; sent again at its next connection', { userId, error: String(err) });
      }
      return rows.map((r) => r.frame as string);
    },
    /** Removes frames older than 30 days, at most once an hour (called by the expiry sweep). */
    prune(): number {
      if (Date.now() - prunedAt < PRUNE_EVERY_MS) return 0;
      prunedAt = Date.now();
      return db.noWait(() => db.tx(() => Number(q.prune.run(new Date(Date.now() - KEEP_DAYS * 86_400_000).toISOString()).changes)));
    },
  };
}

export type AgentOutbox = ReturnType<typeof agentOutbox>;
