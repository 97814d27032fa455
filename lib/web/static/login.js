// /login: sign in (then on to the portal of the person's role), and the buyer and worker sign-up forms.
'use strict';

(function () {
  const { api, $, showError, showNote, copyText, busy, formValue, showSignedIn, PORTAL } = globalThis.Valence;

  /** Where to go after signing in: ?next= when it is a page of this site meant for this role. */
  function destination(role) {
    const home = PORTAL[role] || '/';
    const next = new URLSearchParams(location.search).get('next') || '';
    if (!/^\/(?![/\\])/.test(next)) return home;
    // Resolved as the browser will resolve it (it drops tabs and line breaks, reads \ as /): only an
    // address on this site is followed, and only by its path, never the text as given.
    let url;
    try {
      url = new URL(next, location.origin);
    } catch {
      return home;
    }
    if (url.origin !== location.origin) return home;
    const isPortal = Object.values(PORTAL).includes(url.pathname);
    return isPortal && url.pathname !== home ? home : url.pathname + url.search + url.hash;
  }

  async function signIn(email, password) {
    const r = await api('POST', '/api/auth/login', { email, password }, { public: true });
    globalThis.Valence.setCsrf(r.csrfToken);
    return r.user;
  }

  function onSubmit(form, fn) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(form.querySelector('button[type=submit]'), fn);
    });
  }

  const login = $('login-form');
  onSubmit(login, async () => {
    showError($('login-error'), null);
    const email = formValue(login, 'email');
    const password = login.elements.namedItem('password').value;
    // An empty form is not sent: every refused sign-in counts toward the lockout of this address.
    if (!email || !password) return showError($('login-error'), new Error('Enter your email and your password.'));
    try {
      const user = await signIn(email, password);
      location.assign(destination(user.role));
    } catch (err) {
      showError($('login-error'), err);
    }
  });

  const buyer = $('buyer-signup');
  if (buyer) {
    let key = null;
    onSubmit(buyer, async () => {
      showError($('buyer-signup-error'), null);
      const email = formValue(buyer, 'email');
      const password = buyer.elements.namedItem('password').value;
      let r;
      try {
        r = await api('POST', '/api/buyers/register', { name: formValue(buyer, 'name'), email, password }, { public: true });
      } catch (err) {
        return showError($('buyer-signup-error'), err);
      }
      // The key is shown now, whatever the sign-in does: it cannot be shown again.
      key = r.apiKey;
      $('buyer-key').textContent = key;
      buyer.reset();
      buyer.hidden = true;
      $('buyer-continue').hidden = true; // until signed in
      $('buyer-key-panel').hidden = false;
      $('copy-buyer-key').focus();
      try {
        showSignedIn(await signIn(email, password));
        $('buyer-continue').hidden = false;
      } catch (err) {
        showError($('buyer-signin-error'), new Error(`Your account is made, but signing in failed: ${err.message} Copy the key now, then sign in with the form on this page.`));
      }
    });
    $('copy-buyer-key').addEventListener('click', () => key && copyText(key, $('buyer-copy-status')));
    globalThis.addEventListener('pagehide', () => {
      key = null;
      $('buyer-key').textContent = '';
      showNote($('buyer-copy-status'), '');
    });
  }

  const worker = $('worker-signup');
  if (worker) {
    onSubmit(worker, async () => {
      showError($('worker-signup-error'), null);
      const email = formValue(worker, 'email');
      const password = worker.elements.namedItem('password').value;
      const body = { name: formValue(worker, 'name'), email, password };
      const category = formValue(worker, 'category');
      if (category) body.category = category;
      try {
        await api('POST', '/api/workers/register', body, { public: true });
      } catch (err) {
        return showError($('worker-signup-error'), err);
      }
      try {
        await signIn(email, password);
        location.assign('/worker');
      } catch (err) {
        worker.reset();
        showError($('worker-signup-error'), new Error(`Your account is made, but signing in failed: ${err.message} Sign in with the form on this page.`));
      }
    });
  }
})();
