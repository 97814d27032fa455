// Inclusive time (self + callees) of the named functions in a V8 .cpuprofile, per sampled second.
//   node bench/profile-inclusive.mjs FILE.cpuprofile name1 name2 ...
import fs from 'node:fs';

const [file, ...names] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map(names.map((n) => [n, 0]));
let total = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  const seen = new Set();
  for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
    const fn = byId.get(id).callFrame.functionName;
    if (fn === '(idle)') idle += dt;
    if (incl.has(fn) && !seen.has(fn)) {
      seen.add(fn);
      incl.set(fn, incl.get(fn) + dt);
    }
  }
}
console.log(`sampled ${(total / 1e3).toFixed(0)} ms, idle ${((100 * idle) / total).toFixed(1)}%`);
for (const [n, t] of incl) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${n}`);
