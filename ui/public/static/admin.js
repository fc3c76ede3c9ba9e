// Edge ID admin console: one small script over the tenant admin REST API (the same API that
// scripts use with an API key; here the admin's session and CSRF token authenticate).
// Every view is built with DOM calls, never innerHTML, so names and URLs typed by anyone are
// text, not markup. Views live behind #/hash routes so the back button and links work.
'use strict';

(() => {
  const root = document.getElementById('console');
  const view = document.getElementById('view');
  const { api, say, busy } = window.edgeId || {};
  if (!root || !view || !api) return;
  const SELF = root.dataset.self;

  // --- tiny DOM helpers ---
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const when = (secs) => (secs ? new Date(secs * 1000).toLocaleString() : '—');
  const field = (id, label, input, hint) =>
    h('div', { class: 'field' }, h('label', { for: id }, label), input, hint && h('p', { class: 'hint' }, hint));
  const text = (id, value = '', attrs = {}) => h('input', { id, name: id, value: value ?? '', autocomplete: 'off', ...attrs });
  const check = (id, label, checked) =>
    h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, name: id, checked: !!checked }), ' ', label);
  const table = (head, rows) =>
    h('div', { class: 'table-wrap' },
      h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)));
  const copyable = (label, value, id) =>
    h('div', { class: 'copy-row' },
      h('span', { class: 'copy-label' }, label),
      h('code', { class: 'copy-value', id, dataset: { label } }, value),
      h('button', { type: 'button', class: 'small', onclick: () => navigator.clipboard?.writeText(value).then(() => say(`${label} copied.`)) }, 'Copy'));

  // Runs an action with the button disabled; errors go to the status line and mark the field.
  async function act(button, fn) {
    busy(button, true);
    say('');
    view.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    try {
      await fn();
    } catch (err) {
      say(err.message || 'Something went wrong.', 'error');
      if (err.field) {
        const input = view.querySelector(`[name="${CSS.escape(err.field)}"]`);
        if (input) {
          input.setAttribute('aria-invalid', 'true');
          input.focus();
        }
      }
    } finally {
      busy(button, false);
    }
  }
  // A message said just before moving to another view survives that one move; any other status
  // is cleared when the view changes, so "Saved." never lingers on an unrelated page.
  let carry = false;
  function sayThenGo(message, hash) {
    carry = true;
    say(message);
    location.hash = hash;
  }
  const formValues = (form) => Object.fromEntries(new FormData(form).entries());
  const lines = (s) => s.split('\n').map((l) => l.trim()).filter(Boolean);
  const optional = (s) => (s && s.trim() ? s.trim() : undefined);
  // A whole number of seconds typed in a form field; empty means the default.
  const seconds = (s) => (s && s.trim() ? Number(s) : undefined);
  // The custom-claims textarea: a JSON object, or an error that points at the field.
  function parseClaims(raw) {
    try {
      return JSON.parse(raw || '{}');
    } catch {
      throw Object.assign(new Error('Custom claims must be a JSON object.'), { field: 'custom_claims' });
    }
  }
  const claimsField = (value, hint) =>
    field('custom_claims', 'Custom claims (JSON)', h('textarea', { id: 'custom_claims', name: 'custom_claims', rows: 3 }, JSON.stringify(value, null, 1)), hint);

  function show(title, ...content) {
    view.replaceChildren(h('h1', {}, title), ...content.flat().filter(Boolean));
    document.title = `${title} · Admin`;
    for (const a of document.querySelectorAll('.console-nav a')) {
      const current = location.hash.startsWith(`#/${a.dataset.view}`);
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    view.focus({ preventScroll: true });
  }

  // --- Users ---
  async function users(params) {
    const search = params.get('search') || '';
    const page = Number(params.get('page') || 1);
    const res = await api('GET', `/api/users?search=${encodeURIComponent(search)}&page=${page}&limit=25`);
    const searchForm = h('form', { class: 'inline-form', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      location.hash = `#/users?search=${encodeURIComponent(e.target.search.value)}`;
    } }, h('label', { for: 'search', class: 'visually-hidden' }, 'Search users'),
    text('search', search, { type: 'search', placeholder: 'Search name, username or email' }), h('button', {}, 'Search'));
    const rows = res.data.map((u) => h('tr', {},
      h('td', {}, h('a', { href: `#/users/${u.id}` }, u.username)),
      h('td', {}, [u.first_name, u.last_name].filter(Boolean).join(' ')),
      h('td', {}, u.email || ''),
      h('td', {}, u.is_admin && h('span', { class: 'badge' }, 'Admin'), ' ', u.disabled && h('span', { class: 'badge badge-off' }, 'Disabled'))));
    const create = h('form', { id: 'new-user', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const u = await api('POST', '/api/users', {
          username: v.username, email: v.email, first_name: v.first_name,
          last_name: optional(v.last_name), is_admin: !!v.is_admin,
        });
        sayThenGo(`Created ${u.username}. Send them a one-time login link to set up a passkey.`, `#/users/${u.id}`);
      });
    } },
    h('div', { class: 'row' }, field('username', 'Username', text('username')), field('email', 'Email', text('email', '', { type: 'email' }))),
    h('div', { class: 'row' }, field('first_name', 'First name', text('first_name')), field('last_name', 'Last name', text('last_name'))),
    check('is_admin', 'Administrator', false),
    h('button', { class: 'primary', type: 'submit' }, 'Create user'));
    const inviteOut = h('div', { id: 'invite-result' });
    const invite = h('button', { type: 'button', id: 'create-invite', onclick: (e) => act(e.target, async () => {
      const link = await api('POST', '/api/signup-tokens', {});
      inviteOut.replaceChildren(copyable('Invitation link (valid 7 days, one account)', link.url, 'invite-url'));
    }) }, 'Create invitation link');
    show('Users', searchForm,
      res.data.length ? table(['Username', 'Name', 'Email', ''], rows) : h('p', { class: 'muted' }, 'No users match.'),
      pager('#/users', params, res.pagination),
      h('div', { class: 'actions-row' }, invite), inviteOut,
      h('details', { class: 'panel' }, h('summary', {}, 'New user'), create),
      invitations());
  }

  // Invitations: links for up to 100 accounts, with an email to prefill and groups to join;
  // listed with their uses (never their links) and revocable.
  function invitations() {
    const list = h('div', { id: 'invitations' });
    const out = h('div', { id: 'invitation-result' });
    const groupsBox = h('fieldset', { class: 'checks' }, h('legend', {}, 'Groups to join'));
    const when = (t) => new Date(t * 1000).toLocaleString();
    async function refresh() {
      const res = await api('GET', '/api/signup-tokens');
      list.replaceChildren(res.data.length ? table(['Made', 'Email', 'Uses', 'Expires', 'Status', ''], res.data.map((i) => h('tr', { 'data-id': i.id },
        h('td', {}, when(i.created_at)), h('td', {}, i.email || ''), h('td', {}, `${i.uses} / ${i.max_uses}`),
        h('td', {}, when(i.expires_at)), h('td', {}, i.status.replace('_', ' ')),
        h('td', {}, i.status === 'active' && h('button', { type: 'button', class: 'small danger', onclick: (e) => act(e.target, async () => {
          await api('DELETE', `/api/signup-tokens/${encodeURIComponent(i.id)}`);
          say('Invitation revoked.');
          await refresh();
        }) }, 'Revoke'))))) : h('p', { class: 'muted' }, 'No invitations yet.'));
    }
    const form = h('form', { id: 'new-invitation', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const made = await api('POST', '/api/signup-tokens', {
          email: optional(v.invite_email), max_uses: Number(v.invite_uses), expires_in_minutes: Math.round(Number(v.invite_days) * 1440),
          group_ids: [...e.target.querySelectorAll('input[name^="invite_group_"]:checked')].map((c) => c.value),
        });
        out.replaceChildren(copyable(`Invitation link (${made.invitation.max_uses} account(s), until ${when(made.expires_at)})`, made.url, 'invitation-url'));
        await refresh();
      });
    } },
    h('div', { class: 'row' }, field('invite_email', 'Email (optional, prefilled)', text('invite_email', '', { type: 'email' })),
      field('invite_uses', 'Accounts (1-100)', text('invite_uses', 1, { type: 'number', min: 1, max: 100 })),
      field('invite_days', 'Valid for (days)', text('invite_days', 7, { type: 'number', min: 1, max: 30 }))),
    groupsBox,
    h('button', { class: 'primary', type: 'submit' }, 'Create invitation'));
    const panel = h('details', { class: 'panel', id: 'invitations-panel', ontoggle: async () => {
      if (!panel.open || panel.dataset.loaded) return;
      panel.dataset.loaded = '1';
      const groups = await api('GET', '/api/user-groups');
      groupsBox.append(...groups.data.map((g) => {
        const box = h('input', { type: 'checkbox', id: `invite_group_${g.id}`, name: `invite_group_${g.id}`, value: g.id });
        return h('label', { for: box.id }, box, ` ${g.friendly_name || g.name}`);
      }));
      await refresh();
    } }, h('summary', {}, 'Invitations'), form, out, list);
    return panel;
  }

  function pager(base, params, p) {
    if (!p || p.total_pages <= 1) return null;
    const link = (n, label) => {
      const q = new URLSearchParams(params);
      q.set('page', n);
      return h('a', { class: 'button small', href: `${base}?${q}` }, label);
    };
    return h('nav', { class: 'pager', 'aria-label': 'Pages' },
      p.page > 1 && link(p.page - 1, 'Previous'),
      h('span', { class: 'muted' }, `Page ${p.page} of ${p.total_pages} · ${p.total_items} in all`),
      p.page < p.total_pages && link(p.page + 1, 'Next'));
  }

  async function user(id) {
    const [u, groups, sessions] = await Promise.all([
      api('GET', `/api/users/${id}`), api('GET', '/api/user-groups'), api('GET', `/api/users/${id}/sessions`),
    ]);
    const mine = new Set(u.groups.map((g) => g.id));
    const profile = h('form', { id: 'user-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const claims = parseClaims(v.custom_claims);
        await api('PUT', `/api/users/${id}`, {
          username: v.username, email: v.email, first_name: v.first_name, last_name: v.last_name,
          display_name: v.display_name, is_admin: !!v.is_admin, disabled: !!v.disabled,
          email_verified: !!v.email_verified, custom_claims: claims,
        });
        say('Saved.');
      });
    } },
    h('div', { class: 'row' }, field('username', 'Username', text('username', u.username)), field('email', 'Email', text('email', u.email, { type: 'email' }))),
    h('div', { class: 'row' }, field('first_name', 'First name', text('first_name', u.first_name)), field('last_name', 'Last name', text('last_name', u.last_name))),
    field('display_name', 'Display name', text('display_name', u.display_name), 'Shown instead of first and last name when set.'),
    h('div', { class: 'checks' }, check('is_admin', 'Administrator', u.is_admin), check('disabled', 'Disabled (signs them out everywhere)', u.disabled), check('email_verified', 'Email verified', u.email_verified)),
    claimsField(u.custom_claims, 'Released with the profile scope, in userinfo and (for claims-in-id-token clients) the id_token.'),
    h('button', { class: 'primary', type: 'submit' }, 'Save user'));
    const groupForm = h('form', { id: 'user-groups-form', onsubmit: (e) => {
      e.preventDefault();
      const ids = [...e.target.querySelectorAll('input:checked')].map((i) => i.value);
      act(e.submitter, async () => {
        await api('PUT', `/api/users/${id}/user-groups`, { group_ids: ids });
        say('Groups saved.');
      });
    } }, groups.data.length
      ? h('div', { class: 'checks' }, groups.data.map((g) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: g.id, name: `group-${g.name}`, checked: mine.has(g.id) }), ' ', g.friendly_name, ' ', h('code', {}, g.name))))
      : h('p', { class: 'muted' }, 'No groups yet.'),
    groups.data.length ? h('button', { type: 'submit' }, 'Save groups') : null);
    const passkeys = u.passkeys.length
      ? h('ul', { class: 'passkeys' }, u.passkeys.map((p) => h('li', {},
        h('div', { class: 'pk-main' }, h('span', { class: 'pk-name' }, p.name), h('span', { class: 'pk-meta' }, `Added ${when(p.created_at)} · last used ${when(p.last_used_at)}`)),
        h('button', { type: 'button', class: 'small danger', onclick: (e) => {
          if (!confirm(`Remove the passkey "${p.name}" of ${u.username}?`)) return;
          act(e.target, async () => {
            await api('DELETE', `/api/users/${id}/passkeys/${encodeURIComponent(p.credential_id)}`);
            e.target.closest('li').remove();
            say('Passkey removed.');
          });
        } }, 'Remove'))))
      : h('p', { class: 'muted' }, 'No passkeys: send a one-time login link so they can add one.');
    const linkOut = h('div', {});
    const linkButton = h('button', { type: 'button', id: 'one-time-link', onclick: (e) => act(e.target, async () => {
      const link = await api('POST', `/api/users/${id}/one-time-access-token`, {});
      linkOut.replaceChildren(copyable('One-time login link (valid 1 hour)', link.url, 'login-link-url'));
    }) }, 'Create one-time login link');
    const del = u.id === SELF ? null : h('button', { type: 'button', class: 'danger', onclick: (e) => {
      if (!confirm(`Delete ${u.username} with their passkeys, sessions and tokens? This cannot be undone.`)) return;
      act(e.target, async () => {
        await api('DELETE', `/api/users/${id}`);
        sayThenGo(`Deleted ${u.username}.`, '#/users');
      });
    } }, 'Delete user');
    const sessionList = h('div', { id: 'sessions' }, sessions.data.length
      ? table(['Signed in', 'Last seen', 'IP', 'Browser'], sessions.data.map((x) => h('tr', {},
        h('td', {}, when(x.created_at)), h('td', {}, when(x.last_seen_at)), h('td', {}, x.ip || ''), h('td', { class: 'ua' }, x.user_agent || ''))))
      : h('p', { class: 'muted' }, 'Not signed in anywhere.'));
    const signOut = h('button', { type: 'button', id: 'sign-out-everywhere', onclick: (e) => {
      if (!confirm(`Sign ${u.username} out everywhere? Their sessions end and the tokens apps hold for them stop working.`)) return;
      act(e.target, async () => {
        await api('DELETE', `/api/users/${id}/sessions`);
        sessionList.replaceChildren(h('p', { class: 'muted' }, 'Not signed in anywhere.'));
        say(`${u.username} is signed out everywhere.`);
      });
    } }, 'Sign out everywhere');
    show(u.username, h('p', {}, h('a', { href: '#/users' }, '← All users')), profile,
      h('h2', {}, 'Groups'), groupForm,
      h('h2', {}, 'Passkeys'), passkeys,
      h('h2', {}, 'Sessions'), sessionList, signOut,
      h('h2', {}, 'Sign-in help'), linkButton, linkOut,
      del && h('div', { class: 'danger-zone' }, del));
  }

  // --- Groups ---
  async function groupList() {
    const res = await api('GET', '/api/user-groups');
    const rows = res.data.map((g) => h('tr', {},
      h('td', {}, h('a', { href: `#/groups/${g.id}` }, g.friendly_name)), h('td', {}, h('code', {}, g.name)), h('td', {}, String(g.member_count))));
    const create = h('form', { id: 'new-group', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const g = await api('POST', '/api/user-groups', { name: v.name, friendly_name: optional(v.friendly_name) });
        location.hash = `#/groups/${g.id}`;
      });
    } }, h('div', { class: 'row' }, field('name', 'Name (in the groups claim)', text('name')), field('friendly_name', 'Display name', text('friendly_name'))),
    h('button', { class: 'primary', type: 'submit' }, 'Create group'));
    show('Groups', res.data.length ? table(['Group', 'Claim value', 'Members'], rows) : h('p', { class: 'muted' }, 'No groups yet.'),
      h('details', { class: 'panel', open: !res.data.length }, h('summary', {}, 'New group'), create));
  }

  async function group(id) {
    const [g, everyone] = await Promise.all([api('GET', `/api/user-groups/${id}`), api('GET', '/api/users?limit=100')]);
    const members = new Set(g.members.map((m) => m.id));
    const settings = h('form', { id: 'group-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const claims = parseClaims(v.custom_claims);
        await api('PUT', `/api/user-groups/${id}`, { name: v.name, friendly_name: v.friendly_name, custom_claims: claims });
        say('Saved.');
      });
    } }, h('div', { class: 'row' }, field('name', 'Name (in the groups claim)', text('name', g.name)), field('friendly_name', 'Display name', text('friendly_name', g.friendly_name))),
    claimsField(g.custom_claims, 'Every member gets these; a user\'s own claims win.'),
    h('button', { class: 'primary', type: 'submit' }, 'Save group'));
    const memberForm = h('form', { id: 'members-form', onsubmit: (e) => {
      e.preventDefault();
      const ids = [...e.target.querySelectorAll('input:checked')].map((i) => i.value);
      act(e.submitter, async () => {
        await api('PUT', `/api/user-groups/${id}/users`, { user_ids: ids });
        say('Members saved.');
      });
    } }, h('div', { class: 'checks' }, everyone.data.map((u) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: u.id, name: `member-${u.username}`, checked: members.has(u.id) }), ' ', u.username))),
    h('button', { type: 'submit' }, 'Save members'));
    const clients = g.allowed_clients.length
      ? h('ul', {}, g.allowed_clients.map((c) => h('li', {}, h('a', { href: `#/clients/${c.id}` }, c.name))))
      : h('p', { class: 'muted' }, 'No client is restricted to this group. Restrict a client on its page.');
    const del = h('button', { type: 'button', class: 'danger', onclick: (e) => {
      if (!confirm(`Delete the group ${g.name}?`)) return;
      act(e.target, async () => {
        await api('DELETE', `/api/user-groups/${id}`);
        location.hash = '#/groups';
      });
    } }, 'Delete group');
    show(g.friendly_name, h('p', {}, h('a', { href: '#/groups' }, '← All groups')), settings,
      h('h2', {}, 'Members'), memberForm, h('h2', {}, 'Clients that allow this group'), clients,
      h('div', { class: 'danger-zone' }, del));
  }

  // --- OIDC clients ---
  async function clientList() {
    const res = await api('GET', '/api/oidc/clients');
    const rows = res.data.map((c) => h('tr', {},
      h('td', {}, h('a', { href: `#/clients/${c.id}` }, c.name)), h('td', {}, h('code', {}, c.id)),
      h('td', {}, c.allowed_user_groups.length ? c.allowed_user_groups.join(', ') : 'everyone')));
    show('OIDC clients', h('p', {}, h('a', { class: 'button', id: 'new-client', href: '#/clients/new' }, 'Add a client')),
      res.data.length ? table(['Client', 'Client ID', 'Who may sign in'], rows) : h('p', { class: 'muted' }, 'No clients yet.'));
  }

  async function presetPicker() {
    const res = await api('GET', '/api/oidc/client-presets');
    const cards = res.data.map((p) => h('li', {}, h('a', { class: 'preset', href: `#/clients/new/${p.id}`, dataset: { preset: p.id } },
      h('span', { class: 'app-name' }, p.name), h('span', { class: 'pk-meta' }, p.summary))));
    show('Add a client', h('p', {}, h('a', { href: '#/clients' }, '← All clients')),
      h('p', {}, 'Pick the app to connect; the callback URL, settings and the values to paste are filled in for you.'),
      h('ul', { class: 'presets' }, cards, h('li', {}, h('a', { class: 'preset', href: '#/clients/new/custom', dataset: { preset: 'custom' } },
        h('span', { class: 'app-name' }, 'Custom client'), h('span', { class: 'pk-meta' }, 'Any OpenID Connect app: enter its callback URLs.')))));
  }

  const groupChecks = (groups, selected) => groups.length
    ? h('fieldset', { class: 'checks' }, h('legend', {}, 'Who may sign in (none checked: every user)'),
      groups.map((g) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'allowed_group', value: g.name, checked: selected.includes(g.name) }), ' ', g.friendly_name)))
    : h('p', { class: 'hint' }, 'Every user may sign in. Create groups to restrict a client.');
  const checkedGroups = (form) => [...form.querySelectorAll('input[name=allowed_group]:checked')].map((i) => i.value);

  async function presetForm(presetId) {
    if (presetId === 'custom') return clientEditor(null);
    const [res, groups] = await Promise.all([api('GET', '/api/oidc/client-presets'), api('GET', '/api/user-groups')]);
    const p = res.data.find((x) => x.id === presetId);
    if (!p) throw new Error('No such preset.');
    const isTeam = p.input.kind === 'access_team';
    const inputLabel = isTeam ? 'Zero Trust team name' : p.input.label;
    const form = h('form', { id: 'preset-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const made = await api('POST', `/api/oidc/client-presets/${p.id}`, {
          input: v.input, name: optional(v.name), allowed_user_groups: checkedGroups(e.target),
        });
        setupResult(made);
      });
    } },
    h('p', {}, p.summary, ' Callback: ', h('code', {}, p.callback_pattern)),
    field('input', inputLabel, text('input', '', { placeholder: isTeam ? 'myteam' : p.input.example, required: true }),
      isTeam ? 'The <team> in <team>.cloudflareaccess.com (Zero Trust → Settings → Custom Pages).' : 'Where the app is reached; the callback path is added for you.'),
    field('name', 'Client name', text('name', p.name)),
    groupChecks(groups.data, []),
    h('button', { class: 'primary', type: 'submit' }, `Create ${p.name} client`));
    show(p.name, h('p', {}, h('a', { href: '#/clients/new' }, '← All presets')), form);
  }

  function setupResult(made) {
    const c = made.client;
    const s = made.setup;
    show(`${c.name} is ready`, h('p', {}, h('a', { href: `#/clients/${c.id}` }, 'Client settings →')),
      h('p', { class: 'notice' }, 'Copy the client secret now: it is shown only once (you can generate a new one later).'),
      h('div', { id: 'setup-values' }, s.paste.map((f, i) => copyable(f.label, f.value, `paste-${i}`))),
      h('h2', {}, 'Configuration'), h('pre', { class: 'snippet', id: 'setup-snippet' }, s.snippet));
  }

  async function client(id) {
    const [c, groups] = await Promise.all([api('GET', `/api/oidc/clients/${id}`), api('GET', '/api/user-groups')]);
    return clientEditor(c, groups.data);
  }

  async function clientEditor(c, groupsData) {
    const groups = groupsData || (await api('GET', '/api/user-groups')).data;
    const isNew = !c;
    const v0 = c || { name: '', callback_urls: [], logout_callback_urls: [], allowed_user_groups: [], claims_in_id_token: true };
    const form = h('form', { id: 'client-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const body = {
          name: v.name, callback_urls: lines(v.callback_urls), logout_callback_urls: lines(v.logout_callback_urls || ''),
          is_public: !!v.is_public, pkce_enabled: !!v.pkce_enabled, claims_in_id_token: !!v.claims_in_id_token,
          allow_plain_pkce: !!v0.allow_plain_pkce && (!!v.pkce_enabled || !!v.is_public),
          require_consent: !!v.require_consent, require_pushed_authorization_requests: !!v.require_pushed_authorization_requests,
          id_token_signed_response_alg: v.id_token_signed_response_alg,
          launch_url: optional(v.launch_url), logo_url: optional(v.logo_url),
          backchannel_logout_uri: optional(v.backchannel_logout_uri), backchannel_logout_session_required: !!v.backchannel_logout_session_required,
          allowed_user_groups: checkedGroups(e.target), preset: v0.preset || undefined,
          access_token_format: v.access_token_format, access_token_lifetime: seconds(v.access_token_lifetime),
          id_token_lifetime: seconds(v.id_token_lifetime), refresh_token_lifetime: seconds(v.refresh_token_lifetime),
          ...clientAuthBody(v),
        };
        const saved = await api(isNew ? 'POST' : 'PUT', isNew ? '/api/oidc/clients' : `/api/oidc/clients/${c.id}`, body);
        if (saved.client_secret) {
          show(`${saved.name} is ready`, h('p', {}, h('a', { href: `#/clients/${saved.id}` }, 'Client settings →')),
            h('p', { class: 'notice' }, 'Copy the client secret now: it is shown only once.'),
            copyable('Client ID', saved.id, 'paste-0'), copyable('Client secret', saved.client_secret, 'paste-1'),
            copyable('Issuer', root.dataset.issuer, 'paste-2'));
        } else {
          say('Saved.');
          if (isNew) location.hash = `#/clients/${saved.id}`;
        }
      });
    } },
    field('name', 'Name', text('name', v0.name)),
    field('callback_urls', 'Callback URLs (one per line, exact match)', h('textarea', { id: 'callback_urls', name: 'callback_urls', rows: 2 }, v0.callback_urls.join('\n'))),
    field('logout_callback_urls', 'Logout callback URLs', h('textarea', { id: 'logout_callback_urls', name: 'logout_callback_urls', rows: 2 }, v0.logout_callback_urls.join('\n'))),
    h('div', { class: 'row' }, field('backchannel_logout_uri', 'Back-channel logout URL (signed logout tokens are POSTed here)', text('backchannel_logout_uri', v0.backchannel_logout_uri)),
      h('div', { class: 'checks' }, check('backchannel_logout_session_required', 'Needs the session id (sid) in logout tokens', v0.backchannel_logout_session_required))),
    h('div', { class: 'row' }, field('launch_url', 'Launch URL (shown on the account page)', text('launch_url', v0.launch_url)), field('logo_url', 'Logo URL', text('logo_url', v0.logo_url))),
    field('id_token_signed_response_alg', 'id_token signing', h('select', { id: 'id_token_signed_response_alg', name: 'id_token_signed_response_alg' },
      ['RS256', 'ES256'].map((a) => h('option', { value: a, selected: (v0.id_token_signed_response_alg || 'RS256') === a }, a)))),
    h('div', { class: 'checks' }, check('pkce_enabled', 'Require PKCE', v0.pkce_enabled), check('is_public', 'Public client (no secret)', v0.is_public),
      check('claims_in_id_token', 'Scope claims in the id_token (apps that never call userinfo, Cloudflare Access)', v0.claims_in_id_token), check('require_consent', 'Ask users for consent', v0.require_consent),
      check('require_pushed_authorization_requests', 'Require PAR (only pushed authorization requests, RFC 9126)', v0.require_pushed_authorization_requests)),
    groupChecks(groups, v0.allowed_user_groups),
    clientAuthFields(v0),
    h('fieldset', {}, h('legend', {}, 'Tokens'),
      field('access_token_format', 'Access tokens', h('select', { id: 'access_token_format', name: 'access_token_format' },
        h('option', { value: 'opaque', selected: (v0.access_token_format || 'opaque') === 'opaque' }, 'Opaque for userinfo, JWT for APIs (revocable at once)'),
        h('option', { value: 'jwt', selected: v0.access_token_format === 'jwt' }, 'Always JWT (apps migrating from Pocket ID)')),
        'A JWT stays valid until it expires, whatever is revoked: keep its lifetime short.'),
      h('div', { class: 'row' },
        field('access_token_lifetime', 'Access token (s)', text('access_token_lifetime', v0.access_token_lifetime, { type: 'number', min: 60, max: 86400, placeholder: '3600' })),
        field('id_token_lifetime', 'id_token (s)', text('id_token_lifetime', v0.id_token_lifetime, { type: 'number', min: 60, max: 86400, placeholder: '3600' })),
        field('refresh_token_lifetime', 'Refresh token (s)', text('refresh_token_lifetime', v0.refresh_token_lifetime, { type: 'number', min: 300, max: 31536000, placeholder: '2592000' })))),
    h('button', { class: 'primary', type: 'submit' }, isNew ? 'Create client' : 'Save client'));
    if (isNew) return show('Custom client', h('p', {}, h('a', { href: '#/clients/new' }, '← All presets')), form);
    const setup = c.setup ? [h('h2', {}, 'Setup values'), h('div', { id: 'setup-values' }, c.setup.paste.map((f, i) => copyable(f.label, f.value, `paste-${i}`))),
      h('pre', { class: 'snippet', id: 'setup-snippet' }, c.setup.snippet)] : [
      h('h2', {}, 'Setup values'), copyable('Client ID', c.id, 'paste-0'), copyable('Discovery URL', `${root.dataset.issuer}/.well-known/openid-configuration`, 'paste-1')];
    const actions = h('div', { class: 'danger-zone' },
      h('button', { type: 'button', class: 'danger', onclick: (e) => {
        if (!confirm(`Delete ${c.name}? Its tokens stop working.`)) return;
        act(e.target, async () => {
          await api('DELETE', `/api/oidc/clients/${c.id}`);
          location.hash = '#/clients';
        });
      } }, 'Delete client'));
    show(c.name, h('p', {}, h('a', { href: '#/clients' }, '← All clients')), ...setup, h('h2', {}, 'Settings'), form,
      await clientApiPermissions(c), c.has_secret && clientSecrets(c), actions);
  }

  // How a confidential client authenticates: a secret, or a JWT signed with its own key
  // (private_key_jwt, RFC 7523) verified with its JWKS, given inline or as a URL.
  function clientAuthFields(v0) {
    const method = v0.token_endpoint_auth_method && v0.token_endpoint_auth_method !== 'none' ? v0.token_endpoint_auth_method : 'client_secret_basic';
    return h('fieldset', { id: 'client-auth' }, h('legend', {}, 'Client authentication (confidential clients)'),
      field('token_endpoint_auth_method', 'Method', h('select', { id: 'token_endpoint_auth_method', name: 'token_endpoint_auth_method' },
        [['client_secret_basic', 'Client secret (Basic header or form)'], ['client_secret_post', 'Client secret (form; Basic accepted too)'],
          ['private_key_jwt', 'private_key_jwt: a JWT signed with the client\'s key (no secret)']]
          .map(([value, label]) => h('option', { value, selected: method === value }, label)))),
      field('jwks_uri', 'JWKS URL (private_key_jwt)', text('jwks_uri', v0.jwks_uri, { placeholder: 'https://app.example.com/.well-known/jwks.json' }),
        'Fetched when the client authenticates, cached a few minutes. Or paste the keys below.'),
      field('jwks', 'JWKS (private_key_jwt)', h('textarea', { id: 'jwks', name: 'jwks', rows: 3, placeholder: '{"keys": [...]}' }, v0.jwks ? JSON.stringify(v0.jwks) : '')),
      field('federated_credentials', 'Federated credentials (private_key_jwt, JSON)', h('textarea', { id: 'federated_credentials', name: 'federated_credentials', rows: 2,
        placeholder: '[{"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:org/app:ref:refs/heads/main", "audience": "edge-id"}]' },
      v0.federated_credentials?.length ? JSON.stringify(v0.federated_credentials) : ''),
      'Tokens from these issuers about these subjects authenticate the client (CI systems, Kubernetes service accounts).'));
  }

  function clientAuthBody(v) {
    if (v.is_public) return { token_endpoint_auth_method: 'none' };
    const method = v.token_endpoint_auth_method || 'client_secret_basic';
    if (method !== 'private_key_jwt') return { token_endpoint_auth_method: method };
    let jwks;
    if (v.jwks && v.jwks.trim()) {
      try {
        jwks = JSON.parse(v.jwks);
      } catch {
        throw Object.assign(new Error('The JWKS must be JSON: {"keys": [...]}.'), { field: 'jwks' });
      }
    }
    let federated = [];
    if (v.federated_credentials && v.federated_credentials.trim()) {
      try {
        federated = JSON.parse(v.federated_credentials);
      } catch {
        throw Object.assign(new Error('Federated credentials must be JSON: [{"issuer", "subject", "audience"}].'), { field: 'federated_credentials' });
      }
    }
    return { token_endpoint_auth_method: method, jwks, jwks_uri: optional(v.jwks_uri), federated_credentials: federated };
  }

  // A confidential client's secrets: any unexpired one authenticates it, so a secret is rotated
  // without downtime (add one, or rotate with a grace period; move the app over; the old one
  // expires or is deleted). Plaintexts are shown once, right after they are made.
  function clientSecrets(c) {
    const out = h('div', {});
    const fresh = (s) => out.replaceChildren(h('p', { class: 'notice' }, 'Copy the new secret now: it is shown only once.'),
      copyable('New client secret', s.client_secret, 'new-secret'));
    const expiry = (s) => (s.expires_at ? (s.expires_at * 1000 <= Date.now() ? `expired ${when(s.expires_at)}` : when(s.expires_at)) : 'never');
    const row = (s) => h('tr', { dataset: { secret: s.id } }, h('td', {}, h('code', {}, s.id)), h('td', {}, when(s.created_at)), h('td', {}, expiry(s)),
      h('td', {}, h('button', { type: 'button', class: 'small danger', onclick: (e) => {
        if (!confirm('Delete this secret? Apps still using it stop working at once.')) return;
        act(e.target, async () => {
          await api('DELETE', `/api/oidc/clients/${c.id}/secrets/${encodeURIComponent(s.id)}`);
          e.target.closest('tr').remove();
          say('Secret deleted.');
        });
      } }, 'Delete')));
    const list = table(['Secret', 'Created', 'Expires', ''], c.secrets.map(row));
    // After a change, the table shows the secrets as stored (a rotation changes expiries).
    const refresh = async () => list.querySelector('tbody').replaceChildren(...(await api('GET', `/api/oidc/clients/${c.id}/secrets`)).data.map(row));
    const add = h('form', { id: 'secret-add-form', class: 'inline-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const expires_at = v.secret_expires ? Math.floor(new Date(v.secret_expires).getTime() / 1000) : undefined;
        fresh(await api('POST', `/api/oidc/clients/${c.id}/secrets`, { expires_at }));
        await refresh();
      });
    } }, field('secret_expires', 'New secret expires (optional)', text('secret_expires', '', { type: 'datetime-local' })),
    h('button', { type: 'submit' }, 'Add secret'));
    const rotate = h('form', { id: 'secret-rotate-form', class: 'inline-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      const grace = Number(v.grace_period || 0);
      if (!confirm(grace ? `Rotate? The current secrets stop working in ${grace} seconds.` : 'Rotate? The current secrets stop working at once.')) return;
      act(e.submitter, async () => {
        fresh(await api('POST', `/api/oidc/clients/${c.id}/secret?grace_period=${grace}`));
        await refresh();
      });
    } }, field('grace_period', 'Old secrets keep working for (s)', text('grace_period', '0', { type: 'number', min: 0, max: 2592000 })),
    h('button', { type: 'submit' }, 'Rotate secret'));
    return h('div', { id: 'client-secrets' }, h('h2', {}, 'Client secrets'),
      h('p', { class: 'hint' }, 'Any unexpired secret authenticates the client. To rotate without downtime, add a secret or rotate with a grace period, move the app to the new secret, then let the old one expire or delete it.'),
      list, add, rotate, out);
  }

  // The APIs a client may get tokens for (client_credentials, resource at /authorize) and the
  // permissions it holds at each: one checkbox per permission, saved all at once.
  async function clientApiPermissions(c) {
    const [apis, held] = await Promise.all([api('GET', '/api/apis'), api('GET', `/api/oidc/clients/${c.id}/api-permissions`)]);
    if (!apis.data.length) return h('div', { id: 'client-apis' }, h('h2', {}, 'API permissions'),
      h('p', { class: 'muted' }, 'No APIs registered yet: ', h('a', { href: '#/apis' }, 'add one'), '.'));
    const holds = (a, value) => held.data.some((g) => g.api_id === a.id && g.permissions.includes(value));
    const form = h('form', { id: 'client-apis-form', onsubmit: (e) => {
      e.preventDefault();
      act(e.submitter, async () => {
        const grants = apis.data.map((a) => ({
          api: a.id,
          permissions: a.permissions.map((p) => p.value).filter((v) => e.target.elements[`perm:${a.id}:${v}`]?.checked),
        })).filter((g, i) => g.permissions.length || e.target.elements[`api:${apis.data[i].id}`]?.checked);
        await api('PUT', `/api/oidc/clients/${c.id}/api-permissions`, { grants });
        say('API permissions saved.');
      });
    } }, apis.data.map((a) => h('fieldset', { class: 'checks' }, h('legend', {}, `${a.name} · ${a.identifier}`),
      check(`api:${a.id}`, 'May get tokens for this API', held.data.some((g) => g.api_id === a.id)),
      a.permissions.map((p) => check(`perm:${a.id}:${p.value}`, `${p.value}${p.description ? ` — ${p.description}` : ''}`, holds(a, p.value))))),
    h('button', { class: 'primary', type: 'submit' }, 'Save API permissions'));
    return h('div', { id: 'client-apis' }, h('h2', {}, 'API permissions'), form);
  }

  // --- APIs (resource servers) ---
  // Permissions are edited one per line: "value description".
  const permissionLines = (perms) => perms.map((p) => (p.description ? `${p.value} ${p.description}` : p.value)).join('\n');
  const parsePermissions = (raw) => lines(raw).map((l) => {
    const [value, ...rest] = l.split(/\s+/);
    return { value, description: rest.join(' ') };
  });
  async function apiList() {
    const res = await api('GET', '/api/apis');
    const rows = res.data.map((a) => h('tr', {}, h('td', {}, h('a', { href: `#/apis/${a.id}` }, a.name)),
      h('td', {}, h('code', {}, a.identifier)), h('td', {}, a.permissions.map((p) => p.value).join(' '))));
    show('APIs', h('p', {}, 'APIs (resource servers) receive JWT access tokens whose audience is their identifier, '
      + 'verifiable offline with ', h('code', {}, '/.well-known/jwks.json'), '. Grant clients permissions on the client\'s page.'),
    res.data.length ? table(['API', 'Identifier (audience)', 'Permissions'], rows) : h('p', { class: 'muted' }, 'No APIs yet.'),
    h('h2', {}, 'Register an API'), apiForm(null));
  }
  function apiForm(a) {
    return h('form', { id: a ? 'api-form' : 'new-api', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const body = { identifier: a ? a.identifier : v.identifier.trim(), name: v.name, permissions: parsePermissions(v.permissions || '') };
        const saved = await api(a ? 'PUT' : 'POST', a ? `/api/apis/${a.id}` : '/api/apis', body);
        sayThenGo(a ? 'API saved.' : `${saved.name} registered.`, `#/apis/${saved.id}`);
      });
    } },
    h('div', { class: 'row' }, field('name', 'Name', text('name', a?.name)),
      field('identifier', 'Identifier (https URI, the audience)', text('identifier', a?.identifier, { disabled: !!a, placeholder: 'https://api.example.com' }))),
    field('permissions', 'Permissions (one per line: value, then a description)', h('textarea', { id: 'permissions', name: 'permissions', rows: 4, placeholder: 'read:orders Read orders' }, a ? permissionLines(a.permissions) : '')),
    h('button', { class: 'primary', type: 'submit' }, a ? 'Save API' : 'Register API'));
  }
  async function apiDetail(id) {
    const a = await api('GET', `/api/apis/${id}`);
    const actions = h('div', { class: 'danger-zone' }, h('button', { type: 'button', class: 'danger', onclick: (e) => {
      if (!confirm(`Delete ${a.name}? Clients can no longer get tokens for it; tokens already issued stay valid until they expire.`)) return;
      act(e.target, async () => {
        await api('DELETE', `/api/apis/${a.id}`);
        location.hash = '#/apis';
      });
    } }, 'Delete API'));
    show(a.name, h('p', {}, h('a', { href: '#/apis' }, '← All APIs')), copyable('Identifier (audience)', a.identifier, 'api-identifier'), apiForm(a), actions);
  }

  // --- Audit log ---
  async function audit(params) {
    const q = new URLSearchParams(params);
    if (!q.get('limit')) q.set('limit', '50');
    const res = await api('GET', `/api/audit-logs?${q}`);
    const where = (e) => [e.city, e.country].filter(Boolean).join(', ') + (e.asn ? ` · AS${e.asn}` : '');
    const rows = res.data.map((e) => h('tr', { dataset: { event: e.event } },
      h('td', {}, when(e.created_at)), h('td', {}, h('code', {}, e.event)),
      h('td', {}, e.username || e.details?.actor || ''), h('td', {}, e.client_name || e.client_id || ''),
      h('td', {}, e.ip || ''), h('td', {}, where(e)), h('td', { class: 'ua' }, e.user_agent || '')));
    const filter = h('form', { class: 'inline-form', id: 'audit-filter', onsubmit: (e) => {
      e.preventDefault();
      const v = new URLSearchParams();
      const val = e.target.event.value.trim();
      if (val) v.set('event', val);
      location.hash = `#/audit?${v}`;
    } }, h('label', { for: 'event', class: 'visually-hidden' }, 'Event'),
    h('select', { id: 'event', name: 'event' }, ['', 'sign_in', 'sign_in_failed', 'token_issued', 'sign_up', 'logout', 'user_created', 'user_updated',
      'user_disabled', 'user_signed_out', 'user_deleted', 'backchannel_logout.delivered', 'backchannel_logout.failed', 'backchannel_logout.gave_up', 'client_created', 'client_updated', 'client_deleted', 'api_created', 'api_updated', 'api_deleted', 'client_api_permissions_set', 'group_created', 'api_key_created', 'settings_updated', 'email_sent', 'email_failed', 'email_code_requested', 'recovery_codes_created', 'other_device_approved', 'invite_created', 'invite_revoked', 'app_access_revoked']
      .map((ev) => h('option', { value: ev, selected: (params.get('event') || '') === ev }, ev || 'All events'))),
    h('button', {}, 'Filter'));
    show('Audit log', filter,
      res.data.length ? table(['When', 'Event', 'User', 'Client', 'IP', 'Location', 'Browser'], rows) : h('p', { class: 'muted' }, 'Nothing logged yet.'),
      pager('#/audit', params, res.pagination));
  }

  // --- API keys ---
  async function apiKeys() {
    const res = await api('GET', '/api/api-keys');
    const out = h('div', {});
    const rows = res.data.map((k) => h('tr', {}, h('td', {}, k.name), h('td', {}, when(k.created_at)),
      h('td', {}, k.expires_at ? when(k.expires_at) : 'never'), h('td', {}, when(k.last_used_at)),
      h('td', {}, h('button', { type: 'button', class: 'small danger', onclick: (e) => {
        if (!confirm(`Delete the API key ${k.name}? Scripts using it stop working.`)) return;
        act(e.target, async () => {
          await api('DELETE', `/api/api-keys/${k.id}`);
          e.target.closest('tr').remove();
          say('Key deleted.');
        });
      } }, 'Delete'))));
    const form = h('form', { id: 'new-key', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      act(e.submitter, async () => {
        const days = Number(v.days || 0);
        const key = await api('POST', '/api/api-keys', {
          name: v.name, expires_at: days > 0 ? Math.floor(Date.now() / 1000) + days * 86400 : undefined,
        });
        out.replaceChildren(h('p', { class: 'notice' }, 'Copy the key now: it is shown only once.'), copyable('API key', key.api_key, 'api-key-value'));
      });
    } }, h('div', { class: 'row' }, field('name', 'Name', text('name')), field('days', 'Expires in (days, empty: never)', text('days', '', { type: 'number', min: 1, max: 3650 }))),
    h('button', { class: 'primary', type: 'submit' }, 'Create key'));
    show('API keys', h('p', {}, 'Keys call this tenant\'s admin API with the ', h('code', {}, 'X-API-KEY'), ' header. ',
      h('a', { href: '/api/openapi.json' }, 'API reference (OpenAPI)')),
    res.data.length ? table(['Name', 'Created', 'Expires', 'Last used', ''], rows) : h('p', { class: 'muted' }, 'No keys yet.'),
    h('h2', {}, 'New key'), form, out);
  }

  // --- Settings ---
  async function settings() {
    const res = await api('GET', '/api/application-configuration');
    const s = res.settings;
    const editable = ['first_name', 'last_name', 'display_name', 'username', 'email'];
    const form = h('form', { id: 'settings-form', onsubmit: (e) => {
      e.preventDefault();
      const v = formValues(e.target);
      const values = {
        display_name: v.display_name, accent_color: v.accent_color, logo_url: optional(v.logo_url) ?? null,
        session_lifetime_secs: Math.round(Number(v.session_hours) * 3600), signup_mode: v.signup_mode,
        user_editable_fields: editable.filter((f) => v[`edit_${f}`]), audit_retention_days: Number(v.audit_retention_days),
        emails_verified: !!v.emails_verified, recovery_codes: !!v.recovery_codes,
      };
      // Only what this admin changed is sent: the server changes just those settings, so another
      // admin's change made since this page loaded is not overwritten with what it showed then.
      const shown = { display_name: res.display_name, ...s };
      const changed = Object.fromEntries(Object.entries(values).filter(([k, val]) => JSON.stringify(val) !== JSON.stringify(shown[k] ?? null)));
      act(e.submitter, async () => {
        const saved = await api('PUT', '/api/application-configuration', changed);
        res.display_name = saved.display_name;
        Object.assign(s, saved.settings);
        say('Settings saved. Reload to see a new name or colour.');
      });
    } },
    h('div', { class: 'row' }, field('display_name', 'Name', text('display_name', res.display_name)),
      field('accent_color', 'Accent colour', h('input', { id: 'accent_color', name: 'accent_color', type: 'color', value: s.accent_color }))),
    field('logo_url', 'Logo URL (https)', text('logo_url', s.logo_url)),
    h('div', { class: 'row' }, field('session_hours', 'Session lifetime (hours)', text('session_hours', s.session_lifetime_secs / 3600, { type: 'number', min: 0.1, step: 'any' })),
      field('audit_retention_days', 'Keep audit entries (days)', text('audit_retention_days', s.audit_retention_days, { type: 'number', min: 1, max: 3650 }))),
    field('signup_mode', 'Sign-up', h('select', { id: 'signup_mode', name: 'signup_mode' },
      h('option', { value: 'invite_only', selected: s.signup_mode === 'invite_only' }, 'By invitation only'),
      h('option', { value: 'open', selected: s.signup_mode === 'open' }, 'Anyone may create an account'))),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Users may edit'),
      editable.map((f) => check(`edit_${f}`, f.replace('_', ' '), s.user_editable_fields.includes(f)))),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Email addresses'),
      check('emails_verified', 'Treat every email address as verified', s.emails_verified),
      h('p', { class: 'hint' }, 'Tokens then say email_verified: true, which some apps (oauth2-proxy, for one) require. '
        + 'Edge ID sends no verification mail: turn this on only if you trust the addresses (for example, only admins set them).')),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Recovery'),
      check('recovery_codes', 'People may create recovery codes', s.recovery_codes),
      h('p', { class: 'hint' }, 'Ten single-use codes, made on the account page, each signs in once when every passkey is gone; '
        + 'the person is then asked to add a passkey. A code on paper signs in whoever finds it: without this, an admin sends a one-time link.')),
    h('button', { class: 'primary', type: 'submit' }, 'Save settings'));
    show('Settings', form, emailSettings(s));
  }

  // The tenant's SMTP server and email sign-in codes. Inputs are named like the fields the
  // server names in its errors (smtp.host...), so a refused value is pointed at.
  function emailSettings(s) {
    const smtp = s.smtp || {};
    const input = (name, value, attrs = {}) => h('input', { id: name.replace('.', '_'), name, value: value ?? '', autocomplete: 'off', ...attrs });
    const f = (name, label, el, hint) => field(name.replace('.', '_'), label, el, hint);
    const form = h('form', { id: 'email-form', onsubmit: (e) => {
      e.preventDefault();
      const el = e.target.elements;
      const v = (name) => el.namedItem(name).value.trim();
      const body = { email_sign_in_codes: el.namedItem('email_sign_in_codes').checked };
      if (!v('smtp.host')) {
        body.smtp = null;
      } else {
        body.smtp = {
          host: v('smtp.host'), tls: v('smtp.tls'), from_address: v('smtp.from_address'),
          from_name: optional(v('smtp.from_name')) ?? null, username: optional(v('smtp.username')) ?? null,
        };
        if (v('smtp.port')) body.smtp.port = Number(v('smtp.port'));
        // Left out, the stored password stays; typed, it replaces it.
        if (el.namedItem('smtp.password').value) body.smtp.password = el.namedItem('smtp.password').value;
      }
      act(e.submitter, async () => {
        const saved = await api('PUT', '/api/application-configuration', body);
        Object.assign(s, saved.settings);
        el.namedItem('smtp.password').value = '';
        el.namedItem('smtp.password').placeholder = saved.settings.smtp?.password_set ? '(set; type to replace)' : '';
        say('Email settings saved.');
      });
    } },
    h('p', { class: 'hint' }, 'Leave the server empty to use the deployment\'s default server, if the operator set one.'),
    h('div', { class: 'row' }, f('smtp.host', 'SMTP server', input('smtp.host', smtp.host)),
      f('smtp.port', 'Port', input('smtp.port', smtp.port, { type: 'number', min: 1, max: 65535 }))),
    f('smtp.tls', 'Security', h('select', { id: 'smtp_tls', name: 'smtp.tls' },
      h('option', { value: 'start_tls', selected: !smtp.tls || smtp.tls === 'start_tls' }, 'STARTTLS (port 587)'),
      h('option', { value: 'tls', selected: smtp.tls === 'tls' }, 'TLS (port 465)'),
      h('option', { value: 'none', selected: smtp.tls === 'none' }, 'None (local relay only; no password is sent)'))),
    h('div', { class: 'row' }, f('smtp.from_address', 'From address', input('smtp.from_address', smtp.from_address, { type: 'email' })),
      f('smtp.from_name', 'From name', input('smtp.from_name', smtp.from_name, { placeholder: '(the tenant name)' }))),
    h('div', { class: 'row' }, f('smtp.username', 'Username', input('smtp.username', smtp.username)),
      f('smtp.password', 'Password', input('smtp.password', '', { type: 'password', autocomplete: 'new-password',
        placeholder: smtp.password_set ? '(set; type to replace)' : '' }))),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Recovery'),
      check('email_sign_in_codes', 'People may sign in with a code sent to their email (/login/email)', s.email_sign_in_codes)),
    h('div', { class: 'row' },
      h('button', { class: 'primary', type: 'submit' }, 'Save email settings'),
      h('button', { type: 'button', id: 'send-test-email', onclick: (e) => act(e.target, async () => {
        say('Sending…');
        try {
          const r = await api('POST', '/api/application-configuration/test-email', {});
          say(`Test email sent to ${r.to}.`);
        } catch (err) {
          say(`The test email was not sent: ${err.message}`, 'error');
        }
      }) }, 'Send test email')));
    return h('section', { 'aria-labelledby': 'email-h' }, h('h2', { id: 'email-h' }, 'Email'), form);
  }

  // --- router ---
  const routes = [
    [/^#\/users\/([\w-]+)$/, (m) => user(m[1])],
    [/^#\/users$/, (m, q) => users(q)],
    [/^#\/groups\/([\w-]+)$/, (m) => group(m[1])],
    [/^#\/groups$/, () => groupList()],
    [/^#\/clients\/new$/, () => presetPicker()],
    [/^#\/clients\/new\/([\w-]+)$/, (m) => presetForm(m[1])],
    [/^#\/clients\/([\w-]+)$/, (m) => client(m[1])],
    [/^#\/clients$/, () => clientList()],
    [/^#\/apis\/([\w-]+)$/, (m) => apiDetail(m[1])],
    [/^#\/apis$/, () => apiList()],
    [/^#\/audit$/, (m, q) => audit(q)],
    [/^#\/api-keys$/, () => apiKeys()],
    [/^#\/settings$/, () => settings()],
  ];

  async function render() {
    if (!carry) say('');
    carry = false;
    const [path, query] = (location.hash || '#/users').split('?');
    const params = new URLSearchParams(query || '');
    for (const [re, fn] of routes) {
      const m = path.match(re);
      if (!m) continue;
      try {
        await fn(m, params);
      } catch (err) {
        show('Something went wrong', h('p', {}, err.message || String(err)));
      }
      return;
    }
    location.hash = '#/users';
  }
  window.addEventListener('hashchange', render);
  render();
})();
