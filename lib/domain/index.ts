// The domain: one function per operation, shared by every transport.
import type { Ctx } from './context.ts';
import { accounts } from './accounts.ts';
import { tasks } from './tasks.ts';
import { offers } from './offers.ts';
import { assignments } from './assignments.ts';
import { offerBatches } from './batches.ts';
import { agentOutbox } from './outbox.ts';
import { nowIso } from './util.ts';

export function createDomain(ctx: Ctx) {
  const insertEvent = ctx.db.prepare(`INSERT INTO events (at, actor, task_id, kind, data) VALUES (?, ?, ?, ?, ?)`);
  const logEvent = (actor: string | null, taskId: string | null, kind: string, data?: unknown) => {
    insertEvent.run(nowIso(), actor, taskId, kind, data === undefined ? null : JSON.stringify(data));
  };
  const batches = offerBatches(ctx);
  const outbox = agentOutbox(ctx);
  return {
    accounts: accounts(ctx),
    batches,
    outbox,
    tasks: tasks(ctx, batches, logEvent, outbox),
    offers: offers(ctx, batches, logEvent),
    assignments: assignments(ctx, logEvent, outbox),
  };
}

export type Domain = ReturnType<typeof createDomain>;
export type { Ctx, Notifier, Principal, Role } from './context.ts';
