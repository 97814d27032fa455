// Versioned migrations tracked with PRAGMA user_version. Version 1 is schema.sql; later steps are
// appended here, each applied in its own transaction. A database newer than this code is refused.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './index.ts';

const schemaFile = fileURLToPath(new URL('../../schema.sql', import.meta.url));

export const MIGRATIONS: { version: number; up: (db: Database) => void }[] = [
  { version: 1, up: (db) => db.exec(fs.readFileSync(schemaFile, 'utf8')) },
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
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.tx(() => {
      m.up(db);
      db.exec(`PRAGMA user_version = ${m.version}`);
    });
  }
}
