// How many WAL frames (4 KB pages) one accept writes, and what it costs, by commit group size.
// In-process, no HTTP: the decision transaction of lib/domain/offers.ts on a seeded database.
//   node --import tsx bench/wal-frames.ts [GROUP ...]        e.g. 1 10 50
//   BENCH_DROP=events_task,offers_pending_expiry ...         the same without some indexes (what-if)
//   BENCH_PRAGMAS='cache_size=-65536;mmap_size=1073741824'   the same with other settings (what-if)
//   BENCH_STATEMENTS=1 ...                                   also the time of each statement, per accept
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedDatabase } from './seed.ts';
import { openDatabase } from '../lib/storage/index.ts';
import { createDomain } from '../lib/domain/index.ts';
import { loadConfig } from '../lib/config.ts';
import { nobody } from '../lib/domain/context.ts';
import { createLogger } from '../lib/log.ts';

const N = 10_000;
for (const G of (process.argv.slice(2).length ? process.argv.slice(2) : ['1', '10', '50']).map(Number)) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-frames-'));
  const file = path.join(dir, 'v.db');
  const seed = seedDatabase(file, { a: [50, 2000, 'x'] });
  const db = openDatabase(file);
  db.exec('PRAGMA wal_autocheckpoint = 0');
  for (const ix of (process.env.BENCH_DROP ?? '').split(',').filter(Boolean)) db.exec(`DROP INDEX ${ix}`);
  for (const p of (process.env.BENCH_PRAGMAS ?? '').split(';').filter(Boolean)) db.exec(`PRAGMA ${p}`);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  const perStatement = new Map<string, number>();
  if (process.env.BENCH_STATEMENTS) timeStatements(db, perStatement);
  const d = createDomain({ db, cfg: loadConfig({}, {}), notifier: nobody, log: createLogger('silent') });
  let k = 0;
  const t0 = performance.now();
  let inStatements = 0;
  for (let b = 0; b < N / G; b++) {
    db.tx(() => {
      const s0 = performance.now();
      for (let i = 0; i < G; i++) {
        const a = seed.groups.a[k++ % 50];
        d.offers.decide({ userId: a.userId, role: 'AGENT', name: a.userId, via: 'key' }, a.offers.pop()!, { accept: true });
      }
      inStatements += performance.now() - s0;
    });
  }
  const ms = performance.now() - t0;
  const frames = fs.statSync(file + '-wal').size / (4096 + 24);
  for (const [sql, ms2] of [...perStatement].sort((a, b) => b[1] - a[1])) console.log(`  ${((ms2 * 1000) / N).toFixed(1).padStart(6)} µs  ${sql}`);
  console.log(`${G} accept(s) per commit: ${((ms * 1000) / N).toFixed(1)} µs per accept, ${(frames / N).toFixed(2)} WAL frames per accept (statements ${((inStatements * 1000) / N).toFixed(1)} µs, COMMIT ${(((ms - inStatements) * 1000) / N).toFixed(1)} µs)`);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Wraps db.prepare and db.prepareArrays so that every run/get/all of a statement adds its time to `into` (keyed by the SQL's start). */
function timeStatements(db: ReturnType<typeof openDatabase>, into: Map<string, number>) {
  for (const name of ['prepare', 'prepareArrays'] as const) {
    const prepare = db[name].bind(db) as (sql: string) => unknown;
    (db as unknown as Record<string, unknown>)[name] = (sql: string) => {
      const st = prepare(sql) as Record<'run' | 'get' | 'all', (...a: unknown[]) => unknown>;
      const key = sql.replace(/\s+/g, ' ').slice(0, 60);
      const timed = (m: 'run' | 'get' | 'all') => (...a: unknown[]) => {
        const t = performance.now();
        try {
          return st[m](...a);
        } finally {
          into.set(key, (into.get(key) ?? 0) + performance.now() - t);
        }
      };
      return { run: timed('run'), get: timed('get'), all: timed('all') };
    };
  }
}
