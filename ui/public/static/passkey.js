// Edge ID: the browser side of the passkey ceremonies (sign-in, account setup, "Add passkey").
// A classic deferred script, no framework: the CSP forbids inline scripts, so pages hand their
// data over in data-* attributes. The shared helpers are exposed as window.edgeId for account.js.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // The one aria-live region of every page (#status): progress and errors are read out.
  function say(message, kind = 'info') {
    const el = $('status');
    if (!el) return;
    el.textContent = message || '';
    el.dataset.kind = kind;
  }

  // Disables a button while a ceremony runs, so a double click can't start two.
  function busy(button, on) {
    if (!button) return;
    button.disabled = on;
    button.setAttribute('aria-busy', String(on));
  }

  // --- base64url, for browsers without the WebAuthn L3 JSON helpers (older Safari/Firefox) ---
  const b64u = {
    encode(buf) {
      const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      let bin = '';
      for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
      return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    },
    decode(str) {
      const b64 = str.replace(/-/g, '+').replace(/_/g, '/');
      const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out.buffer;
    },
  };
  const ids = (list) => (list || []).map((c) => ({ ...c, id: b64u.decode(c.id) }));

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return {
      ...json,
      challenge: b64u.decode(json.challenge),
      user: { ...json.user, id: b64u.decode(json.user.id) },
      excludeCredentials: ids(json.excludeCredentials),
    };
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return { ...json, challenge: b64u.decode(json.challenge), allowCredentials: ids(json.allowCredentials) };
  }

  // RegistrationResponseJSON / AuthenticationResponseJSON.
  function credentialJSON(cred) {
    // toJSON exists in current browsers, but some password-manager extensions wrap the
    // credential and break it: fall back to encoding by hand.
    try {
      if (typeof cred.toJSON === 'function') return cred.toJSON();
    } catch (_) { /* encode below */ }
    const r = cred.response;
    const response = { clientDataJSON: b64u.encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = b64u.encode(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
      if (r.getAuthenticatorData) response.authenticatorData = b64u.encode(r.getAuthenticatorData());
      const key = r.getPublicKey ? r.getPublicKey() : null;
      if (key) response.publicKey = b64u.encode(key);
      if (r.getPublicKeyAlgorithm) response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
    } else {
      response.authenticatorData = b64u.encode(r.authenticatorData);
      response.signature = b64u.encode(r.signature);
      if (r.userHandle) response.userHandle = b64u.encode(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: b64u.encode(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response,
    };
  }

  // --- server calls ---
  class ServerError extends Error {
    constructor(code, message, field) {
      super(message);
      this.name = 'ServerError';
      this.code = code;
      this.field = field;
    }
  }

  const csrfToken = () => document.querySelector('[data-csrf]')?.dataset.csrf;

  async function api(method, path, body, signal) {
    const headers = { 'Content-Type': 'application/json', 'X-Requested-With': 'edge-id' };
    const csrf = csrfToken();
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let res;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ServerError('network', "Can't reach the server. Check your connection and try again.");
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ServerError(data?.error || `http_${res.status}`,
        data?.message || `Something went wrong (error ${res.status}). Try again.`, data?.field);
    }
    return data || {};
  }

  // A friendly sentence for any failure; null means "say nothing" (a cancelled autofill).
  function explain(err, { quietAbort = false } = {}) {
    if (err instanceof ServerError) {
      if (err.code === 'unknown_credential') {
        const tenant = document.querySelector('main')?.dataset.tenant || 'this site';
        return `This passkey isn't registered with ${tenant}. Use another passkey or ask an admin for a login link.`;
      }
      return err.message;
    }
    switch (err && err.name) {
      case 'NotAllowedError': return 'The passkey request was cancelled or timed out. Try again.';
      case 'InvalidStateError': return 'This passkey is already registered here.';
      case 'SecurityError': return "This page's address can't use passkeys (check the domain).";
      case 'AbortError': return quietAbort ? null : 'Cancelled.';
      default: return (err && err.message) || 'Something went wrong. Try again.';
    }
  }

  const supported = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
  const unsupported = "This browser can't use passkeys. Try an up-to-date Chrome, Safari, Edge or Firefox.";

  // --- ceremonies ---
  async function signIn(next, { mediation, signal } = {}) {
    const { options } = await api('POST', '/api/webauthn/login/start', {}, signal);
    const request = { publicKey: requestOptions(options) };
    if (mediation) request.mediation = mediation;
    if (signal) request.signal = signal;
    const cred = await navigator.credentials.get(request);
    if (!cred) throw new DOMException('No passkey was chosen.', 'NotAllowedError');
    say('Signing you in…');
    const { redirect } = await api('POST', '/api/webauthn/login/finish', { credential: credentialJSON(cred), next });
    location.assign(redirect || next || '/');
  }

  // `name` names the new passkey (null: the server derives one from the browser); `next`
  // overrides where to go afterwards.
  async function register(token, profile, { name = null, next = null } = {}) {
    const { options } = await api('POST', '/api/webauthn/register/start', { token: token || null, profile: profile || null });
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    if (!cred) throw new DOMException('No passkey was created.', 'NotAllowedError');
    say('Saving your passkey…');
    const { redirect } = await api('POST', '/api/webauthn/register/finish', { credential: credentialJSON(cred), name });
    location.assign(next || redirect || '/account');
  }

  // --- pages ---
  function wireLogin(form) {
    const next = form.dataset.next || '/';
    const button = $('passkey-login');
    let conditional = null; // { controller, done } of the pending autofill request

    // Passkey autofill: a quiet get() that the browser completes from the username field's
    // suggestions. It must be aborted (and settled) before the modal request can start.
    async function startConditional() {
      if (!supported() || !PublicKeyCredential.isConditionalMediationAvailable) return;
      if (!(await PublicKeyCredential.isConditionalMediationAvailable().catch(() => false))) return;
      if (button && button.disabled) return; // the modal request started meanwhile
      const controller = new AbortController();
      const done = signIn(next, { mediation: 'conditional', signal: controller.signal }).catch((e) => {
        if (controller.signal.aborted) return;
        const msg = explain(e, { quietAbort: true });
        if (msg) say(msg, 'error');
      });
      conditional = { controller, done };
    }

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!supported()) return say(unsupported, 'error');
      busy(button, true);
      if (conditional) {
        conditional.controller.abort();
        await conditional.done;
        conditional = null;
      }
      say('Waiting for your passkey…');
      try {
        await signIn(next);
      } catch (e) {
        // A passkey that fails (cancelled, not found, not registered) points at the way out.
        const help = $('login-help') && e && e.name !== 'AbortError'
          ? ' If you can’t use your passkey, see “Can’t use your passkey?” below.' : '';
        say(explain(e) + help, 'error');
        busy(button, false);
        startConditional(); // keep autofill working after a failed attempt
      }
    });

    startConditional();
  }

  function wireSetup(form) {
    const button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!supported()) return say(unsupported, 'error');
      const data = new FormData(form);
      const value = (name) => String(data.get(name) || '').trim();
      const profile = {
        first_name: value('first_name'),
        last_name: value('last_name'),
        username: value('username'),
        email: value('email'),
      };
      form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
      busy(button, true);
      say('Follow your browser’s prompt to create a passkey…');
      try {
        await register(form.dataset.token, profile);
      } catch (e) {
        say(explain(e), 'error');
        busy(button, false);
        // The server may name the field it refused (e.g. a taken username): point at it.
        const field = e.field && form.elements.namedItem(e.field);
        if (field && field.focus) {
          field.setAttribute('aria-invalid', 'true');
          field.focus();
        }
      }
    });
  }

  // "Add passkey" on the account page, and "Add a passkey on this device" after signing in
  // without one (named by the person, then on to where the sign-in was going).
  function wireAddPasskey(button, nameInput) {
    button.addEventListener('click', async () => {
      if (!supported()) return say(unsupported, 'error');
      busy(button, true);
      say('Follow your browser’s prompt to create a passkey…');
      try {
        const name = (nameInput && nameInput.value.trim()) || null;
        await register(null, null, { name, next: button.dataset.next || null });
      } catch (e) {
        say(explain(e), 'error');
        busy(button, false);
      }
    });
  }

  window.edgeId = { api, say, busy, explain };

  const login = $('login-form');
  if (login) wireLogin(login);
  const setup = $('setup-form');
  if (setup) wireSetup(setup);
  const add = $('add-passkey');
  if (add) wireAddPasskey(add);
  const addHere = $('add-passkey-here');
  if (addHere) wireAddPasskey(addHere, $('new-passkey-name'));
})();
