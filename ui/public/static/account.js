// Edge ID account page: rename/delete passkeys and save the profile. Uses the helpers that
// passkey.js (loaded first, also deferred) puts on window.edgeId; "Add passkey" lives there.
'use strict';

(() => {
  const { api, say, busy, explain } = window.edgeId || {};
  const list = document.getElementById('passkey-list');
  if (!api || !list) return;

  const nameOf = (li) => li.querySelector('.pk-name').textContent;

  function showRename(li, on) {
    li.querySelector('.pk-rename-form').hidden = !on;
    li.querySelector('.pk-main').hidden = on;
    li.querySelector('.pk-actions').hidden = on;
    if (on) {
      const input = li.querySelector('.pk-rename-form input');
      input.value = nameOf(li);
      input.focus();
      input.select();
    } else {
      li.querySelector('.pk-rename').focus();
    }
  }

  async function remove(li) {
    const last = li.dataset.last === '1';
    const question = last
      ? `"${nameOf(li)}" is your only passkey. If you delete it you will be locked out and need an admin to send you a login link. Delete it anyway?`
      : `Delete the passkey "${nameOf(li)}"? You won't be able to sign in with it any more.`;
    if (!window.confirm(question)) return;
    // confirm_last tells the server the lock-out warning was shown and accepted.
    const query = last ? '?confirm_last=1' : '';
    await api('DELETE', `/api/account/passkeys/${encodeURIComponent(li.dataset.id)}${query}`);
    li.remove();
    const rest = list.querySelectorAll('li[data-id]');
    if (rest.length === 1) rest[0].dataset.last = '1';
    say('Passkey deleted.');
    // The focused button is gone with its row: move focus somewhere useful.
    document.getElementById('add-passkey')?.focus();
  }

  // One listener for every row: buttons are found by class, rows by data-id.
  list.addEventListener('click', async (ev) => {
    const button = ev.target.closest('button');
    const li = ev.target.closest('li[data-id]');
    if (!button || !li) return;
    try {
      if (button.classList.contains('pk-rename')) showRename(li, true);
      else if (button.classList.contains('pk-cancel')) showRename(li, false);
      else if (button.classList.contains('pk-delete')) {
        busy(button, true);
        try { await remove(li); } finally { busy(button, false); }
      }
    } catch (e) {
      say(explain(e), 'error');
    }
  });

  list.addEventListener('submit', async (ev) => {
    const form = ev.target.closest('.pk-rename-form');
    if (!form) return;
    ev.preventDefault();
    const li = form.closest('li[data-id]');
    const name = form.elements.name.value.trim();
    if (!name) return form.elements.name.focus();
    try {
      await api('POST', `/api/account/passkeys/${encodeURIComponent(li.dataset.id)}/rename`, { name });
      li.querySelector('.pk-name').textContent = name;
      li.querySelectorAll('.pk-rename, .pk-delete').forEach((b) => {
        b.setAttribute('aria-label', `${b.textContent} ${name}`);
      });
      showRename(li, false);
      say('Passkey renamed.');
    } catch (e) {
      say(explain(e), 'error');
    }
  });

  // Apps the person authorized: "Remove access" ends the app's grants and tokens.
  const apps = document.getElementById('authorized-apps');
  if (apps) {
    apps.addEventListener('click', async (ev) => {
      const button = ev.target.closest('.app-revoke');
      const li = ev.target.closest('li[data-client]');
      if (!button || !li) return;
      const name = li.querySelector('.pk-name').textContent;
      if (!window.confirm(`Remove ${name}'s access? You'll be signed out of it and asked again next time.`)) return;
      busy(button, true);
      try {
        await api('DELETE', `/api/account/apps/${encodeURIComponent(li.dataset.client)}`);
        li.remove();
        say(`${name} no longer has access.`);
      } catch (e) {
        say(explain(e), 'error');
        busy(button, false);
      }
    });
  }

  // Recovery codes: made on request, shown once, with copy and download.
  const makeCodes = document.getElementById('recovery-create');
  if (makeCodes) {
    makeCodes.addEventListener('click', async () => {
      if (makeCodes.dataset.replace === '1'
        && !window.confirm('Make new recovery codes? Your current codes will stop working.')) return;
      busy(makeCodes, true);
      try {
        const { codes } = await api('POST', '/api/account/recovery-codes', {});
        const out = document.getElementById('recovery-list');
        out.replaceChildren(...codes.map((c) => Object.assign(document.createElement('li'), { textContent: c })));
        document.getElementById('recovery-new').hidden = false;
        document.getElementById('recovery-status').textContent = `${codes.length} of ${codes.length} unused, made today.`;
        makeCodes.dataset.replace = '1';
        makeCodes.textContent = 'Make new codes';
        const text = `Recovery codes for ${location.host}\n${codes.join('\n')}\n`;
        document.getElementById('recovery-copy').onclick = () => navigator.clipboard.writeText(text).then(() => say('Copied.'));
        document.getElementById('recovery-download').onclick = () => {
          const a = Object.assign(document.createElement('a'), {
            href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })),
            download: `${location.host}-recovery-codes.txt`,
          });
          a.click();
          URL.revokeObjectURL(a.href);
        };
        say('Recovery codes made. Save them now: they are shown only once.');
      } catch (e) {
        say(explain(e), 'error');
      } finally {
        busy(makeCodes, false);
      }
    });
    // Right after sign-up (the first passkey), a tenant with recovery codes gives the person
    // their set at once, while they are here to save it; later visits show only the count.
    if (new URLSearchParams(location.search).has('welcome') && makeCodes.dataset.replace === '0') {
      document.getElementById('recovery-codes').scrollIntoView();
      makeCodes.click();
    }
  }

  // Profile: only the editable fields carry a name attribute, so FormData holds just those.
  const profile = document.getElementById('profile-form');
  if (profile) {
    profile.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const [key, value] of new FormData(profile)) body[key] = String(value).trim();
      const button = profile.querySelector('button[type=submit]');
      busy(button, true);
      profile.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
      try {
        const data = await api('PUT', '/api/account/profile', body);
        if (data.display_name) document.getElementById('display-name').textContent = data.display_name;
        if (body.username) document.getElementById('profile-username').textContent = body.username;
        const email = document.getElementById('profile-email');
        if (email && body.email) email.textContent = body.email;
        say('Profile saved.');
      } catch (e) {
        say(explain(e), 'error');
        const field = e.field && profile.elements.namedItem(e.field);
        if (field) {
          field.setAttribute('aria-invalid', 'true');
          field.focus();
        }
      } finally {
        busy(button, false);
      }
    });
  }
})();
