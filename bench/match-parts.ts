// Where the time of one match to 1000 workers goes, statement by statement, on a database that
// already holds `BENCH_OFFERS` (default 100 000) offers. In-process, no HTTP, no sockets.
//   node --import tsx bench/match-parts.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedDatabase } from './seed.ts';
import { openDatabase } from '../lib/storage/index.ts';
import { newId } from '../lib/domain/util.ts';
import { offerMessage } from '../lib/domain/views.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-match-'));
const file = path.join(dir, 'v.db');
const seed = seedDatabase(file, { fanout: [1000, 0, 'fanout'], other: [50, Math.round(Number(process.env.BENCH_OFFERS ?? 100_000) / 50), 'other'] });
const db = openDatabase(file);
const users = seed.groups.fanout.map((a) => a.userId);
const insertTask = db.prepare(`INSERT INTO tasks (id, buyer_id, title, description, category, offer_ttl_seconds, status, created_at, updated_at) VALUES (?, ?, 't', 'd', 'fanout', 900, 'OPEN', ?, ?)`);
const insertOffer = db.prepare(`INSERT INTO match_offers (id, task_id, worker_user_id, status, message, created_at, expires_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)`);
// One statement for every worker offered in the round, as the hub did before its offers went through a batch row (now lib/domain/batches.ts touch, by the batch's JSON).
const touch = db.prepare(`UPDATE users SET last_offered_at = ? WHERE id IN (SELECT worker_user_id FROM match_offers WHERE task_id = ? AND created_at = ?)`);
const walFrames = () => fs.statSync(file + '-wal').size / 4120;
for (let r = 0; r < 8; r++) {
  const at = new Date().toISOString();
  const task = newId();
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.exec('BEGIN IMMEDIATE');
  insertTask.run(task, seed.buyerId, at, at);
  let t = performance.now();
  for (const u of users) {
    const id = newId();
    insertOffer.run(id, task, u, offerMessage({ title: 't', description: 'd', category: 'fanout', deadline: null }, id, at), at, at);
  }
  const tIns = performance.now() - t;
  t = performance.now();
  touch.run(at, task, at);
  const tTouch = performance.now() - t;
  t = performance.now();
  db.exec('COMMIT');
  const tCommit = performance.now() - t;
  console.log(`1000 offer inserts ${tIns.toFixed(1)} ms, the last_offered_at update of 1000 workers ${tTouch.toFixed(1)} ms, COMMIT ${tCommit.toFixed(1)} ms writing ${walFrames().toFixed(0)} WAL frames`);
}
db.close();
fs.rmSync(dir, { recursive: true, force: true });
