// Bundles the hub (lib/main.ts) so that `npm start` loads one plain-JS file instead of compiling
// TypeScript at every start (tsx costs about 30 MB and 200 ms; see docs/performance.md), and gives
// that file a V8 code cache so that it is not compiled again at every start either.
// Runs at install time (postinstall) and before every `npm start` (prestart, only when a source file
// is newer than the bundle). Deno and the tests keep running the TypeScript directly.
//
//   dist/hub.cjs          the bundle: CommonJS, wrapped in one function (exports, require, module, __filename, __dirname)
//   dist/server.cjs       what `npm start` runs: compiles dist/hub.cjs with the code cache and calls it
//                         (CommonJS: an ES module entry would start Node's ES module loader, 10-12 ms a start)
//   dist/hub.cjs.*.cache  the code cache, named after the bundle's SHA-1; made by a first start of the
//                         hub on a throwaway database right after the build (and by any start that finds none)
//
//   node scripts/build.mjs            build
//   node scripts/build.mjs --if-stale build only when server.ts, lib/ or package.json changed
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const bundle = path.join(dist, 'hub.cjs');
const loader = path.join(dist, 'server.cjs');
const quiet = process.argv.includes('--quiet');

function newest(dir, acc = { t: 0 }) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest(p, acc);
    else acc.t = Math.max(acc.t, fs.statSync(p).mtimeMs);
  }
  return acc.t;
}

function stale() {
  let built;
  try {
    built = Math.min(fs.statSync(bundle).mtimeMs, fs.statSync(loader).mtimeMs);
  } catch {
    return true;
  }
  const sources = Math.max(newest(path.join(root, 'lib')), ...['server.ts', 'package.json', 'scripts/build.mjs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs));
  return sources > built;
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

const esbuild = await import('esbuild');

// Each module's import.meta.url still means its own source file (schema.sql, static assets and
// createRequire are found relative to it): rewrite it per file, relative to the bundle's own URL.
const keepModuleUrl = {
  name: 'keep-module-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      if (!args.path.includes(`${path.sep}node_modules${path.sep}`) && text.includes('import.meta.')) {
        const rel = path.relative(dist, args.path).split(path.sep).join('/');
        const url = `new URL(${JSON.stringify(rel)}, __valenceBundleUrl).href`;
        text = text
          .replaceAll('import.meta.url', url)
          .replaceAll('import.meta.filename', `__valenceFileURLToPath(${url})`)
          .replaceAll('import.meta.dirname', `__valencePath.dirname(__valenceFileURLToPath(${url}))`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

// zod's namespace re-exports every translation of its messages (about 300 KB, 40% of the bundle);
// the hub writes its own messages and zod itself loads English directly, so keep only that one.
const englishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: "export { default as en } from './en.js';",
      loader: 'js',
      resolveDir: path.join(root, 'node_modules', 'zod', 'v4', 'locales'),
    }));
  },
};

const started = Date.now();
fs.mkdirSync(dist, { recursive: true });
await esbuild.build({
  stdin: { contents: "import { main } from './lib/main.ts';\nvoid main(process.argv.slice(2));\n", resolveDir: root, sourcefile: 'hub-entry.ts', loader: 'ts' },
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The native addon stays a normal dependency; ws's optional native helpers are not installed.
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
  // Whitespace and syntax only: function names stay readable in stack traces and CPU profiles
  // (renaming identifiers saved nothing measurable at start-up).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [keepModuleUrl, englishOnly],
  // The whole bundle is one function expression, which dist/server.cjs compiles with vm.Script.
  banner: {
    js: [
      '(function (exports, require, module, __filename, __dirname) {',
      "const __valenceBundleUrl = require('node:url').pathToFileURL(__filename).href;",
      "const __valenceFileURLToPath = require('node:url').fileURLToPath;",
      "const __valencePath = require('node:path');",
    ].join(' '),
  },
  footer: { js: '})' },
});

// The loader. A cache V8 rejects (another Node, other flags) is made again by the next start.
fs.writeFileSync(loader, `// Made by scripts/build.mjs: runs dist/hub.cjs, compiled from its V8 code cache when there is one.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const file = path.join(__dirname, 'hub.cjs');
const source = fs.readFileSync(file, 'utf8');
const cacheFile = \`\${file}.\${crypto.createHash('sha1').update(source).digest('hex').slice(0, 16)}.cache\`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {}
const script = new vm.Script(source, { filename: file, cachedData });
const cached = cachedData !== undefined && !script.cachedDataRejected;
cachedData = undefined;
const hub = { exports: {} };
script.runInThisContext()(hub.exports, require, hub, file, __dirname);
if (!cached) {
  // A second after start, the functions the start compiled are in the cache too.
  setTimeout(() => {
    try {
      const tmp = \`\${cacheFile}.\${process.pid}\`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: start without the cache
    }
  }, 1000).unref();
}
`);

// The loader of earlier builds (an ES module) and old caches go; a first start on a throwaway database makes the new one.
fs.rmSync(path.join(dist, 'server.mjs'), { force: true });
for (const f of fs.readdirSync(dist)) if (f.startsWith('hub.cjs.') && f.endsWith('.cache')) fs.rmSync(path.join(dist, f));
const made = await warmCache();
if (!quiet) process.stderr.write(`built dist/hub.cjs and dist/server.cjs in ${Date.now() - started} ms${made ? ', with a code cache' : ''}\n`);

/** Starts the built hub on a throwaway database until it has written its code cache (at most 20 s). */
async function warmCache() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valence-build-'));
  const child = spawn(process.execPath, [loader], {
    env: { ...process.env, VALENCE_DB: path.join(tmp, 'valence.db'), HOST: '127.0.0.1', PORT: '0', AGENT_WS_PORT: '0', LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 20_000;
  let made = false;
  while (!made && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50));
    made = fs.readdirSync(dist).some((f) => f.startsWith('hub.cjs.') && f.endsWith('.cache'));
  }
  child.kill('SIGTERM');
  await exited;
  fs.rmSync(tmp, { recursive: true, force: true });
  if (!made) process.stderr.write('build: no code cache was made; the hub starts without one\n');
  return made;
}
