// The storage interface: a tiny subset of better-sqlite3's API that node:sqlite also offers.
// Under Node the driver is better-sqlite3; under Deno (which cannot load that addon) it is node:sqlite.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Synchronous } from '../config.ts';
import { migrate } from './migrations.ts';
import { isBusyError } from '../errors.ts';

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
  /**
   * prepare() for a statement whose rows come back as arrays, in the order of the SELECT list. For hot
   * reads only: building a row object costs more than the lookup itself (the decision's read of 16
   * columns: 18 µs as objects, 12 µs as arrays).
   */
  prepareArrays<R extends unknown[]>(sql: string): Statement<R>;
  exec(sql: string): void;
  /**
   * Runs fn inside one write transaction; nested calls join the outer one. Never await inside fn.
   * With grouped commits (the hub's setting) fn runs in a SAVEPOINT of a transaction that commits on
   * the next turn of the event loop, together with every other write of this turn: see durable().
   */
  tx<T>(fn: () => T): T;
  /**
   * tx for a function that checks everything before its first write, so that once it writes only a
   * failure of SQLite itself can stop it (the offer decision). In a group it runs without a SAVEPOINT
   * of its own: a SAVEPOINT and its RELEASE cost about a fifth of an accept. If it throws anyway, the
   * whole group is rolled back and every write of it fails (durable() rejects), so nothing is half done.
   */
  txChecked<T>(fn: () => T): T;
  /**
   * Runs fn inside the current group just before its COMMIT, after everything else of this turn; fns
   * given this way run in the order given (and any they give in turn, before the COMMIT too). For work
   * that gains from running back to back: the offer decisions of one turn. Without grouped commits fn
   * runs at once. fn must not throw (if it does, the group is rolled back like a failed txChecked).
   */
  beforeCommit(fn: () => void): void;
  /** A promise that settles when every write made so far is committed (with FULL: synced), or null when none waits. Answer a state-changing request only after it. */
  durable(): Promise<void> | null;
  /**
   * Runs fn once the writes made so far are committed: at once when none waits, after the group's
   * COMMIT when one is open. If that COMMIT fails, or the transaction fn was called in is rolled back,
   * fn never runs. For telling others of a change (a push to an agent) only when the change is kept.
   */
  afterCommit(fn: () => void): void;
  /**
   * Runs fn with SQLite's busy timeout at 0 when no transaction is open: a write that would wait for
   * another program's write lock fails at once with SQLITE_BUSY. For writes that can wait for a later
   * turn (bookkeeping, a match's offer rows), not to be tried again now. The hub's grouped database
   * has the timeout at 0 always (a request is tried again by whileBusy); inside a transaction the lock
   * is held already. In both cases fn runs as it is.
   */
  noWait<T>(fn: () => T): T;
  pragma(name: string): unknown;
  close(): void;
}

