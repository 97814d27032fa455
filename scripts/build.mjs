// Bundles server.ts into dist/server.mjs so that `npm start` loads one plain-JS file instead of
// compiling TypeScript at every start (tsx costs about 30 MB and 200 ms; see docs/performance.md).
// Runs at install time (postinstall) and before every `npm start` (prestart, only when a source file
// is newer than the bundle). Deno and the tests keep running the TypeScript directly.
//
//   node scripts/build.mjs            build
//   node scripts/build.mjs --if-stale build only when server.ts, lib/ or package.json changed
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'server.ts');
const outfile = path.join(root, 'dist', 'server.mjs');

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
    built = fs.statSync(outfile).mtimeMs;
  } catch {
    return true;
  }
  const sources = Math.max(newest(path.join(root, 'lib')), ...['server.ts', 'package.json', 'scripts/build.mjs'].map((f) => fs.statSync(path.join(root, f)).mtimeMs));
  return sources > built;
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

const esbuild = await import('esbuild');

// Inside the bundle import.meta.url is dist/server.mjs; each module still means its own source file
// (schema.sql, static assets and createRequire are found relative to it), so rewrite it per file.
const keepModuleUrl = {
  name: 'keep-module-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, 'utf8');
      if (!args.path.includes(`${path.sep}node_modules${path.sep}`) && text.includes('import.meta.')) {
        const rel = path.relative(path.dirname(outfile), args.path).split(path.sep).join('/');
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
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
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
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
  // CommonJS dependencies (ws) call require() for Node's built-ins; give the ES module a real one.
  banner: {
    js: [
      "import { createRequire as __valenceCreateRequire } from 'node:module';",
      "import { fileURLToPath as __valenceFileURLToPath } from 'node:url';",
      "import __valencePath from 'node:path';",
      'const require = __valenceCreateRequire(import.meta.url);',
    ].join(' '),
  },
});
if (!process.argv.includes('--quiet')) process.stderr.write(`built dist/server.mjs in ${Date.now() - started} ms\n`);
