// First start: while no admin exists, the hub prints a one-time /setup?token=… address; this page
// creates the admin with the password the person chooses. No default password ever exists.
import type { IncomingMessage } from 'node:http';
import type { Accounts } from '../domain/accounts.ts';
import { AppError, notFound } from '../errors.ts';
import { sameSecret } from '../domain/util.ts';
import type { Call, Reply, Route } from '../http/core.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A page of its own (no scripts, no session): the site's stylesheet and favicon, one card. */
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Valence</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/style.css"></head>
<body><header class="top"><a class="brand" href="/"><img src="/favicon.svg" alt="" width="24" height="24">Valence</a></header>
<main id="main"><section class="card stack narrow"><h1>${escapeHtml(title)}</h1>${body}</section></main></body></html>`;
}

/** A text field's value attribute, for a form shown again after an error (never the password). */
function valueAttr(v: unknown): string {
  return typeof v === 'string' && v !== '' ? ` value="${escapeHtml(v)}"` : '';
}

function readForm(req: IncomingMessage, limit = 64 * 1024): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => {
      text += s;
      if (text.length > limit) reject(new AppError(413, 'body_too_large', 'The form is too large.'));
    });
    req.on('end', () => resolve(new URLSearchParams(text)));
    req.on('error', reject);
  });
}

export function setupRoutes(accounts: Accounts, setup: { token: string | null }): Route[] {
  const INVALID = 'This set-up link is not valid (an admin exists already, or the hub restarted and printed a new one).';
  const valid = (token: unknown): token is string => {
    // An admin made another way (the create-admin command, on the same database) ends the link too.
    if (setup.token && accounts.hasAdmin()) setup.token = null;
    return !!setup.token && typeof token === 'string' && token !== '' && sameSecret(token, setup.token);
  };
  // A browser that follows a used or mistyped link gets a page that says so, not a JSON body.
  const invalidPage = (): Reply => ({
    status: 404,
    html: page('Set-up link not valid', `<p class="error" role="alert">${escapeHtml(INVALID)}</p><p><a href="/login">Sign in</a> · <a href="/">Home</a></p>`),
  });
  const form = (token: string, error = '', values: { name?: unknown; email?: unknown } = {}) =>
    page(
      'Create the admin',
      `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/setup">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p><label for="name">Name</label><input id="name" name="name" required maxlength="100"${valueAttr(values.name)}></p>
<p><label for="email">Email</label><input id="email" name="email" type="email" required${valueAttr(values.email)}></p>
<p><label for="password">Password <span class="hint">(at least 8 characters)</span></label><input id="password" name="password" type="password" minlength="8" required></p>
<p><button type="submit" name="create">Create admin</button></p>
</form>`,
    );
  return [
    {
      method: 'GET', pattern: '/setup',
      handler: (c: Call): Reply => {
        const token = c.query.get('token');
        if (!valid(token)) return invalidPage();
        return { html: form(token) };
      },
    },
    {
      method: 'POST', pattern: '/setup',
      handler: async (c: Call): Promise<Reply> => {
        const isJson = /json/i.test(String(c.req.headers['content-type'] ?? ''));
        const input = isJson ? (await c.body()) as Record<string, unknown> : Object.fromEntries(await readForm(c.req));
        if (!valid(input?.token)) {
          if (isJson) throw notFound('not_found', INVALID);
          return invalidPage();
        }
        // The link is used up now, before the password is hashed: requests sent together with it
        // find it gone (404) instead of each making an admin. A refused form gives it back.
        const claimed = setup.token;
        setup.token = null;
        try {
          const { userId } = await accounts.createAdmin({ name: input.name, email: input.email, password: input.password });
          if (isJson) return { status: 201, body: { ok: true, userId } };
          return { status: 201, html: page('Admin created', '<p>The admin account exists. <a href="/login">Sign in</a>.</p>') };
        } catch (err) {
          if (!accounts.hasAdmin()) setup.token = claimed;
          if (isJson || !(err instanceof AppError) || err.status >= 500) throw err;
          // Field by field, in words for a person ("password must be at least 8 characters").
          const sentence = err.issues?.length ? `Check the form: ${err.issues.map((i) => `${i.path || 'the form'} ${i.message}`).join('; ')}.` : err.message;
          return { status: err.status, html: form(input.token, sentence, input) };
        }
      },
    },
  ];
}
