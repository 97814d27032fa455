// The JSON shapes of SPEC §4: every transport answers with these.
import type { Row } from '../storage/index.ts';

/** An offer read after its expiry counts as EXPIRED even before the sweep marks it. */
export function offerStatus(status: string, expiresAt: string, now: string): string {
  return status === 'PENDING' && expiresAt <= now ? 'EXPIRED' : status;
}

export function taskView(t: Row) {
  return {
    id: t.id as string,
    buyerId: t.buyer_id as string,
    title: t.title as string,
    description: t.description as string,
    category: (t.category ?? null) as string | null,
    deadline: (t.deadline ?? null) as string | null,
    offerTtlSeconds: t.offer_ttl_seconds as number,
    status: t.status as string,
    createdAt: t.created_at as string,
    updatedAt: t.updated_at as string,
  };
}

/** The task as a worker sees it inside an offer or assignment. */
export function taskBrief(r: Row) {
  return { id: r.task_id as string, title: r.title as string, description: r.description as string, category: r.category ?? null, deadline: r.deadline ?? null };
}

export function assignmentView(a: Row) {
  return {
    id: a.id as string,
    status: a.status as string,
    taskId: a.task_id as string,
    offerId: a.offer_id as string,
    workerUserId: a.worker_user_id as string,
    createdAt: a.created_at as string,
    updatedAt: a.updated_at as string,
    task: taskBrief(a),
    deliverable: a.d_revision == null ? null : { contentText: a.d_content_text as string, submittedAt: a.d_submitted_at as string, revision: a.d_revision as number },
    feedback: (a.feedback ?? null) as string | null,
  };
}

/** Selects the columns assignmentView reads; append WHERE/ORDER. */
export const ASSIGNMENT_SELECT = `
  SELECT a.id, a.status, a.task_id, a.offer_id, a.worker_user_id, a.created_at, a.updated_at, a.feedback,
         t.title, t.description, t.category, t.deadline, t.buyer_id, t.status AS task_status,
         d.id AS d_id, d.content_text AS d_content_text, d.submitted_at AS d_submitted_at, d.revision AS d_revision
    FROM assignments a JOIN tasks t ON t.id = a.task_id LEFT JOIN deliverables d ON d.assignment_id = a.id`;

export function workerOfferView(o: Row, now: string) {
  return {
    id: o.id as string,
    offerId: o.id as string,
    taskId: o.task_id as string,
    status: offerStatus(o.status, o.expires_at, now),
    reason: (o.reason ?? null) as string | null,
    message: o.message as string,
    task: taskBrief(o),
    createdAt: o.created_at as string,
    expiresAt: o.expires_at as string,
    decidedAt: (o.decided_at ?? null) as string | null,
  };
}

/** The pending_offer frame of SPEC §6. */
export function pendingOfferFrame(o: { id: string; message: string; expires_at: string }, task: ReturnType<typeof taskBrief>) {
  return { type: 'pending_offer', offerId: o.id, message: o.message, task, expiresAt: o.expires_at };
}

type MessageTask = { title: string; description: string; category: string | null; deadline: string | null };

/** text cut to its first n characters (code points: a character outside the BMP, an emoji, is never cut in half), with … when cut. */
export function clip(text: string, n: number): string {
  if (text.length <= n) return text;
  let units = 0;
  let chars = 0;
  for (const ch of text) {
    if (chars === n) return text.slice(0, units) + '…';
    units += ch.length;
    chars++;
  }
  return text;
}

/** The offer message in two halves, before and after the offer id: one match makes many that differ only there. */
export function offerMessageParts(task: MessageTask, expiresAt: string): [string, string] {
  const desc = clip(task.description, 600);
  return [
    `New task offer: "${task.title}"` +
    (task.category ? ` (category: ${task.category})` : '') +
    (task.deadline ? `, deadline ${task.deadline}` : '') +
    `. ${desc}\n` +
    `To take it, accept offer `,
    ` before ${expiresAt}; the first worker to accept gets the task.`,
  ];
}

/** A readable summary an LLM agent can act on. */
export function offerMessage(task: MessageTask, offerId: string, expiresAt: string): string {
  const [before, after] = offerMessageParts(task, expiresAt);
  return before + offerId + after;
}

/**
 * The text of JSON.stringify(pendingOfferFrame(...)) for each offer of one match, from one
 * JSON.stringify of what the offers share: 1000 frames cost 0.1-0.3 ms instead of 5-8 ms, before the
 * first of them can be sent. Offer ids are URL-safe (newId), so they need no escaping inside JSON.
 */
export function pendingOfferFrameText(task: ReturnType<typeof taskBrief>, parts: [string, string], expiresAt: string): (offerId: string) => string {
  const head = '{"type":"pending_offer","offerId":"';
  const beforeId = '","message":' + JSON.stringify(parts[0]).slice(0, -1);
  const afterId = JSON.stringify(parts[1]).slice(1) + ',"task":' + JSON.stringify(task) + ',"expiresAt":' + JSON.stringify(expiresAt) + '}';
  return (offerId) => head + offerId + beforeId + offerId + afterId;
}
