// Versioned migrations tracked with PRAGMA user_version. A new database gets schema.sql, which is the
// whole current schema, and is stamped with the latest version; an older one gets each later step in
// its own transaction. A database newer than this code is refused.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './index.ts';

const schemaFile = fileURLToPath(new URL('../../schema.sql', import.meta.url));

/** Steps from the version before to `version`. Version 1 is the first schema.sql. */
export const MIGRATIONS: { version: number; up: (db: Database) => void }[] = [
  {
    // Indexes a decision no longer rewrites: status left out of the per-worker indexes, and the
    // events-by-task index (nothing reads events by task yet) dropped.
    version: 2,
    up: (db) =>
      db.exec(`
        DROP INDEX offers_worker;
        CREATE INDEX offers_worker ON match_offers (worker_user_id);
        DROP INDEX assignments_worker;
        CREATE INDEX assignments_worker ON assignments (worker_user_id);
        DROP INDEX events_task;
      `),
  },
  {
    // A match's offers committed as one row before their frames are pushed (lib/domain/batches.ts).
    version: 3,
    up: (db) =>
      db.exec(`
        CREATE TABLE offer_batches (
          id           INTEGER PRIMARY KEY,
          task_id      TEXT NOT NULL REFERENCES tasks(id),
          offers       TEXT NOT NULL,
          message_head TEXT NOT NULL,
          message_tail TEXT NOT NULL,
          created_at   TEXT NOT NULL,
          expires_at   TEXT NOT NULL
        );
      `),
  },
  {
    // Frames kept for an agent that had no socket when they were made (lib/domain/outbox.ts).
    version: 4,
    up: (db) =>
      db.exec(`
        CREATE TABLE agent_outbox (
          id         INTEGER PRIMARY KEY,
          user_id    TEXT NOT NULL REFERENCES users(id),
          frame      TEXT NOT NULL,
          created_at TEXT NOT NULL
        );
        CREATE INDEX agent_outbox_user ON agent_outbox (user_id);
      `),
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function migrate(db: Database): void {
  const current = Number(db.pragma('user_version'));
  if (current > LATEST_VERSION) {
    throw new Error(
      `the database ${db.path} is at schema version ${current}, newer than this hub knows (${LATEST_VERSION}); ` +
        'run a newer Valence or restore a backup',
    );
  }
  if (current === 0) {
    db.tx(() => {
      db.exec(fs.readFileSync(schemaFile, 'utf8'));
      db.exec(`PRAGMA user_version = ${LATEST_VERSION}`);
    });
    return;
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.tx(() => {
      m.up(db);
      db.exec(`PRAGMA user_version = ${m.version}`);
    });
  }
}
