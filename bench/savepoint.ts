// What a SAVEPOINT costs a grouped decision: 10 000 accepts in groups of 50, each accept either as
// the hub runs it (offers.decide, whose db.txChecked needs no savepoint) or wrapped in a db.tx of
// its own (one SAVEPOINT and RELEASE each, as every other write of the hub). In-process, no HTTP.
//   node --import tsx bench/savepoint.ts
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
const G = 50;

async function run(withSavepoint: boolean): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-savepoint-'));
  const file = path.join(dir, 'v.db');
  const seed = seedDatabase(file, { a: [G, N / G, 'x'] });
  const db = openDatabase(file, { group: true });
  const d = createDomain({ db, cfg: loadConfig({}, {}), notifier: nobody, log: createLogger('silent') });
  let k = 0;
  let inCalls = 0;
  for (let b = 0; b < N / G; b++) {
    const t = performance.now();
    for (let i = 0; i < G; i++) {
      const a = seed.groups.a[k++ % G];
      const decide = () => d.offers.decide({ userId: a.userId, role: 'AGENT', name: a.userId, via: 'key' }, a.offers.pop()!, { accept: true });
      if (withSavepoint) db.tx(decide);
      else decide();
    }
    inCalls += performance.now() - t;
    await db.durable(); // the group's COMMIT, on the next turn
  }
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (inCalls * 1000) / N;
}

for (let round = 0; round < 2; round++) {
  const without = await run(false);
  const withSp = await run(true);
  console.log(`µs per decision call: ${without.toFixed(1)} without a savepoint, ${withSp.toFixed(1)} with one`);
}
