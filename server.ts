// The hub program (lib/main.ts): `node --import tsx server.ts`, `deno run -A server.ts`, or through
// the bundle that `npm start` runs (dist/server.cjs, made by scripts/build.mjs).
import process from 'node:process';
import { main } from './lib/main.ts';

await main(process.argv.slice(2));
