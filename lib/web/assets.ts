// The pages' static files (lib/web/static/) and the favicon. Files are read once at start; pages link
// them as /static/<name>?v=<hash>, which may be cached for good, while a bare /static/<name> is
// revalidated with its ETag every time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { notFound } from '../errors.ts';
import type { Call, Reply, Route } from '../http/core.ts';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml; charset=utf-8',
};

interface Asset {
  text: string;
  type: string;
  hash: string;
}

const FOREVER = 'public, max-age=31536000, immutable';

function loadAssets(): Map<string, Asset> {
  const dir = new URL('./static/', import.meta.url);
  const out = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    if (!TYPES[ext]) continue;
    const text = fs.readFileSync(new URL(name, dir), 'utf8');
    out.set(name, { text, type: TYPES[ext], hash: crypto.createHash('sha256').update(text).digest('hex').slice(0, 16) });
  }
  return out;
}

export function createAssets() {
  const assets = loadAssets();

  /** The versioned address of a static file, for links in pages. */
  function url(name: string): string {
    const a = assets.get(name);
    if (!a) throw new Error(`no static file ${name}`);
    return `/static/${name}?v=${a.hash}`;
  }

  function serve(c: Call, a: Asset): Reply {
    const etag = `"${a.hash}"`;
    const headers = { 'Content-Type': a.type, ETag: etag, 'Cache-Control': c.query.get('v') === a.hash ? FOREVER : 'no-cache' };
    if (c.req.headers['if-none-match'] === etag) return { status: 304, html: '', headers };
    return { html: a.text, headers };
  }

  const routes: Route[] = [
    {
      method: 'GET', pattern: '/static/:name',
      handler: (c) => {
        const a = assets.get(c.params.name);
        if (!a) throw notFound('not_found', `No static file ${c.params.name}.`);
        return serve(c, a);
      },
    },
    { method: 'GET', pattern: '/favicon.svg', handler: (c) => serve(c, assets.get('favicon.svg')!) },
    // Browsers use the <link rel="icon"> (the SVG); tools that ask for /favicon.ico blindly get the same
    // picture. (A real ICO is binary, and a Reply carries text or JSON only.)
    { method: 'GET', pattern: '/favicon.ico', handler: (c) => serve(c, assets.get('favicon.svg')!) },
  ];
  return { url, routes };
}

export type Assets = ReturnType<typeof createAssets>;
