// The storage layer on this runtime's driver: pragmas, a new database, and the step from version 1.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.ts';
import { backup, openDatabase } from '../lib/storage/index.ts';
import { LATEST_VERSION } from '../lib/storage/migrations.ts';

const dir = tempDir('valence-storage-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A grouped connection, a second one that sees only what is committed, and an insert of a user row. */
function groupedPair(name: string) {
  const file = path.join(dir, name);
  const db = openDatabase(file, { group: true });
  const other = openDatabase(file, { migrate: false });
  return { db, other, insert: insertUser(db) };
}
const insertUser = (db: ReturnType<typeof openDatabase>) =>
  db.prepare(`INSERT INTO users (id, role, name, created_at) VALUES (?, 'BUYER', ?, '2026-01-01T00:00:00.000Z')`);

const indexes = (db: ReturnType<typeof openDatabase>) =>
  Object.fromEntries(db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).all().map((r) => [r.name, r.sql]));

test('a new database: WAL, foreign keys, busy timeout, the chosen synchronous mode, the latest version', () => {
  for (const [mode, level] of [['NORMAL', 1], ['FULL', 2]] as const) {
    const db = openDatabase(path.join(dir, `new-${mode}.db`), { synchronous: mode });
    assert.equal(db.pragma('journal_mode'), 'wal');
    assert.equal(Number(db.pragma('foreign_keys')), 1);
    assert.equal(Number(db.pragma('busy_timeout')), 5000);
    // The hub's grouped database never waits inside SQLite once open (whileBusy tries a request again).
    const hub = openDatabase(path.join(dir, `new-${mode}.db`), { synchronous: mode, group: true });
    assert.equal(Number(hub.pragma('busy_timeout')), 0);
    hub.close();
    assert.equal(Number(db.pragma('synchronous')), level);
    assert.equal(Number(db.pragma('user_version')), LATEST_VERSION);
    assert.match(indexes(db).offers_worker, /\(worker_user_id\)$/);
    db.close();
  }
});

test('a database the hub creates, its WAL files, its folders and its backups are its owner\'s only; an existing file keeps its mode', () => {
  const base = path.join(dir, 'private', 'nested');
  const file = path.join(base, 'v.db');
  const db = openDatabase(file);
  insertUser(db).run('p1', 'private');
  const copy = path.join(dir, 'private-backups', 'copy.db');
  backup(db, copy);
  const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);
  assert.deepEqual(
    [path.join(dir, 'private'), base, file, `${file}-wal`, `${file}-shm`, path.dirname(copy), copy].map(mode),
    ['700', '700', '600', '600', '600', '700', '600'],
  );
  db.close();
  const shared = path.join(dir, 'shared.db');
  fs.writeFileSync(shared, '', { mode: 0o640 });
  fs.chmodSync(shared, 0o640);
  openDatabase(shared).close();
  assert.equal(mode(shared), '640', 'a file made by its owner keeps the mode chosen');
});

