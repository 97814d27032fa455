// The storage interface: a tiny subset of better-sqlite3's API that node:sqlite also offers.
// Under Node the driver is better-sqlite3; under Deno (which cannot load that addon) it is node:sqlite.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Synchronous } from '../config.ts';
import { migrate } from './migrations.ts';

// deno-lint-ignore no-explicit-any
export type Row = Record<string, any>;
export type Param = string | number | bigint | null | Uint8Array;

export interface Statement<R = Row> {
  run(...params: Param[]): { changes: number | bigint };
  get(...params: Param[]): R | undefined;
  all(...params: Param[]): R[];
}

export interface Database {
  readonly driver: 'better-sqlite3' | 'node:sqlite';
  readonly path: string;
  prepare<R = Row>(sql: string): Statement<R>;
  exec(sql: string): void;
  /** Runs fn inside one write transaction (BEGIN IMMEDIATE); nested calls join the outer one. Never await inside fn. */
  tx<T>(fn: () => T): T;
  pragma(name: string): unknown;
  close(): void;
}

export interface OpenOptions {
  synchronous?: Synchronous;
  /** Set false for read-only tools; the hub always migrates. */
  migrate?: boolean;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

interface RawDb {
  prepare(sql: string): Statement;
  exec(sql: string): void;
  close(): void;
}

function openRaw(file: string): { raw: RawDb; driver: Database['driver'] } {
  const require = createRequire(import.meta.url);
  if (isDeno) {
    const { DatabaseSync } = require('node:sqlite');
    return { raw: new DatabaseSync(file), driver: 'node:sqlite' };
  }
  const BetterSqlite3 = require('better-sqlite3');
  return { raw: new BetterSqlite3(file), driver: 'better-sqlite3' };
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const { raw, driver } = openRaw(file);

  // busy_timeout first so that every later statement waits instead of failing on a lock.
  raw.exec('PRAGMA busy_timeout = 5000');
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA foreign_keys = ON');
  // NORMAL in WAL mode: a crash of the process loses nothing; a power cut may lose the last commits.
  // FULL syncs the WAL on every commit: every acknowledged write survives a power cut.
  raw.exec(`PRAGMA synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);

  const begin = raw.prepare('BEGIN IMMEDIATE');
  const commit = raw.prepare('COMMIT');
  const rollback = raw.prepare('ROLLBACK');
  let depth = 0;

  const db: Database = {
    driver,
    path: file,
    prepare: <R = Row>(sql: string) => raw.prepare(sql) as unknown as Statement<R>,
    exec: (sql) => raw.exec(sql),
    tx<T>(fn: () => T): T {
      if (depth > 0) return fn();
      begin.run();
      depth++;
      try {
        const out = fn();
        commit.run();
        return out;
      } catch (err) {
        try {
          rollback.run();
        } catch {
          // the transaction was already rolled back by SQLite itself
        }
        throw err;
      } finally {
        depth--;
      }
    },
    pragma(name) {
      const row = raw.prepare(`PRAGMA ${name}`).get() as Row | undefined;
      return row ? Object.values(row)[0] : undefined;
    },
    close: () => raw.close(),
  };
  if (opts.migrate !== false) migrate(db);
  return db;
}

/** An online backup: a consistent copy of the live database, safe while the hub runs. */
export function backup(db: Database, dest: string): void {
  if (fs.existsSync(dest)) throw new Error(`${dest} exists already; choose a new file name`);
  fs.mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
  db.prepare('VACUUM INTO ?').run(dest);
}
