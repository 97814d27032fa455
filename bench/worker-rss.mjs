// What a checkpoint worker (a worker thread holding its own better-sqlite3 connection) adds to RSS.
//   node bench/worker-rss.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-worker-'));
const file = path.join(dir, 'v.db');
const Database = require('better-sqlite3');
const db = new Database(file);
db.pragma('journal_mode = WAL');
await new Promise((r) => setTimeout(r, 500));
const before = rssMb();
const worker = new Worker(
  "const { workerData } = require('node:worker_threads'); const Database = require(workerData.driver); const db = new Database(workerData.file); setInterval(() => {}, 50);",
  { eval: true, workerData: { file, driver: require.resolve('better-sqlite3') }, resourceLimits: { maxOldGenerationSizeMb: 16 } },
);
await new Promise((r) => setTimeout(r, 1500));
console.log(`RSS ${before.toFixed(1)} MB -> ${rssMb().toFixed(1)} MB with the worker`);
await worker.terminate();
db.close();
fs.rmSync(dir, { recursive: true, force: true });
