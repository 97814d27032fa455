// The web pages (SPEC §8) in a real browser: Debian's Chromium driven by playwright-core against a real
// hub on port 0. What a person sees is asserted as text; waits are for elements and events, never sleeps.
// Chromium is required: when it is missing the suite fails (it never skips).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PASSWORD, registerAgent, registerBuyer, startTestHub, type TestHub, uniq } from './helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.VALENCE_SCREENSHOTS ?? path.join(os.tmpdir(), 'valence-web-screenshots');

interface Watch {
  consoleErrors: string[];
  dialogs: string[];
  documents: { url: string; status: number; csp: string | undefined }[];
}

describe('web pages in Chromium', () => {
  let hub: TestHub;
  let browser: Browser;
  const watch: Watch = { consoleErrors: [], dialogs: [], documents: [] };
  const contexts: BrowserContext[] = [];
  const admin = { name: 'Ada Admin', email: 'ada@example.test', password: PASSWORD };

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: run "apt-get install -y chromium" (Debian) or set CHROMIUM_PATH. The web tests need a real browser and do not skip.`);
    }
    hub = await startTestHub({ registerLimit: 0 });
    const made = await hub.api('POST', '/setup', { body: { token: hub.setup.token, ...admin } });
    assert.equal(made.status, 201, made.text);
    fs.mkdirSync(SHOTS, { recursive: true });
    // launch() gives Chromium a fresh --user-data-dir in a temp folder and removes it on close. The
    // flags keep it off the (closed) network.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await hub?.stop();
  });

  /** A fresh browser profile (its own cookies) with a page that records errors, dialogs and documents. */
  async function newPage(): Promise<Page> {
    const ctx = await browser.newContext({ baseURL: hub.url, viewport: { width: 1280, height: 900 } });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (m) => {
      if (m.type() === 'error') watch.consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => watch.consoleErrors.push(`${page.url()}: ${e.message}`));
    page.on('dialog', (d) => {
      watch.dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('response', (r) => {
      if (r.request().resourceType() === 'document') watch.documents.push({ url: r.url(), status: r.status(), csp: r.headers()['content-security-policy'] });
    });
    return page;
  }

  /** Every input has a label and every button a name (SPEC §8). */
  async function assertLabelled(page: Page) {
    const problems = await page.evaluate(() => {
      const out: string[] = [];
      for (const el of document.querySelectorAll('input, textarea, select')) {
        const input = el as HTMLInputElement;
        if (input.type === 'hidden') continue;
        if (!input.labels?.length && !input.getAttribute('aria-label')) out.push(`unlabelled ${input.tagName} ${input.id || input.name}`);
      }
      for (const b of document.querySelectorAll('button')) {
        if (!b.textContent?.trim() && !b.getAttribute('aria-label')) out.push(`button without a name: ${b.outerHTML}`);
        if (!b.getAttribute('name')) out.push(`button without a name attribute: ${b.textContent}`);
      }
      return out;
    });
    assert.deepEqual(problems, [], `on ${page.url()}`);
  }

  async function signIn(page: Page, email: string, password: string, next?: string) {
    await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
    await page.getByLabel('Email').first().fill(email);
    await page.locator('#login-password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const text = (page: Page, selector: string) => page.locator(selector).innerText();

  test('the public pages render with the CSP, a favicon, labels and no console errors', async () => {
    const page = await newPage();
    for (const [route, heading] of [['/', 'Tasks in, deliverables out.'], ['/register', 'Register an agent'], ['/tutorial/openclaw', 'Connect an OpenClaw agent'], ['/login', 'Sign in']]) {
      const res = await page.goto(route);
      assert.equal(res?.status(), 200, route);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      await assertLabelled(page);
    }
    await page.goto('/');
    await page.getByRole('link', { name: 'Register an agent' }).first().click();
    await page.waitForURL('**/register');
    await page.goto('/tutorial/openclaw');
    assert.match(await text(page, '#bridge-env'), /VALENCE_API_KEY=hc_agent_/);
    assert.match(await text(page, '#hooks-config'), /extraDirs: \["\/opt\/valence\/skills"\]/);
    assert.match(await text(page, '#bridge-env'), new RegExp(`^VALENCE_WS_URL=${hub.url.replace(/[.]/g, '\\.')}$`, 'm'));
    // The block becomes the systemd unit's EnvironmentFile=, which keeps a trailing "# …" in the value.
    const settings = (await text(page, '#bridge-env')).split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    assert.deepEqual(settings.filter((l) => !/^[A-Z_]+=(?:[^#]*[^#\s])?$/.test(l)), [], 'every setting is NAME=value with no comment after it');
    assert.equal(settings.length, 8);
    await page.getByRole('button', { name: 'Copy settings' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^OPENCLAW_HOOKS_TOKEN=/m);
    for (const fact of ['skills/valence', 'npm run valence-bridge', 'deploy/valence-bridge.service', 'systemctl --user']) {
      assert.ok((await page.locator('main').innerText()).includes(fact), fact);
    }
    await page.screenshot({ path: path.join(SHOTS, 'tutorial.png'), fullPage: false });

    const ico = await page.request.get('/favicon.ico');
    assert.equal(ico.status(), 200);
    assert.match(ico.headers()['content-type'], /^image\//);
    const svg = await page.request.get('/favicon.svg');
    assert.equal(svg.status(), 200);
    assert.equal(await page.locator('link[rel=icon]').getAttribute('href'), '/favicon.svg');

    // Static files: right types, versioned addresses cached for good, bare ones revalidated.
    const cssHref = await page.locator('link[rel=stylesheet]').getAttribute('href');
    assert.match(cssHref!, /^\/static\/style\.css\?v=[0-9a-f]{16}$/);
    const css = await page.request.get(cssHref!);
    assert.equal(css.status(), 200);
    assert.match(css.headers()['content-type'], /^text\/css/);
    assert.match(css.headers()['cache-control'], /immutable/);
    const js = await page.request.get('/static/common.js');
    assert.match(js.headers()['content-type'], /^text\/javascript/);
    assert.equal(js.headers()['cache-control'], 'no-cache');
    const again = await hub.api('GET', '/static/common.js', { headers: { 'If-None-Match': js.headers().etag } });
    assert.equal(again.status, 304);
    assert.equal((await page.request.get('/static/nothing.js')).status(), 404);
  });

  test('agent registration shows the key once; the key works; a reload or revisit never shows it again', async () => {
    const page = await newPage();
    await page.goto('/register');
    const name = uniq('page-agent');
    await page.getByLabel('Agent name').fill(name);
    await page.getByLabel(/^Category/).fill('poetry');
    await page.getByRole('button', { name: 'Register agent' }).click();
    const keyEl = page.locator('#agent-key');
    await keyEl.waitFor();
    const key = (await keyEl.innerText()).trim();
    assert.match(key, /^hc_agent_[A-Za-z0-9_-]{43,}$/);
    assert.match(await text(page, '#key-panel'), /shown only once/);
    assert.equal(await text(page, '#key-agent-name'), name);
    await page.screenshot({ path: path.join(SHOTS, 'register-key.png') });

    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.locator('#copy-status', { hasText: 'Copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);

    const me = await hub.api('GET', '/api/agent/v1/me', { key });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.name, name);
    assert.equal(me.body.category, 'poetry');
    assert.equal(me.body.keyPrefix, key.slice(0, 12));

    await page.reload();
    await page.getByRole('button', { name: 'Register agent' }).waitFor();
    assert.equal(await page.locator('#key-panel').isVisible(), false);
    assert.ok(!(await page.content()).includes(key), 'the key is gone after a reload');

    await page.goto('/');
    await page.goBack();
    await page.getByRole('button', { name: 'Register agent' }).waitFor();
    assert.ok(!(await page.content()).includes(key), 'the key is gone after leaving and coming back');
    assert.ok(!page.url().includes(key));

    // The API's error sentence is shown as is.
    await page.getByLabel('Agent name').fill('x');
    await page.getByLabel(/^Email/).fill('not-an-email');
    await page.getByRole('button', { name: 'Register agent' }).click();
    await page.locator('#register-error', { hasText: 'email: must be a valid email address' }).waitFor();
  });

  test('an unknown page is an HTML 404 page in a browser; API clients and /api/ paths keep the JSON 404', async () => {
    const page = await newPage();
    const res = await page.goto('/no/such/page?x=1');
    assert.equal(res!.status(), 404);
    assert.match(res!.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    assert.match(await text(page, 'main'), /There is no page at \/no\/such\/page on this hub\./);
    await page.getByRole('link', { name: 'Home' }).click();
    await page.waitForURL(hub.url + '/');

    const plain = await hub.api('GET', '/no/such/page');
    assert.deepEqual([plain.status, plain.body.error.code, plain.body.error.message], [404, 'not_found', 'No route for GET /no/such/page.']);
    for (const p of ['/api/nothing/here', '/internal/nothing']) {
      const api = await hub.api('GET', p, { headers: { accept: 'text/html' } });
      assert.deepEqual([api.status, api.body.ok, api.body.error.code], [404, false, 'not_found'], p);
    }
    const post = await hub.api('POST', '/no/such/page', { headers: { accept: 'text/html' }, body: {} });
    assert.deepEqual([post.status, post.body.error.code], [404, 'not_found']);
    const wrongMethod = await hub.api('DELETE', '/login', { headers: { accept: 'text/html' } });
    assert.deepEqual([wrongMethod.status, wrongMethod.body.error.code, wrongMethod.headers.get('allow')], [405, 'method_not_allowed', 'GET']);
  });

  test('after signing in, ?next= leads only to a page of this site, however it is written', async () => {
    const page = await newPage();
    // Each of these is another site once the browser has resolved it (it drops tabs and line breaks).
    for (const next of ['/\t/example.invalid/phish', '/\n/example.invalid/phish', '/\r/example.invalid', '/\\example.invalid', '//example.invalid', 'https://example.invalid/', 'javascript:alert(1)']) {
      await signIn(page, admin.email, admin.password, next);
      await page.waitForURL(hub.url + '/admin', { timeout: 10_000 });
      assert.equal(new URL(page.url()).host, new URL(hub.url).host, JSON.stringify(next));
    }
    await signIn(page, admin.email, admin.password, '/tutorial/openclaw?from=login#bridge');
    await page.waitForURL(hub.url + '/tutorial/openclaw?from=login#bridge');
  });

  test('portals need a session: /buyer, /worker and /admin send a visitor to /login', async () => {
    const page = await newPage();
    for (const route of ['/buyer', '/worker', '/admin']) {
      const res = await fetch(hub.url + route, { redirect: 'manual' });
      await res.body?.cancel();
      assert.equal(res.status, 303, route);
      assert.equal(res.headers.get('location'), `/login?next=${encodeURIComponent(route)}`);
      await page.goto(route);
      await page.waitForURL(`**/login?next=${encodeURIComponent(route)}`);
    }
    await signIn(page, 'nobody@example.test', 'wrong password');
    await page.locator('#login-error', { hasText: 'Email or password is wrong.' }).waitFor();
  });

  test('a buyer signs up, publishes, matches, and follows offer, assignment and deliverable without reloading', async () => {
    const page = await newPage();
    const category = uniq('haiku');
    const agent = await registerAgent(hub, { name: uniq('haiku-bot'), category });

    // Sign up on /login: the buyer key is shown once, then on to the portal.
    await page.goto('/login');
    await page.locator('#buyer-name').fill('Bea Buyer');
    const email = `${uniq('bea')}@example.test`;
    await page.locator('#buyer-email').fill(email);
    await page.locator('#buyer-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create buyer account' }).click();
    await page.locator('#buyer-key-panel').waitFor();
    assert.match(await text(page, '#buyer-key-panel'), /shown only once/);
    const buyerKey = (await page.locator('#buyer-key').innerText()).trim();
    assert.match(buyerKey, /^hc_buyer_/);
    assert.equal((await hub.api('GET', '/api/buyer/tasks', { key: buyerKey })).status, 200);
    // Signed in on the same page: the top bar says so at once, as a page load would.
    await page.locator('#buyer-continue').waitFor();
    assert.equal(await page.locator('header.top nav').getByRole('link', { name: 'Sign in' }).count(), 0);
    assert.equal((await text(page, 'header.top .who')).trim(), 'Bea Buyer');
    assert.equal(await page.locator('header.top nav').getByRole('link', { name: 'Portal' }).getAttribute('href'), '/buyer');
    await page.locator('header.top').getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('link', { name: 'Continue to the buyer portal' }).click();
    await page.waitForURL('**/buyer');
    await page.getByRole('heading', { name: 'Buyer portal' }).waitFor();
    await page.locator('#tasks-empty').waitFor();
    await assertLabelled(page);

    // An API error is shown as its sentence.
    await page.getByLabel('Title', { exact: true }).fill('   ');
    await page.getByLabel('Description', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#task-form-error', { hasText: 'title: must not be empty' }).waitFor();
    // An offer lifetime of 0 is refused on the page, not replaced by the default.
    await page.getByLabel('Title', { exact: true }).fill('Zero lifetime');
    await page.getByLabel(/^Offer lifetime/).fill('0');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#task-form-error', { hasText: 'Give the offer lifetime in minutes' }).waitFor();
    assert.equal(await page.locator('#tasks-empty').isVisible(), true, 'no task was made');
    await page.getByLabel(/^Offer lifetime/).fill('15');

    // Create and publish.
    const title = 'A haiku about SQLite';
    await page.getByLabel('Title', { exact: true }).fill(title);
    await page.getByLabel('Description', { exact: true }).fill('Three lines, 5-7-5.\nAbout write-ahead logging.');
    await page.getByLabel(/^Category/).fill(category);
    await page.getByLabel(/^Deadline/).fill('2030-01-02T10:30');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#d-title', { hasText: title }).waitFor();
    assert.equal(await text(page, '#d-status'), 'Open');
    await page.locator('#task-list .task-item', { hasText: title }).waitFor();
    assert.match(await text(page, '#d-description'), /About write-ahead logging\./);

    // Set a marker: if the page reloads, it is gone.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const sameDocument = async () => assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'the page was not reloaded');

    await page.getByRole('button', { name: 'Match workers' }).click();
    await page.locator('#d-note', { hasText: 'Offered to 1 worker' }).waitFor();
    const offerRow = page.locator('#d-offers tbody tr', { hasText: agent.name });
    await offerRow.waitFor();
    assert.match(await offerRow.innerText(), /Pending/);

    // The agent accepts over HTTP; the portal shows it within 2 s without a reload.
    const offers = await hub.api('GET', '/api/agent/v1/offers?status=PENDING', { key: agent.apiKey });
    const offer = offers.body.offers.find((o: { task: { title: string } }) => o.task.title === title);
    const accepted = await hub.api('POST', `/api/agent/v1/offers/${offer.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
    assert.equal(accepted.status, 200, accepted.text);
    const assignmentId = accepted.body.assignmentId;
    await page.locator('#d-assignment', { hasText: `Taken by ${agent.name}` }).waitFor({ timeout: 2000 });
    await page.locator('#d-offers tbody tr', { hasText: 'Accepted' }).waitFor({ timeout: 2000 });
    await page.locator('#d-status', { hasText: 'Assigned' }).waitFor({ timeout: 2000 });
    await sameDocument();

    // The agent submits: the deliverable appears.
    const first = 'Pages in the journal\none writer at a time waits\nthe WAL remembers';
    assert.equal((await hub.api('POST', `/api/agent/v1/assignments/${assignmentId}/submit`, { key: agent.apiKey, body: { contentText: first } })).status, 200);
    await page.locator('#d-deliverable', { hasText: 'Revision 1' }).waitFor({ timeout: 2000 });
    assert.equal(await text(page, '#d-deliverable-text'), first);
    await page.locator('#review-form').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'buyer-deliverable.png'), fullPage: true });

    // Reject: feedback is required by the page, then sent.
    await page.getByRole('button', { name: 'Reject with feedback' }).click();
    await page.locator('#review-error', { hasText: 'Write what should change' }).waitFor();
    await page.getByLabel(/^Feedback/).fill('Mention checkpoints, please.');
    await page.getByRole('button', { name: 'Reject with feedback' }).click();
    await page.locator('#d-note', { hasText: 'Rejected.' }).waitFor();
    await page.locator('#d-assignment', { hasText: 'Rejected' }).waitFor();
    assert.equal(await page.locator('#review-form').isVisible(), false);
    const view = await hub.api('GET', `/api/agent/v1/assignments/${assignmentId}`, { key: agent.apiKey });
    assert.equal(view.body.assignment.feedback, 'Mention checkpoints, please.');

    // The agent resubmits: revision 2, with revision 1 and its feedback in the history.
    const second = 'Pages in the journal\ncheckpoints fold them back home\nthe WAL forgets';
    assert.equal((await hub.api('POST', `/api/agent/v1/assignments/${assignmentId}/submit`, { key: agent.apiKey, body: { contentText: second } })).status, 200);
    await page.locator('#d-deliverable', { hasText: 'Revision 2' }).waitFor({ timeout: 2000 });
    assert.equal(await text(page, '#d-deliverable-text'), second);
    const earlier = page.locator('#d-history details', { hasText: 'Revision 1' });
    assert.match(await earlier.innerText(), /rejected: “Mention checkpoints, please\.”/);
    await earlier.locator('summary').click();
    assert.match(await earlier.innerText(), /the WAL remembers/);

    // Accept: the task is completed.
    await page.getByRole('button', { name: 'Accept deliverable' }).click();
    await page.locator('#d-status', { hasText: 'Completed' }).waitFor();
    await page.locator('#d-note', { hasText: 'Accepted. The task is completed.' }).waitFor();
    await page.locator('#task-list .task-item', { hasText: 'Completed' }).waitFor();
    await sameDocument();
    const done = await hub.api('GET', `/api/buyer/tasks/${offer.taskId}`, { key: buyerKey });
    assert.equal(done.body.task.status, 'COMPLETED');
    assert.equal(done.body.assignment.status, 'ACCEPTED');
    assert.equal(done.body.deliverable.revision, 2);
    assert.doesNotMatch(await text(page, '#detail'), /\b(null|undefined)\b/);
    await page.screenshot({ path: path.join(SHOTS, 'buyer-completed.png'), fullPage: true });

    // A new API key: shown once, the old one dead at once.
    await page.getByRole('button', { name: 'Make a new API key' }).click();
    await page.getByRole('button', { name: 'Click again: the old key stops working' }).click();
    await page.locator('#rotated-panel').waitFor();
    const newKey = (await text(page, '#rotated-key')).trim();
    assert.match(newKey, /^hc_buyer_/);
    assert.notEqual(newKey, buyerKey);
    assert.equal((await hub.api('GET', '/api/buyer/tasks', { key: buyerKey })).status, 401);
    assert.equal((await hub.api('GET', '/api/buyer/tasks', { key: newKey })).status, 200);

    // A draft: publish, then cancel (which asks for a second click).
    await page.getByLabel('Title', { exact: true }).fill('A draft');
    await page.getByLabel('Description', { exact: true }).fill('Later.');
    await page.getByLabel(/^Publish now/).uncheck();
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#d-title', { hasText: 'A draft' }).waitFor();
    assert.equal(await text(page, '#d-status'), 'Draft');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('#d-status', { hasText: 'Open' }).waitFor();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('button', { name: 'Click again to cancel the task' }).click();
    await page.locator('#d-status', { hasText: 'Cancelled' }).waitFor();
  });

  /** A new buyer (with a password), signed in on /buyer in a fresh browser profile. */
  async function buyerOnPage(name: string) {
    const page = await newPage();
    const email = `${uniq('buyer')}@example.test`;
    const buyer = await registerBuyer(hub, { name, email, password: PASSWORD });
    await signIn(page, email, PASSWORD);
    await page.waitForURL('**/buyer');
    return { page, buyer };
  }

  test('user-supplied strings render as text, never as HTML', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const category = uniq('xss');
    await registerAgent(hub, { name: '<script>alert(2)</script>', category });
    const { page } = await buyerOnPage('<b>Bold</b> Buyer');
    await page.locator('nav .who', { hasText: '<b>Bold</b> Buyer' }).waitFor();
    await page.getByLabel('Title', { exact: true }).fill(evil);
    await page.getByLabel('Description', { exact: true }).fill('<script>alert(3)</script>\n<a href="javascript:alert(4)">x</a>');
    await page.getByLabel(/^Category/).fill(category);
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#d-title', { hasText: evil }).waitFor();
    await page.locator('#task-list', { hasText: evil }).waitFor();
    await page.getByRole('button', { name: 'Match workers' }).click();
    await page.locator('#d-offers tbody tr', { hasText: '<script>alert(2)</script>' }).waitFor();
    assert.equal(await text(page, '#d-title'), evil);
    assert.match(await text(page, '#d-description'), /<script>alert\(3\)<\/script>/);
    assert.equal(await page.locator('main img').count(), 0, 'no <img> was made from the title');
    assert.equal(await page.locator('main script, main b, #d-description a').count(), 0);
    await page.screenshot({ path: path.join(SHOTS, 'buyer-escaping.png') });
    assert.deepEqual(watch.dialogs, [], 'no dialog fired');
  });

  test('buyer page: a note goes once the task changes elsewhere; withdrawn offers say why in words; the lifetime is checked in minutes', async () => {
    const category = uniq('notes');
    const first = await registerAgent(hub, { category });
    await registerAgent(hub, { category }); // a second taker, whose offer is withdrawn
    const { page, buyer } = await buyerOnPage('Nora Notes');
    await page.getByLabel('Title', { exact: true }).fill('Week-long offer');
    await page.getByLabel('Description', { exact: true }).fill('d');
    await page.getByLabel(/^Offer lifetime/).fill('10081');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.locator('#task-form-error', { hasText: 'at most 7 days: 10080 minutes' }).waitFor();
    await page.getByLabel(/^Offer lifetime/).fill('15');
    await page.getByLabel(/^Category/).fill(category);
    await page.getByLabel('Title', { exact: true }).fill('Two takers');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('button', { name: 'Match workers' }).click();
    await page.locator('#d-note', { hasText: 'Offered to 2 workers' }).waitFor();
    // One agent takes it over HTTP: the other's offer says why it was withdrawn.
    const taskId = (await hub.api('GET', '/api/buyer/tasks', { key: buyer.apiKey })).body.tasks[0].id;
    const offers = (await hub.api('GET', `/api/buyer/tasks/${taskId}`, { key: buyer.apiKey })).body.offers;
    const won = await hub.api('POST', `/api/agent/v1/offers/${offers.find((o: { workerUserId: string }) => o.workerUserId === first.userId).id}/decision`, { key: first.apiKey, body: { accept: true } });
    assert.equal(won.status, 200, won.text);
    await page.locator('#d-offers tbody tr', { hasText: 'Withdrawn: another worker took the task.' }).waitFor();
    assert.equal(await page.locator('#d-offers tbody tr', { hasText: 'task_assigned' }).count(), 0);
    // "Offered to 2 workers" described an OPEN task; now ASSIGNED, the note is gone.
    await page.locator('#d-note').waitFor({ state: 'hidden' });
    // Cancelled on the page: its own note shows.
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('button', { name: 'Click again to cancel the task' }).click();
    await page.locator('#d-note', { hasText: 'Cancelled.' }).waitFor();
  });

  test('a buyer edits a draft on the page, clearing its deadline, then publishes it', async () => {
    const { page, buyer } = await buyerOnPage('Dora Drafts');
    const made = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title: 'First wording', description: 'Old text.', category: 'old', deadline: '2030-01-01T10:00:00.000Z' } });
    assert.equal(made.status, 201, made.text);
    await page.locator('#task-list a', { hasText: 'First wording' }).click();
    await page.getByRole('button', { name: 'Edit draft' }).click();
    const edit = page.locator('#edit-form');
    assert.equal(await page.getByLabel('Draft title').inputValue(), 'First wording');
    assert.equal(await page.getByLabel(/^Draft category/).inputValue(), 'old');
    assert.notEqual(await page.getByLabel(/^Draft deadline/).inputValue(), '');
    await page.getByLabel('Draft title').fill('Second wording');
    await page.getByLabel('Draft description').fill('New text,\non two lines.');
    await page.getByLabel(/^Draft category/).fill('');
    await page.getByLabel(/^Draft offer lifetime/).fill('30');
    await page.getByLabel(/^Draft deadline/).fill('');
    await edit.getByRole('button', { name: 'Save draft' }).click();
    await page.locator('#d-note', { hasText: 'Draft saved.' }).waitFor();
    await page.locator('#d-title', { hasText: 'Second wording' }).waitFor();
    assert.equal(await edit.isVisible(), false);
    const view = await hub.api('GET', `/api/buyer/tasks/${made.body.task.id}`, { key: buyer.apiKey });
    assert.equal(view.status, 200);
    const { title, description, category, deadline, offerTtlSeconds, status } = view.body.task;
    assert.deepEqual({ title, description, category, deadline, offerTtlSeconds, status }, { title: 'Second wording', description: 'New text,\non two lines.', category: null, deadline: null, offerTtlSeconds: 1800, status: 'DRAFT' });
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#d-status', { hasText: 'Open' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'd-note'); // Publish itself is gone
    assert.equal(await page.getByRole('button', { name: 'Edit draft' }).isVisible(), false, 'only a draft is edited');
  });

  test('long words do not widen the pages (worker at 1280 and 375 px, admin at 375 px); a copy button says when nothing was copied', async () => {
    const title = 'Z'.repeat(180);
    const { page } = await workerOffered('W'.repeat(100), uniq('wide'), title);
    await page.locator('#offer-list li', { hasText: title }).waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(await overflow(), 0, 'at 1280 px');
    await page.setViewportSize({ width: 375, height: 800 });
    assert.equal(await overflow(), 0, 'at 375 px');
    const admin = await newPage();
    await admin.setViewportSize({ width: 375, height: 800 });
    await signIn(admin, 'ada@example.test', PASSWORD, '/admin');
    await admin.waitForURL('**/admin');
    await admin.locator('#users tbody tr').first().waitFor();
    assert.equal(await admin.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0, '/admin at 375 px');
    // No clipboard (as on a plain-HTTP LAN address): the button does not claim to have copied.
    const tut = await newPage();
    await tut.addInitScript(() => Object.defineProperty(navigator, 'clipboard', { value: undefined }));
    await tut.goto('/tutorial/openclaw');
    const copy = tut.locator('button[data-copy]').first();
    await copy.click();
    await tut.locator('button[data-copy]', { hasText: 'Not copied: select the text' }).first().waitFor();
  });

  /** A human worker signed in on /worker, and a buyer's task in the worker's category, published and matched (over HTTP). */
  async function workerOffered(name: string, category: string, title: string) {
    const page = await newPage();
    const email = `${uniq('worker')}@example.test`;
    const reg = await hub.api('POST', '/api/workers/register', { body: { name, email, password: PASSWORD, category } });
    assert.equal(reg.status, 201, reg.text);
    await signIn(page, email, PASSWORD);
    await page.waitForURL('**/worker');
    const buyer = await registerBuyer(hub);
    const t = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title, description: 'A few lines.', category, publish: true } });
    const m = await hub.api('POST', `/api/buyer/tasks/${t.body.task.id}/match`, { key: buyer.apiKey, body: {} });
    assert.equal(m.status, 200, m.text);
    return { page, buyer, t, m, email };
  }

  test('a worker whose session ends in another tab keeps what they typed, signs in again in a new tab and sends it', async () => {
    const { page, buyer, t, email } = await workerOffered('Tess Typist', uniq('typed'), 'Long essay');
    await page.locator('#offer-list li', { hasText: 'Long essay' }).getByRole('button', { name: 'Accept offer' }).click();
    // The focus follows the outcome (the pressed button left with its card), then the next step.
    await page.waitForFunction(() => document.activeElement?.id === 'flash');
    const card = page.locator('#assignment-list li', { hasText: 'Long essay' });
    await card.getByRole('button', { name: 'Start work' }).click();
    await card.locator('.badge', { hasText: 'In progress' }).waitFor();
    assert.equal(await card.getByLabel('Deliverable').evaluate((el) => el === document.activeElement), true, 'after Start, the deliverable box has the focus');
    await card.getByLabel('Deliverable').fill('Half an essay,\nwritten with care.');
    // The same person signs out in another tab of the same browser.
    const other = await page.context().newPage();
    await other.goto('/worker');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL('**/login');
    // The first tab's next refresh finds the session gone: it stays, with the text and a notice.
    const notice = page.locator('#session-ended');
    await notice.waitFor();
    assert.match(await notice.innerText(), /Your session has ended .* What you typed is still on this page/);
    assert.equal(new URL(page.url()).pathname, '/worker');
    assert.equal(await card.getByLabel('Deliverable').inputValue(), 'Half an essay,\nwritten with care.');
    assert.equal(await notice.getByRole('link', { name: 'Sign in again in a new tab' }).getAttribute('target'), '_blank');
    // Signed in again elsewhere: the notice goes at the next refresh, and the text is sent.
    await signIn(other, email, PASSWORD);
    await other.waitForURL('**/worker');
    await notice.waitFor({ state: 'detached' });
    await card.getByRole('button', { name: 'Submit deliverable' }).click();
    await card.locator('.badge', { hasText: 'Submitted' }).waitFor();
    const view = await hub.api('GET', `/api/buyer/tasks/${t.body.task.id}`, { key: buyer.apiKey });
    assert.deepEqual([view.status, view.body.deliverable.contentText], [200, 'Half an essay,\nwritten with care.']);
    // With nothing typed, an ended session still leads straight to the sign-in page.
    await other.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login?next=%2Fworker');
  });

  test("a worker's accept that another worker beat: the offer's card goes, the reason stays on the page", async () => {
    const category = uniq('race');
    const agent = await registerAgent(hub, { category });
    const { page, m } = await workerOffered('Wanda Worker', category, 'Contested poem');
    assert.equal(m.body.offers.length, 2, m.text);
    const card = page.locator('#offer-list li', { hasText: 'Contested poem' });
    await card.waitFor();
    // The agent accepts first, over HTTP, while the worker's page still shows the offer.
    const theirs = m.body.offers.find((o: { workerUserId: string }) => o.workerUserId === agent.userId);
    const won = await hub.api('POST', `/api/agent/v1/offers/${theirs.offerId}/decision`, { key: agent.apiKey, body: { accept: true } });
    assert.equal(won.status, 200, won.text);
    await card.getByRole('button', { name: 'Accept offer' }).click();
    await card.waitFor({ state: 'detached' });
    await page.locator('#decision-error', { hasText: 'Could not accept “Contested poem”: Another worker accepted this task first.' }).waitFor();
    // It is still there after the next refreshes (every 1.5 s), until the worker decides again.
    await page.waitForResponse((r) => r.url().includes('/api/worker/assignments'));
    await page.waitForResponse((r) => r.url().includes('/api/worker/assignments'));
    assert.equal(await page.locator('#decision-error').isVisible(), true);
  });

  test('a worker whose assigned task the buyer cancels sees it cancelled, without Start or Submit', async () => {
    const { page, buyer, t } = await workerOffered('Cora Worker', uniq('cancel'), 'Soon cancelled');
    await page.locator('#offer-list li', { hasText: 'Soon cancelled' }).getByRole('button', { name: 'Accept offer' }).click();
    const card = page.locator('#assignment-list li', { hasText: 'Soon cancelled' });
    await card.getByRole('button', { name: 'Start work' }).waitFor();
    const cancel = await hub.api('POST', `/api/buyer/tasks/${t.body.task.id}/cancel`, { key: buyer.apiKey, body: {} });
    assert.equal(cancel.status, 200, cancel.text);
    await card.locator('.badge', { hasText: 'Cancelled' }).waitFor({ timeout: 2500 });
    await card.getByText('The buyer cancelled this task.').waitFor();
    assert.equal(await card.getByRole('button', { name: 'Start work' }).isVisible(), false);
    assert.equal(await card.getByLabel('Deliverable').isVisible(), false);
  });

  test('an empty sign-in form is not sent (refused sign-ins count toward the lockout)', async () => {
    const page = await newPage();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/auth/login')) sent.push(r.method());
    });
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: 'Enter your email and your password.' }).waitFor();
    await page.getByLabel('Email').first().fill('someone@example.test');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: 'Enter your email and your password.' }).waitFor();
    assert.deepEqual(sent, []);
  });

  test('a portal tab keeps working after the same person signs in again in another tab', async () => {
    const email = `${uniq('tabs')}@example.test`;
    await registerBuyer(hub, { name: 'Tabby Buyer', email, password: PASSWORD });
    const first = await newPage();
    await signIn(first, email, PASSWORD);
    await first.waitForURL('**/buyer');
    const create = async (title: string) => {
      await first.getByLabel('Title', { exact: true }).fill(title);
      await first.getByLabel('Description', { exact: true }).fill('Anything.');
      await first.getByRole('button', { name: 'Create task' }).click();
      await first.locator('#d-title', { hasText: title }).waitFor();
    };
    await create('Before the second sign-in'); // the tab now holds its session's CSRF token
    // Signing in again (same browser, so the same cookie jar) makes a new session with a new token.
    const second = await first.context().newPage();
    await signIn(second, email, PASSWORD);
    await second.waitForURL('**/buyer');
    await create('After the second sign-in');
    assert.equal(await first.locator('#task-form-error').isVisible(), false);
  });

  test('buyer sign-up when the sign-in after it fails: the key is still shown, once, with what to do', async () => {
    // A hub of its own: ten failed sign-ins from this address lock it out of signing in for 15 minutes.
    const local = await startTestHub({ registerLimit: 0 });
    const ctx = await browser.newContext({ baseURL: local.url });
    try {
      for (let i = 0; i < 10; i++) {
        const bad = await local.api('POST', '/api/auth/login', { body: { email: 'nobody@example.test', password: 'not the password' } });
        assert.equal(bad.status, 401, bad.text);
      }
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      await page.goto('/login');
      await page.locator('#buyer-name').fill('Locked Out Buyer');
      await page.locator('#buyer-email').fill(`${uniq('locked')}@example.test`);
      await page.locator('#buyer-password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create buyer account' }).click();
      await page.locator('#buyer-signin-error', { hasText: 'Your account is made, but signing in failed' }).waitFor();
      const key = await text(page, '#buyer-key');
      assert.match(key, /^hc_buyer_[A-Za-z0-9_-]{32,}$/);
      const works = await local.api('GET', '/api/buyer/tasks', { key });
      assert.equal(works.status, 200, "the key shown is the account's key");
      assert.equal(await page.locator('#buyer-continue').isVisible(), false);
    } finally {
      await ctx.close();
      await local.stop();
    }
  });

  test('a worker signs up, gets an offer without reloading, accepts, starts and submits', async () => {
    const page = await newPage();
    const category = uniq('translation');
    const email = `${uniq('wes')}@example.test`;
    await page.goto('/login');
    await page.locator('#worker-name').fill('Wes Worker');
    await page.locator('#worker-email').fill(email);
    await page.locator('#worker-password').fill(PASSWORD);
    await page.locator('#worker-category').fill(category);
    await page.getByRole('button', { name: 'Create worker account' }).click();
    await page.waitForURL('**/worker');
    await page.getByRole('heading', { name: 'Worker portal' }).waitFor();
    await page.locator('#offers-empty').waitFor();
    assert.equal(await page.getByLabel(/^Category/).inputValue(), category);
    assert.equal(await page.getByLabel('Receive new offers').isChecked(), true);
    await assertLabelled(page);

    // A buyer (over HTTP) publishes two tasks in the worker's category and matches them.
    const buyer = await registerBuyer(hub);
    const tasks: { id: string }[] = [];
    for (const title of ['Translate a poem', 'Translate a menu']) {
      const t = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title, description: `${title} into French.`, category, publish: true } });
      tasks.push(t.body.task);
      const m = await hub.api('POST', `/api/buyer/tasks/${t.body.task.id}/match`, { key: buyer.apiKey, body: {} });
      assert.equal(m.body.offers.length, 1, m.text);
    }
    const poem = page.locator('#offer-list li', { hasText: 'Translate a poem' });
    const menu = page.locator('#offer-list li', { hasText: 'Translate a menu' });
    await poem.waitFor({ timeout: 2500 });
    await menu.waitFor({ timeout: 2500 });
    assert.match(await poem.innerText(), /Translate a poem into French\./);
    await page.screenshot({ path: path.join(SHOTS, 'worker-offers.png'), fullPage: true });

    // Decline one with a reason, accept the other.
    await menu.getByLabel(/^Reason/).fill('I do not know food words.');
    await menu.getByRole('button', { name: 'Decline' }).click();
    await menu.waitFor({ state: 'detached' });
    await page.locator('#flash', { hasText: 'Declined “Translate a menu”.' }).waitFor();
    const declined = await hub.api('GET', `/api/buyer/tasks/${tasks[1].id}`, { key: buyer.apiKey });
    assert.equal(declined.body.offers[0].status, 'DECLINED');
    assert.equal(declined.body.offers[0].reason, 'I do not know food words.');

    await poem.getByRole('button', { name: 'Accept offer' }).click();
    await page.locator('#flash', { hasText: 'You got the task “Translate a poem”' }).waitFor();
    const card = page.locator('#assignment-list li', { hasText: 'Translate a poem' });
    await card.waitFor();
    await card.locator('.badge', { hasText: 'Assigned' }).waitFor();
    await page.locator('#offers-empty').waitFor();

    await card.getByRole('button', { name: 'Start work' }).click();
    await card.locator('.badge', { hasText: 'In progress' }).waitFor();

    await card.getByLabel('Deliverable').fill('Le poème, en français.');
    await card.getByRole('button', { name: 'Submit deliverable' }).click();
    await card.locator('.badge', { hasText: 'Submitted' }).waitFor();
    await card.getByText('Submitted; waiting for the buyer’s review.').waitFor();
    const seen = await hub.api('GET', `/api/buyer/tasks/${tasks[0].id}`, { key: buyer.apiKey });
    assert.equal(seen.body.assignment.status, 'SUBMITTED');
    assert.equal(seen.body.deliverable.contentText, 'Le poème, en français.');

    // The buyer rejects over HTTP: the worker sees the feedback and resubmits.
    const review = await hub.api('POST', `/api/buyer/assignments/${seen.body.assignment.id}/review`, { key: buyer.apiKey, body: { decision: 'reject', feedback: 'Keep the rhyme.' } });
    assert.equal(review.status, 200, review.text);
    await card.locator('.feedback', { hasText: 'The buyer asked for changes: Keep the rhyme.' }).waitFor({ timeout: 2500 });
    await card.getByLabel('New revision').fill('Le poème, avec la rime.');
    await card.getByRole('button', { name: 'Submit a new revision' }).click();
    await page.locator('#flash', { hasText: 'Submitted revision 2' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'worker-assignment.png'), fullPage: true });

    // A worker is not a buyer.
    const res = await page.goto('/buyer');
    assert.equal(res?.status(), 403);
    await page.getByRole('heading', { name: 'Not your page' }).waitFor();

    // Sign out: the portal is closed again.
    await page.goto('/worker');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await page.goto('/worker');
    await page.waitForURL('**/login?next=%2Fworker');

    // Signing in again leads back to the portal, with the assignment's state kept.
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/worker');
    await page.locator('#assignment-list li', { hasText: 'Translate a poem' }).locator('.badge', { hasText: 'Submitted' }).waitFor();

    // Opting out of offers: matching passes the worker over.
    await page.getByLabel('Receive new offers').uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#profile-status', { hasText: 'Saved.' }).waitFor();
    const later = await hub.api('POST', '/api/buyer/tasks', { key: buyer.apiKey, body: { title: 'Translate a letter', description: 'd', category, publish: true } });
    const none = await hub.api('POST', `/api/buyer/tasks/${later.body.task.id}/match`, { key: buyer.apiKey, body: {} });
    assert.deepEqual(none.body.offers, []);
  });

  test('the admin lists users, creates one, revokes an agent key and disables a user', async () => {
    const page = await newPage();
    const agent = await registerAgent(hub, { name: uniq('revokable') });
    const buyer = await registerBuyer(hub, { name: uniq('Disposable Buyer') });
    await signIn(page, admin.email, admin.password, '/admin');
    await page.waitForURL('**/admin');
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.locator('#users tbody tr', { hasText: 'Bea Buyer' }).waitFor();
    await page.locator('#users tbody tr', { hasText: 'Wes Worker' }).waitFor();
    await page.locator('#users tbody tr', { hasText: agent.name }).waitFor();
    assert.match(await page.locator('#users tbody tr', { hasText: admin.name }).innerText(), /\(you\)/);
    await assertLabelled(page);

    // Create an agent: its key is shown once.
    await page.getByLabel('Role').selectOption('AGENT');
    const made = uniq('admin-made');
    await page.getByLabel('Name').fill(made);
    await page.getByLabel(/^Category/).fill('ops');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('#created-key-block').waitFor();
    const key = (await page.locator('#created-key').innerText()).trim();
    assert.match(key, /^hc_agent_/);
    assert.equal((await hub.api('GET', '/api/agent/v1/me', { key })).body.name, made);
    await page.locator('#users tbody tr', { hasText: made }).waitFor();

    // A person without an email is refused with the API's sentence.
    await page.getByLabel('Role').selectOption('WORKER');
    await page.getByLabel('Name').fill('No Email');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('#create-error', { hasText: 'email is required for people.' }).waitFor();

    // A buyer without a password: the page says they use the key only, and the key works.
    await page.getByLabel('Role').selectOption('BUYER');
    const keyBuyer = uniq('Key Buyer');
    await page.getByLabel('Name').fill(keyBuyer);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('#created-text', { hasText: `Buyer ${keyBuyer} created. Without a password they cannot sign in to the portal; they use this API key:` }).waitFor();
    const buyerKey = (await page.locator('#created-key').innerText()).trim();
    assert.match(buyerKey, /^hc_buyer_/);
    const tasks = await hub.api('GET', '/api/buyer/tasks', { key: buyerKey });
    assert.deepEqual([tasks.status, tasks.body.tasks], [200, []]);
    // The list is drawn again after a creation; wait for it before arming a button in it.
    await page.locator('#users tbody tr', { hasText: keyBuyer }).waitFor();

    // Revoke the agent's key (two clicks).
    const agentRow = page.locator('#users tbody tr', { hasText: agent.name });
    await agentRow.getByRole('button', { name: 'Revoke key' }).click();
    await agentRow.getByRole('button', { name: 'Click again to revoke' }).click();
    await agentRow.getByText('key revoked').waitFor();
    assert.equal((await hub.api('GET', '/api/agent/v1/me', { key: agent.apiKey })).status, 401);

    // Disable a buyer.
    const buyerRow = page.locator('#users tbody tr', { hasText: 'Disposable Buyer' });
    await buyerRow.getByRole('button', { name: 'Disable' }).click();
    await buyerRow.getByRole('button', { name: 'Click again to disable' }).click();
    await buyerRow.getByText('disabled').waitFor();
    assert.equal((await hub.api('GET', '/api/buyer/tasks', { key: buyer.apiKey })).status, 401);
    await page.screenshot({ path: path.join(SHOTS, 'admin.png'), fullPage: true });
  });

  test('with registration closed the pages say so instead of offering forms', async () => {
    const closed = await startTestHub({ registration: 'closed' });
    try {
      for (const route of ['/register', '/login']) {
        const res = await closed.api('GET', route);
        assert.equal(res.status, 200);
        assert.match(res.text, /Registration is closed on this hub/);
        assert.doesNotMatch(res.text, /id="(register-form|buyer-signup|worker-signup)"/);
      }
      assert.match((await closed.api('GET', '/login')).text, /id="login-form"/);
    } finally {
      await closed.stop();
    }
  });

  test('every page came with a strict CSP, and nothing broke in the console', () => {
    assert.ok(watch.documents.length >= 10, `documents seen: ${watch.documents.length}`);
    for (const d of watch.documents) {
      if (d.status === 303) continue;
      assert.ok(d.csp, `no CSP on ${d.url}`);
      assert.match(d.csp!, /(^|;)\s*script-src 'self'(;|$)/, d.url);
      assert.ok(!d.csp!.includes("'unsafe-inline'"), d.url);
      assert.ok(!d.csp!.includes("'unsafe-eval'"), d.url);
    }
    const csp = watch.consoleErrors.filter((m) => /Content Security Policy|Refused to/i.test(m));
    assert.deepEqual(csp, [], 'no CSP violations');
    // 401/403/404 answers the tests provoke on purpose show up as failed loads; nothing else may.
    const other = watch.consoleErrors.filter((m) => !/Failed to load resource: the server responded with a status of (40[0-9])/.test(m));
    assert.deepEqual(other, []);
    assert.deepEqual(watch.dialogs, []);
  });
});
