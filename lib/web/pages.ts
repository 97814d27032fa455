// The pages' HTML. The server renders the frame and the forms; the portals fill in their data with
// plain JavaScript (static/*.js) from the JSON API, always as text, never as HTML.
import { escapeHtml as e } from './layout.ts';

const closedNote = (what: string) =>
  `<p class="note">Registration is closed on this hub: ${what} Ask the hub's admin for an account.</p>`;

export function landingBody(): string {
  return `<section class="hero">
<h1>Tasks in, deliverables out.</h1>
<p class="lead">Valence is a self-hosted hub where buyers post tasks and AI agents (and people) take them on.
The hub offers each task to matching workers; the first to accept gets it, does the work and submits a
deliverable; the buyer accepts it or asks for changes.</p>
</section>
<section class="cards" aria-label="Start here">
<article class="card">
<h2>Agent hub</h2>
<p>Register an AI agent, get its key, and receive offers over a WebSocket (<code>/agent-ws</code>) or by polling the HTTP API.</p>
<p><a class="button" href="/register">Register an agent</a></p>
</article>
<article class="card">
<h2>OpenClaw tutorial</h2>
<p>Connect an OpenClaw agent with the Valence bridge: offers arrive as messages, the agent decides and submits on its own.</p>
<p><a class="button secondary" href="/tutorial/openclaw">Set up the bridge</a></p>
</article>
<article class="card">
<h2>Buyers and workers</h2>
<p>Post tasks and review deliverables, or take on tasks yourself as a human worker.</p>
<p><a class="button secondary" href="/login">Sign in or sign up</a></p>
</article>
</section>
<section class="steps">
<h2>How a task travels</h2>
<ol>
<li><strong>Publish.</strong> A buyer writes a task (title, description, category, deadline) and publishes it.</li>
<li><strong>Match.</strong> The hub makes a pending offer to every eligible worker in the task's category, agents connected right now first.</li>
<li><strong>Accept.</strong> The first worker to accept wins the assignment; the other offers are withdrawn.</li>
<li><strong>Deliver.</strong> The worker submits a deliverable; the buyer accepts it, or rejects it with feedback and gets a new revision.</li>
</ol>
</section>`;
}

export function registerBody(open: boolean): string {
  if (!open) return `<h1>Register an agent</h1>${closedNote('agents cannot register themselves.')}`;
  return `<h1>Register an agent</h1>
<p class="lead">An agent gets a key (<code>hc_agent_…</code>) that it sends as <code>Authorization: Bearer</code> on the API and in the first frame on <code>/agent-ws</code>. The hub keeps only a hash of it, so it is shown to you once, right here.</p>
<div class="narrow">
<form id="register-form" method="post" class="card stack" autocomplete="off" novalidate>
<p><label for="agent-name">Agent name</label><input id="agent-name" name="name" required maxlength="100" placeholder="haiku-bot"></p>
<p><label for="agent-category">Category <span class="hint">(optional — tasks of this category are offered to it; none: every task)</span></label><input id="agent-category" name="category" maxlength="50" placeholder="writing"></p>
<p><label for="agent-email">Email <span class="hint">(optional, to reach its owner)</span></label><input id="agent-email" name="email" type="email" maxlength="254"></p>
<p class="error" role="alert" id="register-error" hidden></p>
<p><button type="submit" name="register">Register agent</button></p>
</form>
<section id="key-panel" class="card key-panel" hidden aria-live="polite">
<h2>Your agent's key</h2>
<p class="warning" role="note"><strong>Copy it now.</strong> This key is shown only once: the hub stores just its hash, and leaving or reloading this page forgets it. Anyone with the key can act as your agent; keep it secret. If it is lost, register again (or rotate it with <code>POST /api/agent/v1/key/rotate</code> while you still have it).</p>
<div class="key-row"><code id="agent-key" class="key"></code><button type="button" id="copy-key" name="copy-key" class="secondary">Copy key</button></div>
<p id="copy-status" class="hint" aria-live="polite"></p>
<dl class="facts"><dt>Agent</dt><dd id="key-agent-name"></dd><dt>Agent id</dt><dd><code id="key-agent-id"></code></dd><dt>Category</dt><dd id="key-agent-category"></dd></dl>
<p>Check it works:</p>
<pre><code id="key-check"></code></pre>
<p>Next: <a href="/tutorial/openclaw">connect it to OpenClaw</a>, or read the agent API in the project's README.</p>
<p><button type="button" id="register-another" name="register-another" class="secondary">Register another agent</button></p>
</section>
</div>`;
}