export interface OpenOptions {
  synchronous?: Synchronous;
  /** Set false for read-only tools; the hub always migrates. */
  migrate?: boolean;
  /**
   * Group commit: writes of one event-loop turn share one COMMIT (one WAL append, and with FULL one
   * fsync), and WAL checkpoints move to a worker thread once writes are frequent. Only for a program
   * that awaits durable() before it answers and calls close() before it exits (the hub).
   */
  group?: boolean;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

interface RawStatement extends Statement {
  /** better-sqlite3 */
  raw?(on: boolean): unknown;
  /** node:sqlite */
  setReturnArrays?(on: boolean): void;
}

interface RawDb {
  prepare(sql: string): RawStatement;
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

/**
 * Creates the file empty and private (with its folders); false when it exists already. A database the
 * hub creates is readable by its owner only (0600, in folders it creates 0700): it holds password
 * hashes, emails and deliverables. SQLite gives its -wal and -shm files the database file's mode. An
 * existing file keeps the mode its owner chose.
 */
function createPrivateFile(file: string): boolean {
  const abs = path.resolve(file);
  fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
  try {
    fs.closeSync(fs.openSync(abs, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
}

export function openDatabase(file: string, opts: OpenOptions = {}): Database {
  if (file !== ':memory:') createPrivateFile(file);
  const { raw, driver } = openRaw(file);

  // busy_timeout first so that every later statement waits instead of failing on a lock.
  raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA foreign_keys = ON');
  // NORMAL in WAL mode: a crash of the process loses nothing; a power cut may lose the last commits.
  // FULL syncs the WAL on every commit: every acknowledged write survives a power cut.
  raw.exec(`PRAGMA synchronous = ${opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  // After a burst of writes the WAL file is cut back to 64 MB once it has been checkpointed.
  raw.exec('PRAGMA journal_size_limit = 67108864');

  const begin = raw.prepare('BEGIN IMMEDIATE');
  const commit = raw.prepare('COMMIT');
  const rollback = raw.prepare('ROLLBACK');
  const savepoint = raw.prepare('SAVEPOINT tx');
  const release = raw.prepare('RELEASE tx');
  const rollbackTo = raw.prepare('ROLLBACK TO tx');
  let depth = 0;
  let grouped = false;
  let busyMs = BUSY_TIMEOUT_MS;
  // The open group: its transaction is BEGUN and commits in flush(); settle() tells the waiters.
  let group: { done: Promise<void>; settle: (err?: unknown) => void } | null = null;
  // What afterCommit() was given while a transaction (a group, or an ungrouped db.tx) is open.
  let after: (() => void)[] = [];
  // What beforeCommit() was given for the open group.
  let before: (() => void)[] = [];
  let commits = 0;
  let checkpointer: Checkpointer | null = null;
  // Watches the commit rate to decide when checkpoints move to the worker; stopped by close().
  let watch: ReturnType<typeof setInterval> | undefined;

  function rollbackQuietly() {
    try {
      rollback.run();
    } catch {
      // the transaction was already rolled back by SQLite itself
    }
  }

  /** The callbacks of a committed transaction, each on its own: one that throws does not stop the others. */
  function runAfter(fns: (() => void)[]) {
    for (const fn of fns) {
      try {
        fn();
      } catch {
        // a push to a socket that went away; the change itself is committed
      }
    }
  }

  function flush() {
    const g = group;
    if (!g) return;
    while (before.length) {
      const fns = before;
      before = [];
      for (const fn of fns) {
        try {
          fn();
        } catch (err) {
          rollbackQuietly();
          loseGroup(err);
        }
      }
    }
    // A failed beforeCommit fn or write lost the group; writes made after that are in a group of their own.
    if (group !== g) return;
    group = null;
    const fns = after;
    after = [];
    commits++;
    try {
      commit.run();
    } catch (err) {
      rollbackQuietly();
      g.settle(err);
      return;
    }
    g.settle();
    runAfter(fns);
  }

  // The group's transaction is gone (rolled back): its waiters get the error, the next write begins a new one.
  function loseGroup(err: unknown) {
    const g = group;
    group = null;
    after = [];
    g?.settle(err);
  }

  function openGroup() {
    begin.run();
    let settle!: (err?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    done.catch(() => {}); // the waiters see the error; nobody waiting is fine too
    group = { done, settle };
    setImmediate(flush);
  }

  function groupedTx<T>(fn: () => T, guarded = true): T {
    if (!group) openGroup();
    if (!guarded) {
      depth++;
      try {
        return fn();
      } catch (err) {
        // No savepoint to go back to: the group goes, with every write made in it this turn.
        rollbackQuietly();
        loseGroup(err);
        throw err;
      } finally {
        depth--;
      }
    }
    savepoint.run();
    depth++;
    const kept = after.length;
    try {
      const out = fn();
      release.run();
      return out;
    } catch (err) {
      // What this transaction asked to run after the commit goes with its writes.
      after.length = kept;
      try {
        rollbackTo.run();
        release.run();
      } catch {
        // SQLite rolled back the whole transaction (disk full, I/O error): the group is lost.
        loseGroup(err);
      }
      throw err;
    } finally {
      depth--;
    }
  }

  const db: Database = {
    driver,
    path: file,
    prepare: <R = Row>(sql: string) => raw.prepare(sql) as unknown as Statement<R>,
    prepareArrays<R extends unknown[]>(sql: string) {
      const st = raw.prepare(sql);
      if (st.raw) st.raw(true);
      else st.setReturnArrays!(true);
      return st as unknown as Statement<R>;
    },
    exec: (sql) => raw.exec(sql),
    tx<T>(fn: () => T): T {
      if (depth > 0) return fn();
      if (grouped) return groupedTx(fn);
      begin.run();
      depth++;
      let out: T;
      try {
        out = fn();
        commit.run();
      } catch (err) {
        after = [];
        rollbackQuietly();
        throw err;
      } finally {
        depth--;
      }
      const fns = after;
      after = [];
      runAfter(fns);
      return out;
    },
    txChecked<T>(fn: () => T): T {
      return depth === 0 && grouped ? groupedTx(fn, false) : db.tx(fn);
    },
    beforeCommit(fn) {
      if (!grouped) return fn();
      if (!group) openGroup();
      before.push(fn);
    },
    durable: () => group?.done ?? null,
    afterCommit(fn) {
      if (group || depth > 0) after.push(fn);
      else fn();
    },
    noWait(fn) {
      if (group || depth > 0 || busyMs === 0) return fn();
      raw.exec('PRAGMA busy_timeout = 0');
      try {
        return fn();
      } finally {
        raw.exec(`PRAGMA busy_timeout = ${busyMs}`);
      }
    },
    pragma(name) {
      const row = raw.prepare(`PRAGMA ${name}`).get() as Row | undefined;
      return row ? Object.values(row)[0] : undefined;
    },
    close() {
      flush();
      clearInterval(watch);
      const c = checkpointer;
      checkpointer = null;
      c?.stop();
      raw.close();
    },
  };
  if (opts.migrate !== false) migrate(db);
  if (opts.group) {
    grouped = true;
    // Opened and migrated waiting for another program's lock like any program; from here on the hub
    // never waits inside SQLite (that would stop its one thread, sockets and all): a write that finds
    // the lock taken fails at once with SQLITE_BUSY, and the request is tried again a moment later
    // (whileBusy), for up to BUSY_TIMEOUT_MS.
    busyMs = 0;
    raw.exec('PRAGMA busy_timeout = 0');
    // SQLite checkpoints the WAL inside the COMMIT that crosses 1000 pages, on the request thread.
    // Once the hub writes often, a worker thread with its own connection does it instead.
    if (driver === 'better-sqlite3' && file !== ':memory:') {
      let last = 0;
      watch = setInterval(() => {
        // Many commits a second, or commits so large that the WAL outgrew SQLite's 1000-page
        // checkpoint threshold (a match to 1000 workers writes about that many pages at once).
        if (commits - last > BUSY_COMMITS_PER_SECOND || walBytes(file) > 4.5 * 1024 * 1024) {
          clearInterval(watch);
          raw.exec('PRAGMA wal_autocheckpoint = 0');
          checkpointer = startCheckpointer(file, opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL', () => {
            // Without the worker, SQLite checkpoints in the COMMIT again.
            if (checkpointer) raw.exec('PRAGMA wal_autocheckpoint = 1000');
          });
        }
        last = commits;
      }, 1000);
      watch.unref();
    }
  }
  return db;
}

const BUSY_COMMITS_PER_SECOND = 100;
/** How long a write waits for another program's write lock before failing with SQLITE_BUSY (the hub: before 503 database_busy). */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Runs fn, and while it fails because another program holds the database's lock (SQLITE_BUSY), runs
 * it again after a pause (10 ms doubling to 100 ms), for up to `ms`; then its last error stands. The
 * event loop runs meanwhile. For a whole request of the hub: fn must leave nothing behind when it
 * fails (its transaction is rolled back), so running it again is safe.
 */
export async function whileBusy<T>(fn: () => T | Promise<T>, ms = BUSY_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (let pause = 10; ; pause = Math.min(pause * 2, 100)) {
    try {
      return await fn();
    } catch (err) {
      if (!isBusyError(err) || Date.now() + pause > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function walBytes(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

interface Checkpointer {
  stop(): void;
}

// The checkpoint worker: every 50 ms, when the WAL holds more than about 1000 pages, copy it back into
// the database file (PASSIVE: never waits for, nor blocks, the hub's writes).
const CHECKPOINT_WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
setInterval(() => {
  let size = 0;
  try { size = fs.statSync(workerData.file + '-wal').size; } catch { return; }
  if (size > 4 * 1024 * 1024) db.pragma('wal_checkpoint(PASSIVE)');
}, 50);
`;

function startCheckpointer(file: string, synchronous: string, onFailure: () => void): Checkpointer {
  const require = createRequire(import.meta.url);
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const worker = new Worker(CHECKPOINT_WORKER, {
    eval: true,
    workerData: { file: path.resolve(file), synchronous, driver: require.resolve('better-sqlite3') },
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  let stopped = false;
  worker.on('error', () => {});
  worker.on('exit', () => void (stopped || onFailure()));
  return {
    stop() {
      stopped = true;
      void worker.terminate();
    },
  };
}

/** An online backup: a consistent copy of the live database, safe while the hub runs. */
export function backup(db: Database, dest: string): void {
  // The copy holds what the database holds: created private and empty before SQLite writes it
  // (VACUUM INTO writes into an empty file).
  if (!createPrivateFile(dest)) throw new Error(`${dest} exists already; choose a new file name`);
  try {
    db.prepare('VACUUM INTO ?').run(dest);
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw err;
  }
}
