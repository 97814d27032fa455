// Inclusive time (self + callees) in V8 .cpuprofile files (node --cpu-prof).
//   node bench/profile-inclusive.mjs FILE.cpuprofile name1 name2 ...   share of the named functions
//   node bench/profile-inclusive.mjs --top FILE...                      the 40 heaviest frames, in ms
//                                                                       per profile (e.g. of 3 starts)
import fs from 'node:fs';

function inclusive(file, keyOf) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const seen = new Set();
    for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (f.functionName === '(idle)') idle += dt;
      const key = keyOf(f);
      if (key === null || seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  return { incl, total, idle };
}

const args = process.argv.slice(2);
if (args[0] === '--top') {
  const files = args.slice(1);
  const sum = new Map();
  for (const file of files) {
    const { incl } = inclusive(file, (f) => (f.functionName === '(idle)' || f.functionName === '(root)' ? null : `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`));
    for (const [k, v] of incl) sum.set(k, (sum.get(k) ?? 0) + v);
  }
  for (const [k, v] of [...sum].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${(v / 1000 / files.length).toFixed(1).padStart(7)} ms  ${k}`);
} else {
  const [file, ...names] = args;
  const wanted = new Set(names);
  const { incl, total, idle } = inclusive(file, (f) => (wanted.has(f.functionName) ? f.functionName : null));
  console.log(`sampled ${(total / 1e3).toFixed(0)} ms, idle ${((100 * idle) / total).toFixed(1)}%`);
  for (const n of names) console.log(`${((100 * (incl.get(n) ?? 0)) / total).toFixed(1).padStart(5)}%  ${n}`);
}