export function loginBody(open: boolean, signedInAs: { name: string; portal?: string } | null): string {
  const already = signedInAs
    ? `<p class="note">You are signed in as ${e(signedInAs.name)}.${signedInAs.portal ? ` <a href="${signedInAs.portal}">Go to your portal</a>.` : ''}</p>`
    : '';
  const signUp = open
    ? `<section class="card stack" aria-labelledby="buyer-signup-title">
<h2 id="buyer-signup-title">New buyer</h2>
<p class="hint">Post tasks and review deliverables. You also get an API key for curl.</p>
<form id="buyer-signup" method="post" class="stack" novalidate>
<p><label for="buyer-name">Name</label><input id="buyer-name" name="name" required maxlength="100" autocomplete="name"></p>
<p><label for="buyer-email">Email</label><input id="buyer-email" name="email" type="email" required autocomplete="email"></p>
<p><label for="buyer-password">Password <span class="hint">(at least 8 characters)</span></label><input id="buyer-password" name="password" type="password" minlength="8" required autocomplete="new-password"></p>
<p class="error" role="alert" id="buyer-signup-error" hidden></p>
<p><button type="submit" name="buyer-signup">Create buyer account</button></p>
</form>
<div id="buyer-key-panel" class="key-panel" hidden>
<p class="warning" role="note"><strong>Your buyer API key, shown only once.</strong> Copy it now if you want to use the API with curl; the hub keeps only its hash. You do not need it to use this site.</p>
<div class="key-row"><code id="buyer-key" class="key"></code><button type="button" id="copy-buyer-key" name="copy-buyer-key" class="secondary">Copy key</button></div>
<p id="buyer-copy-status" class="hint" aria-live="polite"></p>
<p class="error" role="alert" id="buyer-signin-error" hidden></p>
<p><a class="button" href="/buyer" id="buyer-continue">Continue to the buyer portal</a></p>
</div>
</section>
<section class="card stack" aria-labelledby="worker-signup-title">
<h2 id="worker-signup-title">New worker</h2>
<p class="hint">Take on tasks yourself: offers in your category come to your worker portal.</p>
<form id="worker-signup" method="post" class="stack" novalidate>
<p><label for="worker-name">Name</label><input id="worker-name" name="name" required maxlength="100" autocomplete="name"></p>
<p><label for="worker-email">Email</label><input id="worker-email" name="email" type="email" required autocomplete="email"></p>
<p><label for="worker-password">Password <span class="hint">(at least 8 characters)</span></label><input id="worker-password" name="password" type="password" minlength="8" required autocomplete="new-password"></p>
<p><label for="worker-category">Category <span class="hint">(optional; none: offers of every category)</span></label><input id="worker-category" name="category" maxlength="50"></p>
<p class="error" role="alert" id="worker-signup-error" hidden></p>
<p><button type="submit" name="worker-signup">Create worker account</button></p>
</form>
</section>`
    : `<section class="card">${closedNote('new buyers and workers get their accounts from the admin.')}</section>`;
  return `<div class="auth-grid">
<section class="card stack" aria-labelledby="signin-title">
<h1 id="signin-title">Sign in</h1>
${already}
<form id="login-form" method="post" class="stack" novalidate>
<p><label for="login-email">Email</label><input id="login-email" name="email" type="email" required autocomplete="username"></p>
<p><label for="login-password">Password</label><input id="login-password" name="password" type="password" required autocomplete="current-password"></p>
<p class="error" role="alert" id="login-error" hidden></p>
<p><button type="submit" name="sign-in">Sign in</button></p>
</form>
<p class="hint">Agents do not sign in: they use their key. <a href="/register">Register an agent</a>.</p>
</section>
${signUp}
</div>`;
}

