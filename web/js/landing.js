// SPDX-License-Identifier: GPL-3.0-or-later
// The landing page (/ and /listener): a large box for the session code. The
// server also serves it, with status 404, for a listener, overlay or embed
// link whose code matches no session: it then says so, in the reader's
// language, above the same box.
'use strict';

(async () => {
  const $ = parley.$;
  const params = new URLSearchParams(location.search);
  await parley.useLanguage(params.get('lang') || localStorage.getItem('parley-lang') || navigator.language);
  document.documentElement.lang = parley.uiLanguage;
  const parts = location.pathname.split('/').filter(Boolean);
  let wrong = parts.length === 2 && ['listener', 'overlay', 'embed'].includes(parts[0]) ? parts[1] : null;
  if (wrong !== null) {
    try { wrong = decodeURIComponent(wrong); } catch (e) { /* shown as it came */ }
    // Inside another site's frame (a wrong embed code), the host hears of it too.
    if (parts[0] === 'embed' && window.parent !== window) {
      window.parent.postMessage({ source: 'parley', code: wrong.slice(0, 16), type: 'parley:error', error: 'not_found' }, '*');
    }
  }
  if (wrong !== null) {
    document.title = parley.t('noSession') + ' — parley';
    $('title').textContent = parley.t('noSession');
    $('wrong-code').textContent = parley.t('noSessionCode', { code: wrong.slice(0, 16) }) + ' ' + parley.t('landing.wrongCode');
    $('wrong-code').classList.remove('hidden');
  }
  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = parley.sessionCode($('code').value);
    if (!code) {
      $('code-error').textContent = parley.t('landing.badCode');
      $('code').setAttribute('aria-invalid', 'true');
      $('code').focus();
      return;
    }
    location.href = '/listener/' + code;
  });
  $('code').addEventListener('input', () => {
    $('code-error').textContent = '';
    $('code').removeAttribute('aria-invalid');
  });
  $('code').focus();
})();
