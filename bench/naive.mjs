// The "naive server", measured in the same run as the hub: node:http and better-sqlite3,
// and for every accept the SHA-256 of the Bearer key looked up in the database, then the accept in a
// transaction of its own (read the offer, insert the assignment, mark the offer accepted), committed
// before the answer. No cache, no grouped commits, no task update, no event row, no validation
// beyond what the transaction needs: the yardstick the hub's targets are written against (0.25 of
// the bare baseline is 2.5 times this server; FULL, 0.12 is 3 times it).
// It also creates a ws server on its port, so that its start-up is the other reference:
// a plain-JS server with http + ws + better-sqlite3.
//   VALENCE_DB=path VALENCE_SYNCHRONOUS=NORMAL|FULL node bench/naive.mjs
import crypto from 'node:crypto';
import http from 'node:http';
import Database from 'better-sqlite3';
import { WebSocketServer } from 'ws';

const db = new Database(process.env.VALENCE_DB ?? 'naive.db');
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${process.env.VALENCE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL'}`);
// On an empty database (the start-up measure) the few columns it uses; a seeded hub database has them all.
db.exec(`CREATE TABLE IF NOT EXISTS agent_profiles (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS match_offers (id TEXT PRIMARY KEY, task_id TEXT NOT NULL, worker_user_id TEXT NOT NULL, status TEXT NOT NULL, decided_at TEXT);
  CREATE TABLE IF NOT EXISTS assignments (id TEXT PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, worker_user_id TEXT NOT NULL, offer_id TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);

const byKey = db.prepare('SELECT user_id FROM agent_profiles WHERE key_hash = ?');
const offer = db.prepare('SELECT task_id, worker_user_id, status FROM match_offers WHERE id = ?');
const insert = db.prepare(`INSERT INTO assignments (id, task_id, worker_user_id, offer_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'ASSIGNED', ?, ?)`);
const accept = db.prepare(`UPDATE match_offers SET status = 'ACCEPTED', decided_at = ? WHERE id = ?`);
const decide = db.transaction((userId, offerId) => {
  const o = offer.get(offerId);
  if (!o) return [404, { ok: false, error: 'offer_not_found' }];
  if (o.worker_user_id !== userId) return [403, { ok: false, error: 'forbidden' }];
  if (o.status !== 'PENDING') return [409, { ok: false, error: 'offer_not_pending' }];
  const now = new Date().toISOString();
  const assignmentId = crypto.randomUUID();
  insert.run(assignmentId, o.task_id, userId, offerId, now, now);
  accept.run(now, offerId);
  return [200, { ok: true, accept: true, assignmentId }];
});

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const DECISION = /^\/api\/agent\/v1\/offers\/([^/]+)\/decision$/;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const m = DECISION.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return answer(res, 404, { ok: false, error: 'not_found' });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (body.accept !== true) return answer(res, 400, { ok: false, error: 'validation_error' });
      const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const agent = byKey.get(crypto.createHash('sha256').update(key).digest('hex'));
      if (!agent) return answer(res, 401, { ok: false, error: 'unauthorized' });
      const [status, out] = decide.immediate(agent.user_id, m[1]);
      answer(res, status, out);
    } catch (err) {
      answer(res, 500, { ok: false, error: String(err) });
    }
  });
});
new WebSocketServer({ server });
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => {
  db.close();
  process.exit(0);
});