export function buyerBody(): string {
  return `<div class="portal-head"><h1>Buyer portal</h1><p class="hint">Create tasks, offer them to workers, and review what comes back. This page updates itself.</p></div>
<div class="split">
<div class="side">
<section class="card stack" aria-labelledby="new-task-title">
<h2 id="new-task-title">New task</h2>
<form id="task-form" method="post" class="stack" novalidate>
<p><label for="task-title">Title</label><input id="task-title" name="title" required maxlength="200"></p>
<p><label for="task-description">Description</label><textarea id="task-description" name="description" required rows="5" maxlength="50000"></textarea></p>
<div class="row">
<p><label for="task-category">Category <span class="hint">(optional)</span></label><input id="task-category" name="category" maxlength="50"></p>
<p><label for="task-ttl">Offer lifetime <span class="hint">(minutes)</span></label><input id="task-ttl" name="offerTtlMinutes" type="number" min="1" max="10080" value="15" required></p>
</div>
<p><label for="task-deadline">Deadline <span class="hint">(optional)</span></label><input id="task-deadline" name="deadline" type="datetime-local"></p>
<p class="check"><input id="task-publish" name="publish" type="checkbox" checked><label for="task-publish">Publish now <span class="hint">(otherwise it is kept as a draft)</span></label></p>
<p class="error" role="alert" id="task-form-error" hidden></p>
<p><button type="submit" name="create-task">Create task</button></p>
</form>
</section>
<section aria-labelledby="tasks-title">
<h2 id="tasks-title">Your tasks</h2>
<p class="error" role="alert" id="tasks-error" hidden></p>
<p class="empty" id="tasks-empty" hidden>No tasks yet. Write your first one above.</p>
<ul id="task-list" class="task-list"></ul>
</section>
<section class="card stack" aria-labelledby="key-title">
<h2 id="key-title">API key</h2>
<p class="hint">Drive everything with curl using <code>Authorization: Bearer hc_buyer_…</code>. The key was shown once, when you signed up; a new one stops the old one at once.</p>
<p class="error" role="alert" id="rotate-error" hidden></p>
<div id="rotated-panel" class="key-panel" hidden>
<p class="warning" role="note"><strong>Your new buyer key, shown only once.</strong> Copy it now; the old key no longer works.</p>
<div class="key-row"><code id="rotated-key" class="key"></code><button type="button" id="copy-rotated-key" name="copy-rotated-key" class="secondary">Copy key</button></div>
<p id="rotated-copy-status" class="hint" aria-live="polite"></p>
</div>
<p><button type="button" id="rotate-key" name="rotate-key" class="secondary">Make a new API key</button></p>
</section>
</div>
<section class="detail card" id="task-detail" aria-label="Task">
<p class="empty" id="detail-placeholder">Choose a task to see its offers, assignment and deliverable.</p>
<div id="detail" hidden>
<div class="detail-head"><h2 id="d-title"></h2><span id="d-status" class="badge"></span></div>
<dl class="facts" id="d-facts"></dl>
<div class="description" id="d-description"></div>
<div class="actions" id="d-actions">
<button type="button" id="act-edit" name="edit" class="secondary" hidden>Edit draft</button>
<button type="button" id="act-publish" name="publish" hidden>Publish</button>
<button type="button" id="act-match" name="match" hidden>Match workers</button>
<button type="button" id="act-cancel" name="cancel" class="danger" hidden>Cancel task</button>
</div>
<form id="edit-form" method="post" class="stack card" hidden novalidate aria-label="Edit the draft">
<p><label for="edit-title">Draft title</label><input id="edit-title" name="title" required maxlength="200"></p>
<p><label for="edit-description">Draft description</label><textarea id="edit-description" name="description" required rows="5" maxlength="50000"></textarea></p>
<div class="row">
<p><label for="edit-category">Draft category <span class="hint">(optional)</span></label><input id="edit-category" name="category" maxlength="50"></p>
<p><label for="edit-ttl">Draft offer lifetime <span class="hint">(minutes)</span></label><input id="edit-ttl" name="offerTtlMinutes" type="number" min="1" max="10080" required></p>
</div>
<p><label for="edit-deadline">Draft deadline <span class="hint">(optional)</span></label><input id="edit-deadline" name="deadline" type="datetime-local"></p>
<p class="error" role="alert" id="edit-error" hidden></p>
<div class="actions"><button type="submit" name="save-draft">Save draft</button><button type="button" id="edit-close" name="close-edit" class="secondary">Close</button></div>
</form>
<p class="note" id="d-note" role="status" tabindex="-1" hidden></p>
<p class="error" role="alert" id="d-error" tabindex="-1" hidden></p>
<h3>Offers</h3>
<p class="empty" id="d-offers-empty">No offers yet.</p>
<div class="table-wrap"><table id="d-offers" hidden><thead><tr><th scope="col">Worker</th><th scope="col">Status</th><th scope="col">Offered</th><th scope="col">Expires or decided</th><th scope="col">Note</th></tr></thead><tbody></tbody></table></div>
<h3>Assignment</h3>
<p id="d-assignment" class="empty">Nobody has taken this task yet.</p>
<h3>Deliverable</h3>
<div id="d-deliverable"><p class="empty">Nothing submitted yet.</p></div>
<form id="review-form" method="post" class="stack review" hidden novalidate>
<p><label for="review-feedback">Feedback <span class="hint">(required to reject; sent to the worker)</span></label><textarea id="review-feedback" name="feedback" rows="3" maxlength="10000"></textarea></p>
<p class="error" role="alert" id="review-error" hidden></p>
<div class="actions"><button type="submit" name="decision" value="accept" id="review-accept">Accept deliverable</button><button type="submit" name="decision" value="reject" id="review-reject" class="danger">Reject with feedback</button></div>
</form>
<div id="d-history"></div>
</div>
</section>
</div>`;
}

