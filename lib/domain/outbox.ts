// Frames an agent must not miss because it had no socket when they were made: the review of its
// deliverable (a rejection is work to redo) and the cancellation of its task (work to stop). The
// pending offers of an agent are replayed after every auth_ok from their own rows; these two kinds of
// frame have no row to replay from, so they are kept here, sent after the agent's next auth_ok (after
// the offers), and removed. Kept 30 days at most; human workers see the same in their portal.
import type { Ctx } from './context.ts';
import { nowIso } from './util.ts';
import { whileBusy } from '../storage/index.ts';

/** How long a kept frame's write or removal is tried again while another program holds the write lock. */
const RETRY_MS = 60_000;

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
  // Kept frames sent, whose removal is still waiting for another program's write lock: not sent again
  // meanwhile (to this agent's other sockets, or its next connection).
  const sentNotRemoved = new Set<number>();

  /** Keeps a frame whose live push found no socket; written in a group of its own (tried again while the database is locked). */
  function keepAfterCommit(userId: string, text: string) {
    whileBusy(() => db.noWait(() => db.tx(() => q.insert.run(userId, text, nowIso()))), RETRY_MS).catch((err) => {
      ctx.log.error('a frame for an agent could not be kept for its next connection', { userId, error: String(err) });
    });
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
     * The frames kept for an agent, oldest first, removed as they are taken. While another program
     * holds the write lock the removal is tried again until it is free (up to a minute) and the frames
     * are not handed out again meanwhile; a hub stopped before then sends them again after its restart.
     */
    take(userId: string): string[] {
      const rows = q.forUser.all(userId).filter((r) => !sentNotRemoved.has(r.id as number));
      if (!rows.length) return [];
      const last = rows[rows.length - 1].id as number;
      const remove = () => db.noWait(() => db.tx(() => q.remove.run(userId, last)));
      try {
        remove();
      } catch {
        // Another program holds the write lock: removed once it is free, and not sent again meanwhile.
        const ids = rows.map((r) => r.id as number);
        for (const id of ids) sentNotRemoved.add(id);
        whileBusy(remove, RETRY_MS).then(
          () => ids.forEach((id) => sentNotRemoved.delete(id)),
          (err) => ctx.log.error('frames sent to an agent not removed; sent again after a restart', { userId, error: String(err) }),
        );
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
