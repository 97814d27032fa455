// /worker: a human worker's offers and assignments, read again every 1.5 s. Each offer and assignment
// keeps its card (and whatever is typed into it) across refreshes; only its changing parts are updated.
'use strict';

(function () {
  const { api, h, $, showError, showNote, when, setBadge, every, busy } = globalThis.Valence;

  let flashTimer = 0;
  /** A short note at the top; the focus moves to it, since the button pressed may be gone with its card. */
  function flash(text) {
    clearTimeout(flashTimer);
    showNote($('flash'), text);
    $('flash').focus();
    flashTimer = setTimeout(() => showNote($('flash'), ''), 8000);
  }

  /** Keeps one element per item id in a list, in the order given; make() builds, update() refreshes. */
  function keyed(listEl, make, update) {
    const cards = new Map();
    return (items) => {
      const seen = new Set();
      for (const item of items) {
        seen.add(item.id);
        let card = cards.get(item.id);
        if (!card) {
          card = make(item);
          cards.set(item.id, card);
        }
        update(card, item);
      }
      for (const [id, card] of cards) {
        if (!seen.has(id)) {
          card.el.remove();
          cards.delete(id);
        }
      }
      // Re-append in order; moving a node keeps its inputs and focus.
      items.forEach((item, i) => {
        const el = cards.get(item.id).el;
        if (listEl.children[i] !== el) listEl.insertBefore(el, listEl.children[i] || null);
      });
    };
  }

  // --- offers ---------------------------------------------------------------------------------

  function offerMeta(o) {
    const t = o.task;
    return [t.category ? `Category ${t.category}` : 'Any category', t.deadline ? `deadline ${when(t.deadline)}` : 'no deadline', `offer expires ${when(o.expiresAt)}`].join(' · ');
  }

  const renderOffers = keyed($('offer-list'), (o) => {
    const reasonId = 'reason-' + o.id;
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const reason = h('input', { id: reasonId, name: 'reason', maxlength: 2000 });
    const decide = (accept) => async (ev) => {
      showError(error, null);
      showError($('decision-error'), null);
      await busy(ev.currentTarget, async () => {
        const body = { accept };
        if (!accept && reason.value.trim()) body.reason = reason.value.trim();
        try {
          await api('POST', `/api/worker/offers/${encodeURIComponent(o.id)}/decision`, body);
          flash(accept ? `You got the task “${o.task.title}”. It is in your assignments below.` : `Declined “${o.task.title}”.`);
        } catch (err) {
          showError(error, err);
          // The refresh below removes the card of an offer no longer pending; the reason stays on the page.
          showError($('decision-error'), new Error(`Could not ${accept ? 'accept' : 'decline'} “${o.task.title}”: ${err.message}`));
          $('decision-error').focus();
        }
      });
      poll.refresh();
    };
    const el = h('li', { class: 'card offer', 'data-offer': o.id },
      h('h3', null, o.task.title),
      h('p', { class: 'hint' }, offerMeta(o)),
      h('div', { class: 'description' }, o.task.description),
      h('p', null, h('label', { for: reasonId }, 'Reason ', h('span', { class: 'hint' }, '(optional, sent with a decline)')), reason),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', name: 'accept', onclick: decide(true) }, 'Accept offer'),
        h('button', { type: 'button', name: 'decline', class: 'secondary', onclick: decide(false) }, 'Decline')));
    return { el };
  }, () => {});

  // --- assignments ----------------------------------------------------------------------------

  const SUBMITTABLE = ['ASSIGNED', 'IN_PROGRESS', 'REJECTED'];

  const renderAssignments = keyed($('assignment-list'), (a) => {
    const textId = 'deliverable-' + a.id;
    const status = h('span', { class: 'badge' });
    const feedback = h('p', { class: 'feedback', hidden: true });
    const delivered = h('div', { class: 'delivered' });
    const done = h('p', { class: 'note', hidden: true });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const start = h('button', { type: 'button', name: 'start', class: 'secondary', hidden: true }, 'Start work');
    const text = h('textarea', { id: textId, name: 'contentText', rows: 6, required: true });
    const submit = h('button', { type: 'submit', name: 'submit' }, 'Submit deliverable');
    const label = h('label', { for: textId }, 'Deliverable');
    const form = h('form', { class: 'stack', novalidate: true }, h('p', null, label, text), h('div', { class: 'actions' }, submit));

    start.addEventListener('click', async () => {
      showError(error, null);
      await busy(start, async () => {
        try {
          await api('POST', `/api/worker/assignments/${encodeURIComponent(a.id)}/start`, {});
          flash(`Started “${a.task.title}”.`);
          text.focus(); // the next step: writing the deliverable
        } catch (err) {
          showError(error, err);
        }
      });
      poll.refresh();
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      showError(error, null);
      if (!text.value.trim()) {
        showError(error, new Error('Write the deliverable first.'));
        return text.focus();
      }
      await busy(submit, async () => {
        try {
          const r = await api('POST', `/api/worker/assignments/${encodeURIComponent(a.id)}/submit`, { contentText: text.value });
          text.value = '';
          flash(`Submitted revision ${r.revision} of “${a.task.title}”. The buyer will review it.`);
        } catch (err) {
          showError(error, err);
        }
      });
      poll.refresh();
    });

    const el = h('li', { class: 'card assignment', 'data-assignment': a.id },
      h('div', { class: 'detail-head' }, h('h3', null, a.task.title), status),
      h('p', { class: 'hint' }, [a.task.category ? `Category ${a.task.category}` : 'Any category', a.task.deadline ? `deadline ${when(a.task.deadline)}` : 'no deadline', `assigned ${when(a.createdAt)}`].join(' · ')),
      h('div', { class: 'description' }, a.task.description),
      feedback, delivered, done, error,
      h('div', { class: 'actions' }, start),
      form);
    return { el, status, feedback, delivered, done, start, form, submit, label };
  }, (c, a) => {
    // The buyer cancelled the task: nothing more to do on it (its assignment keeps its own status).
    const cancelled = a.taskStatus === 'CANCELLED';
    setBadge(c.status, cancelled ? 'CANCELLED' : a.status);
    c.feedback.hidden = !(a.status === 'REJECTED' && a.feedback);
    c.feedback.replaceChildren(h('strong', null, 'The buyer asked for changes: '), a.feedback || '');
    c.delivered.replaceChildren(
      ...(a.deliverable
        ? [h('details', { class: 'revision' },
          h('summary', null, `Your revision ${a.deliverable.revision}, submitted ${when(a.deliverable.submittedAt)}`),
          h('pre', { class: 'deliverable' }, a.deliverable.contentText))]
        : []),
    );
    c.done.hidden = !cancelled && !['SUBMITTED', 'ACCEPTED'].includes(a.status);
    c.done.textContent = cancelled
      ? 'The buyer cancelled this task. Stop working on it; nothing more will be accepted for it.'
      : a.status === 'ACCEPTED' ? 'The buyer accepted your deliverable. Well done.' : 'Submitted; waiting for the buyer’s review.';
    c.start.hidden = cancelled || a.status !== 'ASSIGNED';
    c.form.hidden = cancelled || !SUBMITTABLE.includes(a.status);
    c.submit.textContent = a.status === 'REJECTED' ? 'Submit a new revision' : 'Submit deliverable';
    c.label.textContent = a.status === 'REJECTED' ? 'New revision' : 'Deliverable';
  });

  async function refresh() {
    try {
      const [offers, assignments] = await Promise.all([api('GET', '/api/worker/offers?status=PENDING'), api('GET', '/api/worker/assignments?include=taskStatus')]);
      showError($('page-error'), null);
      $('offers-empty').hidden = offers.offers.length > 0;
      renderOffers(offers.offers);
      $('assignments-empty').hidden = assignments.assignments.length > 0;
      renderAssignments(assignments.assignments);
    } catch (err) {
      showError($('page-error'), err);
    }
  }

  // --- profile --------------------------------------------------------------------------------

  const profile = $('profile-form');
  api('GET', '/api/auth/me').then((r) => {
    globalThis.Valence.setCsrf(r.csrfToken);
    $('profile-category').value = r.user.category || '';
    $('profile-available').checked = r.user.available !== false;
  }, (err) => showError($('profile-error'), err));
  profile.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(profile.querySelector('button[type=submit]'), async () => {
      showError($('profile-error'), null);
      showNote($('profile-status'), '');
      try {
        const category = $('profile-category').value.trim();
        await api('PATCH', '/api/worker/me', { category: category || null, available: $('profile-available').checked });
        showNote($('profile-status'), 'Saved.');
      } catch (err) {
        showError($('profile-error'), err);
      }
    });
  });

  const poll = every(1500, refresh);
})();