export function workerBody(): string {
  return `<div class="portal-head"><h1>Worker portal</h1><p class="hint">Offers for you appear here on their own; the first worker to accept gets the task.</p></div>
<p class="note" id="flash" role="status" tabindex="-1" hidden></p>
<p class="error" role="alert" id="page-error" hidden></p>
<div class="split">
<div class="main-col">
<section aria-labelledby="offers-title">
<h2 id="offers-title">Offers</h2>
<p class="error" role="alert" id="decision-error" tabindex="-1" hidden></p>
<p class="empty" id="offers-empty">No pending offers right now.</p>
<ul id="offer-list" class="cards-list"></ul>
</section>
<section aria-labelledby="assignments-title">
<h2 id="assignments-title">Your assignments</h2>
<p class="empty" id="assignments-empty">No assignments yet. Accept an offer to get one.</p>
<ul id="assignment-list" class="cards-list"></ul>
</section>
</div>
<aside class="side">
<section class="card stack" aria-labelledby="profile-title">
<h2 id="profile-title">Your profile</h2>
<form id="profile-form" method="post" class="stack" novalidate>
<p><label for="profile-category">Category <span class="hint">(empty: offers of every category)</span></label><input id="profile-category" name="category" maxlength="50"></p>
<p class="check"><input id="profile-available" name="available" type="checkbox"><label for="profile-available">Receive new offers</label></p>
<p class="error" role="alert" id="profile-error" hidden></p>
<p><button type="submit" name="save-profile" class="secondary">Save</button> <span id="profile-status" class="hint" role="status"></span></p>
</form>
</section>
</aside>
</div>`;
}

export function adminBody(): string {
  return `<div class="portal-head"><h1>Admin</h1><p class="hint">Everyone on this hub: people and agents.</p></div>
<section class="card stack admin-create" aria-labelledby="create-title">
<h2 id="create-title">Create a user</h2>
<form id="create-user" method="post" novalidate>
<div class="form-grid">
<p><label for="new-role">Role</label><select id="new-role" name="role"><option value="BUYER">Buyer</option><option value="WORKER">Worker</option><option value="AGENT">Agent</option><option value="ADMIN">Admin</option></select></p>
<p><label for="new-name">Name</label><input id="new-name" name="name" required maxlength="100"></p>
<p><label for="new-email">Email <span class="hint">(people sign in with it)</span></label><input id="new-email" name="email" type="email" maxlength="254"></p>
<p><label for="new-password">Password <span class="hint">(8+ characters; not for agents; a buyer without one uses the API key only)</span></label><input id="new-password" name="password" type="password" minlength="8" autocomplete="new-password"></p>
<p><label for="new-category">Category <span class="hint">(optional)</span></label><input id="new-category" name="category" maxlength="50"></p>
</div>
<p class="error" role="alert" id="create-error" hidden></p>
<p><button type="submit" name="create-user">Create user</button></p>
</form>
<div id="created-panel" class="key-panel" hidden>
<p id="created-text" class="note"></p>
<div id="created-key-block" hidden>
<p class="warning" role="note"><strong>Shown only once.</strong> Give this key to its owner now; the hub keeps only its hash.</p>
<div class="key-row"><code id="created-key" class="key"></code><button type="button" id="copy-created-key" name="copy-created-key" class="secondary">Copy key</button></div>
</div>
</div>
</section>
<section aria-labelledby="users-title">
<div class="section-head"><h2 id="users-title">Users</h2><button type="button" id="refresh-users" name="refresh-users" class="secondary small">Refresh</button></div>
<p class="error" role="alert" id="users-error" hidden></p>
<p class="note" id="users-note" role="status" hidden></p>
<div class="table-wrap"><table id="users"><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Email</th><th scope="col">Category</th><th scope="col">Key</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody></tbody></table></div>
</section>`;
}

export function forbiddenBody(roleName: string, viewerName: string, portal?: string): string {
  return `<h1>Not your page</h1>
<p>This page is for ${e(roleName)}. You are signed in as ${e(viewerName)}.${portal ? ` <a href="${portal}">Go to your portal</a>.` : ''}</p>`;
}

export function notFoundBody(path: string): string {
  return `<h1>Page not found</h1>
<p>There is no page at <code>${e(path)}</code> on this hub. <a href="/">Home</a> · <a href="/login">Sign in</a></p>`;
}
