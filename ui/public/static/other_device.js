// Edge ID "Sign in with another device": the waiting page asks every two seconds whether the
// person approved on their signed-in device, then continues (or says why it cannot).
'use strict';

(() => {
  const el = document.getElementById('other-device');
  if (!el) return;
  const say = (text, kind = 'info') => window.edgeId?.say
    ? window.edgeId.say(text, kind)
    : (document.querySelector('.hint').textContent = text);
  let stopped = false;

  async function poll() {
    if (stopped) return;
    let answer;
    try {
      const res = await fetch('/api/login/other-device/poll', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'edge-id' },
        body: JSON.stringify({ request: el.dataset.request, next: el.dataset.next }),
      });
      answer = await res.json();
    } catch {
      answer = { status: 'pending' }; // a dropped connection: keep waiting
    }
    switch (answer.status) {
      case 'signed_in':
        stopped = true;
        say('Approved. Signing you in…');
        location.assign(answer.redirect);
        return;
      case 'denied':
        stopped = true;
        say('The request was denied on your other device.', 'error');
        return;
      case 'gone':
        stopped = true;
        say('This code has expired. Reload the page for a new one.', 'error');
        return;
      default:
        setTimeout(poll, 2000);
    }
  }
  setTimeout(poll, 2000);
})();
