// Assignments: start, submit a deliverable (and resubmit after rejection), the buyer's review, lists.
import { z } from 'zod';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { type Ctx, lazySchemas, once, parseInput, type Principal } from './context.ts';
import { newId, nowIso } from './util.ts';
import { ASSIGNMENT_SELECT, assignmentView } from './views.ts';
import type { AgentOutbox } from './outbox.ts';

function submitSchema(maxChars: number) {
  return z.object({
    contentText: z.string({ message: 'must be a string' }).min(1, 'must not be empty').max(maxChars, `must be at most ${maxChars} characters`),
  });
}

export const schemas = lazySchemas({
  review: () =>
    z.object({
      decision: z.enum(['accept', 'reject'], { message: 'must be "accept" or "reject"' }),
      feedback: z.string().max(10_000, 'must be at most 10000 characters').nullish(),
    }),
  /** The assignment lists' query: ?include=taskStatus adds each task's status (an extension). */
  list: () => z.object({ include: z.enum(['taskStatus']).optional() }),
});

const SUBMITTABLE = new Set(['ASSIGNED', 'IN_PROGRESS', 'REJECTED']);
const assignmentNotFound = () => notFound('assignment_not_found', 'No assignment with this id.');

export function assignments(ctx: Ctx, logEvent: (actor: string | null, taskId: string | null, kind: string, data?: unknown) => void, outbox: AgentOutbox) {
  const { db } = ctx;
  const submit = once(() => submitSchema(ctx.cfg.maxDeliverable));
  const q = {
    brief: db.prepare(
      `SELECT a.id, a.task_id, a.worker_user_id, a.status, a.feedback, t.status AS task_status, t.buyer_id, d.id AS d_id, d.revision
         FROM assignments a JOIN tasks t ON t.id = a.task_id LEFT JOIN deliverables d ON d.assignment_id = a.id WHERE a.id = ?`,
    ),
    full: db.prepare(`${ASSIGNMENT_SELECT} WHERE a.id = ?`),
    listForWorker: db.prepare(`${ASSIGNMENT_SELECT} WHERE a.worker_user_id = ? ORDER BY a.created_at DESC, a.id DESC`),
    setStatus: db.prepare(`UPDATE assignments SET status = ?, updated_at = ? WHERE id = ?`),
    setReviewed: db.prepare(`UPDATE assignments SET status = ?, feedback = ?, updated_at = ? WHERE id = ?`),
    insertDeliverable: db.prepare(`INSERT INTO deliverables (id, assignment_id, content_text, submitted_at, revision) VALUES (?, ?, ?, ?, 1)`),
    updateDeliverable: db.prepare(`UPDATE deliverables SET content_text = ?, submitted_at = ?, revision = ? WHERE id = ?`),
    insertHistory: db.prepare(`INSERT INTO deliverable_history (deliverable_id, revision, content_text, submitted_at) VALUES (?, ?, ?, ?)`),
    historyFeedback: db.prepare(`UPDATE deliverable_history SET feedback = ? WHERE deliverable_id = ? AND revision = ?`),
    completeTask: db.prepare(`UPDATE tasks SET status = 'COMPLETED', updated_at = ? WHERE id = ?`),
  };

  /** The caller's own assignment: 404 when unknown, 403 when another worker's (SPEC §4 order). */
  function own(p: Principal, id: string) {
    const a = q.brief.get(id);
    if (!a) throw assignmentNotFound();
    if (a.worker_user_id !== p.userId) throw forbidden('This assignment belongs to another worker.');
    return a;
  }

  return {
    /** The zod schema of a submission (its limit is VALENCE_MAX_DELIVERABLE), for the API description. */
    submitSchema: submit,
    submit(p: Principal, id: string, input: unknown) {
      const v = parseInput(submit(), input);
      return db.tx(() => {
        const a = own(p, id);
        if (a.task_status === 'CANCELLED') throw badRequest('not_submittable', 'The task was cancelled; nothing can be submitted.');
        if (!SUBMITTABLE.has(a.status)) {
          throw badRequest('not_submittable', `A deliverable can be submitted from ASSIGNED, IN_PROGRESS or REJECTED; this assignment is ${a.status}.`);
        }
        const at = nowIso();
        let dId = a.d_id as string | null;
        let revision = 1;
        if (dId) {
          revision = a.revision + 1;
          q.updateDeliverable.run(v.contentText, at, revision, dId);
        } else {
          dId = newId();
          q.insertDeliverable.run(dId, id, v.contentText, at);
        }
        q.insertHistory.run(dId, revision, v.contentText, at);
        q.setStatus.run('SUBMITTED', at, id);
        logEvent(p.userId, a.task_id, 'deliverable_submitted', { assignmentId: id, revision });
        return { ok: true as const, assignmentId: id, status: 'SUBMITTED' as const, revision };
      });
    },
    start(p: Principal, id: string) {
      return db.tx(() => {
        const a = own(p, id);
        if (a.status === 'IN_PROGRESS') return { ok: true as const, assignmentId: id, status: 'IN_PROGRESS' as const };
        if (a.status !== 'ASSIGNED' || a.task_status === 'CANCELLED') {
          throw badRequest('not_startable', `Only an ASSIGNED assignment of a live task can be started; this one is ${a.status}${a.task_status === 'CANCELLED' ? ' and its task was cancelled' : ''}.`);
        }
        q.setStatus.run('IN_PROGRESS', nowIso(), id);
        logEvent(p.userId, a.task_id, 'assignment_started', { assignmentId: id });
        return { ok: true as const, assignmentId: id, status: 'IN_PROGRESS' as const };
      });
    },
    /**
     * The worker's assignments in SPEC §4.1's shape; withTaskStatus adds `taskStatus` to each (an
     * extension asked for with ?include=taskStatus: the worker portal shows a cancelled task by it).
     */
    listForWorker(p: Principal, withTaskStatus = false) {
      const rows = q.listForWorker.all(p.userId);
      return { assignments: withTaskStatus ? rows.map((a) => ({ ...assignmentView(a), taskStatus: a.task_status as string })) : rows.map(assignmentView) };
    },
    view(p: Principal, id: string, withTaskStatus = false) {
      own(p, id);
      const a = q.full.get(id)!;
      return { assignment: withTaskStatus ? { ...assignmentView(a), taskStatus: a.task_status as string } : assignmentView(a) };
    },
    /** The buyer accepts (task COMPLETED) or rejects (the worker may resubmit) the current deliverable. */
    review(p: Principal, id: string, input: unknown) {
      const v = parseInput(schemas.review, input);
      const out = db.tx(() => {
        const a = q.brief.get(id);
        if (!a || a.buyer_id !== p.userId) throw assignmentNotFound();
        if (a.status !== 'SUBMITTED') throw badRequest('not_reviewable', `Only a SUBMITTED deliverable can be reviewed; this assignment is ${a.status}.`);
        if (a.task_status === 'CANCELLED') throw badRequest('not_reviewable', 'The task was cancelled.');
        const at = nowIso();
        const status = v.decision === 'accept' ? 'ACCEPTED' : 'REJECTED';
        const feedback = v.feedback ?? null;
        // The assignment's feedback is the buyer's last rejection note (SPEC §4.1): an accept keeps it.
        q.setReviewed.run(status, v.decision === 'reject' ? feedback : a.feedback, at, id);
        if (feedback !== null) q.historyFeedback.run(feedback, a.d_id, a.revision);
        if (status === 'ACCEPTED') q.completeTask.run(at, a.task_id);
        logEvent(p.userId, a.task_id, 'deliverable_reviewed', { assignmentId: id, decision: v.decision, revision: a.revision });
        // The worker hears of the review once it is committed; an agent without a socket, at its next auth.
        outbox.tell(a.worker_user_id, { type: 'deliverable_reviewed', assignmentId: id, taskId: a.task_id, decision: v.decision, status, feedback });
        return { status };
      });
      return { ok: true as const, status: out.status };
    },
  };
}
