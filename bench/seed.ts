// Fills a fresh hub database before the hub starts: agents with real keys, a buyer, and open tasks
// each holding one PENDING offer, so that every accept in a run decides a distinct offer.
// Rows go in with plain SQL in one transaction (the API would take minutes for 500 000 offers);
// the hub migrates and reads the same file when it starts.
import { openDatabase } from '../lib/storage/index.ts';
import { newId, newKey } from '../lib/domain/util.ts';
import { offerMessage } from '../lib/domain/views.ts';

export interface SeededAgent {
  userId: string;
  key: string;
  /** Offer ids this agent may accept, in order. */
  offers: string[];
}

export interface Seed {
  buyerKey: string;
  buyerId: string;
  /** Agents by group name. */
  groups: Record<string, SeededAgent[]>;
}

/** groups: name -> [agent count, offers per agent, category]. */
export function seedDatabase(file: string, groups: Record<string, [number, number, string]>): Seed {
  const db = openDatabase(file);
  const at = new Date().toISOString();
  const insertUser = db.prepare(
    `INSERT INTO users (id, role, name, email, password_hash, key_hash, key_prefix, category, created_at) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?)`,
  );
  const insertAgent = db.prepare(
    `INSERT INTO agent_profiles (id, user_id, name, category, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertTask = db.prepare(
    `INSERT INTO tasks (id, buyer_id, title, description, category, offer_ttl_seconds, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 604800, 'OPEN', ?, ?)`,
  );
  const insertOffer = db.prepare(
    `INSERT INTO match_offers (id, task_id, worker_user_id, status, message, created_at, expires_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)`,
  );
  const buyer = newKey('buyer');
  const buyerId = newId();
  const out: Seed = { buyerKey: buyer.key, buyerId, groups: {} };
  db.tx(() => {
    insertUser.run(buyerId, 'BUYER', 'bench buyer', buyer.hash, buyer.prefix, null, at);
    for (const [group, [count, perAgent, category]] of Object.entries(groups)) {
      const agents: SeededAgent[] = [];
      for (let i = 0; i < count; i++) {
        const k = newKey('agent');
        const userId = newId();
        const name = `${group}-${i}`;
        insertUser.run(userId, 'AGENT', name, null, null, category, at);
        insertAgent.run(newId(), userId, name, category, k.hash, k.prefix, at);
        agents.push({ userId, key: k.key, offers: [] });
      }
      out.groups[group] = agents;
      writeOffers(insertTask, insertOffer, buyerId, agents, perAgent, category, group);
    }
  });
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  return out;
}

type Stmt = ReturnType<ReturnType<typeof openDatabase>['prepare']>;

/**
 * Tasks as a busy hub makes them: one after the other, each matched to the next agent in turn, so
 * the offers an agent holds are interleaved in time with everyone else's. Each agent's list is kept
 * oldest last, and the runs pop() it: offers are decided in the order they were made, as agents
 * answer offers that just arrived.
 */
function writeOffers(insertTask: Stmt, insertOffer: Stmt, buyerId: string, agents: SeededAgent[], perAgent: number, category: string, label: string) {
  const made: string[][] = agents.map(() => []);
  let n = 0;
  for (let j = 0; j < perAgent; j++) {
    for (let i = 0; i < agents.length; i++) {
      const now = Date.now();
      const at = new Date(now).toISOString();
      const expires = new Date(now + 7 * 86400_000).toISOString();
      const taskId = newId();
      const offerId = newId();
      const task = { title: `bench task ${label} ${n++}`, description: 'Summarise the attached notes in three lines.', category, deadline: null };
      insertTask.run(taskId, buyerId, task.title, task.description, category, at, at);
      insertOffer.run(offerId, taskId, agents[i].userId, offerMessage(task, offerId, expires), at, expires);
      made[i].push(offerId);
    }
  }
  agents.forEach((a, i) => a.offers.push(...made[i].reverse()));
}

/** Adds `perAgent` open tasks with one PENDING offer each for every agent, through a second connection (the hub may be running). */
export function addOffers(file: string, buyerId: string, agents: SeededAgent[], perAgent: number, category: string): void {
  const db = openDatabase(file, { migrate: false });
  const insertTask = db.prepare(
    `INSERT INTO tasks (id, buyer_id, title, description, category, offer_ttl_seconds, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 604800, 'OPEN', ?, ?)`,
  );
  const insertOffer = db.prepare(
    `INSERT INTO match_offers (id, task_id, worker_user_id, status, message, created_at, expires_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)`,
  );
  db.tx(() => writeOffers(insertTask, insertOffer, buyerId, agents, perAgent, category, category));
  db.close();
}