/** Every table with its columns (name, type, not null, primary key) and every index with its columns. */
function shape(db: ReturnType<typeof openDatabase>): string[] {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all().map((r) => r.name as string);
  return [
    ...tables.map((t) => `${t}(${db.prepare(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`).all(t).map((c) => `${c.name} ${c.type} ${c.notnull} ${c.pk}`).join(', ')})`),
    ...Object.entries(indexes(db)).map(([name, sql]) => `${name}: ${sql}`).sort(),
  ];
}

test('a version 1 database is migrated step by step, keeping its rows, to the schema a new database gets', () => {
  const file = path.join(dir, 'v1.db');
  const db = openDatabase(file);
  // Put the database back the way version 1 left it.
  db.exec(`
    DROP INDEX offers_worker; CREATE INDEX offers_worker ON match_offers (worker_user_id, status);
    DROP INDEX assignments_worker; CREATE INDEX assignments_worker ON assignments (worker_user_id, status);
    CREATE INDEX events_task ON events (task_id);
    DROP TABLE offer_batches;
    DROP TABLE agent_outbox;
    INSERT INTO users (id, role, name, created_at) VALUES ('u1', 'BUYER', 'Kept', '2026-01-01T00:00:00.000Z');
    PRAGMA user_version = 1;
  `);
  db.close();
  const again = openDatabase(file);
  assert.equal(Number(again.pragma('user_version')), LATEST_VERSION);
  const ix = indexes(again);
  assert.match(ix.offers_worker, /\(worker_user_id\)$/);
  assert.match(ix.assignments_worker, /\(worker_user_id\)$/);
  assert.equal(ix.events_task, undefined);
  assert.deepEqual(again.prepare(`SELECT name FROM users`).all().map((r) => r.name), ['Kept']);
  const fresh = openDatabase(path.join(dir, 'fresh.db'));
  assert.deepEqual(shape(again), shape(fresh), 'the steps end where schema.sql starts');
  assert.ok(shape(fresh).some((t) => t.startsWith('offer_batches(')), 'version 3 holds offer_batches');
  assert.ok(shape(again).some((t) => t.startsWith('agent_outbox(')), 'version 4 holds agent_outbox');
  fresh.close();
  again.close();
});

test('a failing transaction leaves nothing behind', () => {
  const db = openDatabase(path.join(dir, 'tx.db'));
  assert.throws(() =>
    db.tx(() => {
      db.prepare(`INSERT INTO users (id, role, name, created_at) VALUES ('u2', 'BUYER', 'Gone', '2026-01-01T00:00:00.000Z')`).run();
      db.prepare(`INSERT INTO users (id, role, name, created_at) VALUES ('u3', 'NOT_A_ROLE', 'Bad', '2026-01-01T00:00:00.000Z')`).run();
    }), /CHECK constraint failed/);
  assert.equal(db.prepare(`SELECT COUNT(*) AS n FROM users`).get()!.n, 0);
  db.close();
});

test('grouped writes: one turn commits together; a failing tx undoes only itself, a failing txChecked undoes the whole group', async () => {
  const { db, other, insert } = groupedPair('grouped.db');
  const names = () => other.prepare(`SELECT name FROM users WHERE id LIKE 'g%' ORDER BY id`).all().map((r) => r.name);

  db.tx(() => insert.run('g1', 'first'));
  assert.throws(() => db.tx(() => { insert.run('g2', 'undone'); throw new Error('refused'); }), /refused/);
  db.tx(() => insert.run('g3', 'third'));
  assert.deepEqual(names(), [], 'nothing is visible before the turn ends');
  await db.durable();
  assert.deepEqual(names(), ['first', 'third']);
  assert.equal(db.durable(), null, 'nothing waits once the group is committed');

  db.tx(() => insert.run('g4', 'lost with its group'));
  const group = db.durable();
  assert.ok(group);
  assert.throws(() => db.txChecked(() => { insert.run('g5', 'half'); throw new Error('disk says no'); }), /disk says no/);
  await assert.rejects(group, /disk says no/);
  db.txChecked(() => insert.run('g6', 'next group'));
  await db.durable();
  assert.deepEqual(names(), ['first', 'third', 'next group']);
  other.close();
  db.close();
});

test('afterCommit: grouped, it runs once the group is committed and its rows are visible, never for a rolled-back tx or a lost group', async () => {
  const { db, other, insert } = groupedPair('after-commit.db');
  const visible = (id: string) => other.prepare(`SELECT COUNT(*) AS n FROM users WHERE id = ?`).get(id)!.n === 1;
  const ran: string[] = [];

  db.afterCommit(() => ran.push('nothing open'));
  assert.deepEqual(ran, ['nothing open'], 'with nothing to commit it runs at once');
  db.tx(() => insert.run('a1', 'kept'));
  db.afterCommit(() => ran.push(`a1 visible: ${visible('a1')}`));
  assert.throws(() => db.tx(() => { insert.run('a2', 'undone'); db.afterCommit(() => ran.push('a2')); throw new Error('refused'); }), /refused/);
  db.tx(() => { insert.run('a3', 'kept'); db.afterCommit(() => ran.push('a3')); });
  assert.deepEqual(ran, ['nothing open'], 'nothing runs before the COMMIT');
  await db.durable();
  assert.deepEqual(ran, ['nothing open', 'a1 visible: true', 'a3'], 'after the COMMIT, in order, without the rolled-back tx');

  db.tx(() => insert.run('a4', 'lost with its group'));
  db.afterCommit(() => ran.push('a4'));
  const group = db.durable();
  assert.throws(() => db.txChecked(() => { insert.run('a5', 'half'); throw new Error('disk says no'); }), /disk says no/);
  await assert.rejects(group!, /disk says no/);
  db.tx(() => insert.run('a6', 'next group'));
  db.afterCommit(() => { throw new Error('a push to a socket that went away'); });
  db.afterCommit(() => ran.push('a6'));
  await db.durable();
  assert.deepEqual(ran.slice(3), ['a6'], 'a lost group runs nothing; one callback that throws does not stop the next');
  other.close();
  db.close();
});

test('beforeCommit: grouped, its fns run after the turn\'s other writes and before the COMMIT, in order, in the same group; a fn that throws loses the group', async () => {
  const { db, other, insert } = groupedPair('before-commit.db');
  const names = () => other.prepare(`SELECT name FROM users WHERE id LIKE 'b%' ORDER BY created_at, rowid`).all().map((r) => r.name);
  const ran: string[] = [];

  db.beforeCommit(() => {
    ran.push('first');
    db.txChecked(() => insert.run('b2', 'written by the first fn'));
    db.beforeCommit(() => ran.push('given by the first fn'));
  });
  assert.ok(db.durable(), 'with nothing open, beforeCommit opens a group that commits this turn');
  db.beforeCommit(() => ran.push('second'));
  db.tx(() => insert.run('b1', 'written in the turn'));
  assert.deepEqual(ran, [], 'nothing runs before the turn ends');
  await db.durable();
  assert.deepEqual(ran, ['first', 'second', 'given by the first fn']);
  assert.deepEqual(names(), ['written in the turn', 'written by the first fn'], 'one COMMIT holds the turn\'s writes and the fns\' writes');
  assert.equal(db.durable(), null);

  db.tx(() => insert.run('b3', 'lost with its group'));
  const group = db.durable()!;
  db.beforeCommit(() => { throw new Error('disk says no'); });
  db.beforeCommit(() => db.tx(() => insert.run('b4', 'a group of its own')));
  await assert.rejects(group, /disk says no/);
  await db.durable();
  assert.deepEqual(names(), ['written in the turn', 'written by the first fn', 'a group of its own']);
  other.close();
  db.close();
});

test('beforeCommit without grouping runs at once', () => {
  const db = openDatabase(path.join(dir, 'before-commit-plain.db'));
  const ran: string[] = [];
  db.beforeCommit(() => ran.push('now'));
  assert.deepEqual(ran, ['now']);
  db.close();
});

test('afterCommit without grouping: after the COMMIT of the tx it was called in, never after a ROLLBACK', () => {
  const db = openDatabase(path.join(dir, 'after-commit-plain.db'));
  const insert = insertUser(db);
  const ran: string[] = [];
  db.tx(() => {
    insert.run('p1', 'kept');
    db.afterCommit(() => ran.push('p1'));
    assert.deepEqual(ran, [], 'not inside the transaction');
  });
  assert.deepEqual(ran, ['p1']);
  assert.throws(() => db.tx(() => { db.afterCommit(() => ran.push('p2')); throw new Error('refused'); }), /refused/);
  db.afterCommit(() => ran.push('p3'));
  assert.deepEqual(ran, ['p1', 'p3']);
  db.close();
});
