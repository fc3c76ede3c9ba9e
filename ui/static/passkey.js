// Edge ID browser side of the passkey ceremonies. No framework: the page's forms carry their
// data in data-* attributes (CSP forbids inline scripts), this module wires them up.

const b64u = {
  encode(buf) {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  },
  decode(str) {
    const s = atob(str.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((str.length + 3) % 4));
    return Uint8Array.from(s, (c) => c.charCodeAt(0)).buffer;
  },
};

const status = (msg) => {
  const el = document.getElementById('status');
  if (el) el.textContent = msg;
};

async function api(path, body, method = 'POST', extraHeaders = {}) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'edge-id', ...extraHeaders },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data.message || `Request failed (${res.status})`), { server: true });
  return data;
}

// WebAuthn L3 JSON helpers, with a fallback for browsers without parse*FromJSON / toJSON.
function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return { ...json, challenge: b64u.decode(json.challenge), user: { ...json.user, id: b64u.decode(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: b64u.decode(c.id) })) };
}
function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: b64u.decode(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: b64u.decode(c.id) })) };
}
function credentialJSON(cred) {
  if (typeof cred.toJSON === 'function') return cred.toJSON();
  const r = cred.response;
  const response = { clientDataJSON: b64u.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64u.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64u.encode(r.authenticatorData);
    response.signature = b64u.encode(r.signature);
    response.userHandle = r.userHandle ? b64u.encode(r.userHandle) : null;
  }
  return { id: cred.id, rawId: b64u.encode(cred.rawId), type: cred.type, response,
    clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment };
}

function explain(err) {
  if (err.server) return err.message;
  switch (err.name) {
    case 'NotAllowedError': return 'The passkey request was cancelled or timed out. Try again.';
    case 'InvalidStateError': return 'This passkey is already registered here.';
    case 'SecurityError': return "This page's address can't use passkeys (check the domain).";
    case 'AbortError': return 'Cancelled.';
    default: return err.message || 'Something went wrong.';
  }
}

async function signIn(next, mediation, signal) {
  const { options } = await api('/api/webauthn/login/start', {});
  const cred = await navigator.credentials.get({ publicKey: requestOptions(options), mediation, signal });
  status('Signing in…');
  const { redirect } = await api('/api/webauthn/login/finish', { credential: credentialJSON(cred), next });
  location.assign(redirect);
}

async function register(token, profile) {
  const { options } = await api('/api/webauthn/register/start', { token, profile });
  const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
  status('Saving your passkey…');
  const { redirect } = await api('/api/webauthn/register/finish', { credential: credentialJSON(cred), name: null });
  location.assign(redirect);
}

function wireLogin() {
  const form = document.getElementById('login-form');
  if (!form) return;
  const next = form.dataset.next;
  let conditional = null;
  // Passkey autofill where supported; the button below aborts it and runs the modal request.
  if (window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
      if (!ok) return;
      conditional = new AbortController();
      signIn(next, 'conditional', conditional.signal).catch((e) => {
        if (e.name !== 'AbortError') status(explain(e));
      });
    });
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (conditional) conditional.abort();
    status('Waiting for your passkey…');
    signIn(next, 'optional').catch((e) => status(explain(e)));
  });
}

function wireSetup() {
  const form = document.getElementById('setup-form');
  if (!form) return;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const profile = Object.fromEntries(new FormData(form).entries());
    status('Creating your passkey…');
    register(form.dataset.token, profile).catch((e) => status(explain(e)));
  });
}

function wireAccount() {
  const add = document.getElementById('add-passkey');
  if (add) add.addEventListener('click', () => register(null, null).catch((e) => status(explain(e))));
  const list = document.getElementById('passkey-list');
  if (!list) return;
  const csrf = list.dataset.csrf;
  list.addEventListener('click', async (ev) => {
    const li = ev.target.closest('li[data-id]');
    if (!li) return;
    const id = encodeURIComponent(li.dataset.id);
    try {
      if (ev.target.classList.contains('pk-rename')) {
        const name = prompt('New name for this passkey', li.querySelector('.pk-name').textContent);
        if (!name) return;
        await api(`/api/account/passkeys/${id}/rename`, { name }, 'POST', { 'x-csrf-token': csrf });
        location.reload();
      } else if (ev.target.classList.contains('pk-delete')) {
        const last = li.dataset.last === '1';
        const warning = last
          ? 'This is your only passkey. Without it you cannot sign in until an admin sends you a login link. Delete it anyway?'
          : 'Delete this passkey?';
        if (!confirm(warning)) return;
        await api(`/api/account/passkeys/${id}${last ? '?confirm_last=1' : ''}`, undefined, 'DELETE', { 'x-csrf-token': csrf });
        location.reload();
      }
    } catch (e) {
      status(explain(e));
    }
  });
}

wireLogin();
wireSetup();
wireAccount();
