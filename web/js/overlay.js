// SPDX-License-Identifier: GPL-3.0-or-later
// The overlay (/overlay/<code>): a session's captions for an OBS browser
// source or a video mixer. Parameters (docs/embedding.md):
//   lang=es,fr     languages stacked top to bottom (default: the original)
//   lines=2        finals kept per language (1-10)
//   size=48        text size in px (12-200)
//   original=0|1   the source text under each caption
//   partials=1|0   the line being spoken, before it is final
//   bg=transparent a background colour (name or hex); anything else boxes the text
//   color=ffffff   the text colour (name or hex)
//   profanity=mask strong language masked after its first letter (default: as said)
// Each language is one listener WebSocket that carries captions only (no
// speech) and rejoins with `since` after a drop, so no final is missed.
'use strict';

(() => {
  const params = new URLSearchParams(location.search);
  const code = location.pathname.split('/').filter(Boolean)[1];
  const colour = (v) => (/^[0-9a-f]{3,8}$/i.test(v) ? '#' + v : /^#?[0-9a-f]{3,8}$|^[a-z]{3,20}$/i.test(v) ? v : null);
  const clamp = (v, lo, hi, dflt) => (Number.isFinite(Number(v)) && v !== '' ? Math.min(hi, Math.max(lo, Number(v))) : dflt);
  const lines = Math.round(clamp(params.get('lines'), 1, 10, 2));
  const size = clamp(params.get('size'), 12, 200, 48);
  const original = /^(1|true|yes)$/i.test(params.get('original') || '0');
  const partials = !/^(0|false|no)$/i.test(params.get('partials') || '1');
  const bg = params.get('bg') || 'transparent';
  if (bg !== 'transparent') {
    const c = colour(bg);
    if (c) document.documentElement.style.background = document.body.style.background = c;
    else document.body.classList.add('boxed');
  }
  const text = colour(params.get('color') || '');
  document.body.style.fontSize = size + 'px';
  const stack = document.getElementById('stack');
  // Strong language by language (web/strong-words/<lang>.txt), loaded
  // only when masking was asked for.
  const masking = params.get('profanity') === 'mask';
  const strong = {};
  let source = null;
  // A caption: its language's list, and the source's words it carried over untranslated.
  const mask = (t, lang, from) => {
    if (!masking || !t) return t;
    const out = parley.maskWords(t, strong[lang]);
    return lang === source ? out : parley.maskWords(out, strong[source], from || '');
  };
  async function loadStrong(lang) { strong[lang] = await parley.loadStrongWords(lang); }
  const stats = { finals: 0, partials: 0, reconnects: 0, joined: [] };
  window.parleyOverlay = stats;

  function follow(lang) {
    const box = document.createElement('div');
    box.className = 'lang';
    box.lang = lang;
    box.dataset.language = lang;
    stack.appendChild(box);
    const partial = document.createElement('div');
    partial.className = 'line partial hidden';
    let lastSeq = 0, ended = false, backoff = 500, ws = null;

    function render(line, caption, from) {
      line.textContent = mask(caption, lang, from);
      if (original && from && from !== caption) {
        const s = document.createElement('span');
        s.className = 'source';
        s.textContent = mask(from, source, from);
        line.appendChild(s);
      }
      if (text) line.style.color = text;
    }
    function addFinal(seq, caption, source) {
      if (box.querySelector('[data-seq="' + seq + '"]')) return;
      const line = document.createElement('div');
      line.className = 'line';
      line.dataset.seq = String(seq);
      render(line, caption, source);
      const next = Array.from(box.querySelectorAll('.line:not(.partial)')).find((l) => Number(l.dataset.seq) > seq);
      box.insertBefore(line, next || (partial.parentNode === box ? partial : null));
      const finals = box.querySelectorAll('.line:not(.partial)');
      for (let i = 0; i < finals.length - lines; i++) finals[i].remove();
    }
    function problem(message) {
      const p = document.createElement('div');
      p.className = 'problem';
      p.textContent = lang + ': ' + message;
      box.replaceChildren(p);
    }
    function connect() {
      ws = new WebSocket(parley.wsUrl());
      ws.onopen = () => {
        backoff = 500;
        ws.send(JSON.stringify({ type: 'join', protocol: 1, role: 'listener', code, language: lang, since: lastSeq, speech: 'none' }));
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data !== 'string') return;
        const m = JSON.parse(ev.data);
        if (m.type === 'welcome') stats.joined.push(lang);
        else if (m.type === 'partial' && partials) {
          stats.partials++;
          render(partial, m.text, null);
          partial.classList.remove('hidden');
          box.appendChild(partial);
        } else if (m.type === 'discard') {
          partial.remove();
        } else if (m.type === 'final') {
          stats.finals++;
          lastSeq = Math.max(lastSeq, m.seq);
          partial.remove();
          addFinal(m.seq, m.text, m.source);
        } else if (m.type === 'sessionEnded') {
          ended = true;
          partial.remove();
        } else if (m.type === 'error') {
          // Only a full server or a flood is worth retrying; anything else
          // (a language it cannot offer, a wrong code) is said and stays.
          if (m.code === 'resource_exhausted' || m.code === 'unavailable') return;
          ended = true;
          if (m.code !== 'not_found') {
            problem(m.message);
            return;
          }
          // An ended session: its last lines stay, with nothing to fix.
          parley.api('GET', '/api/sessions/' + code)
            .then((info) => { if (info.state !== 'ENDED') problem(m.message); })
            .catch(() => problem(m.message));
        }
      };
      ws.onclose = () => {
        if (ended) return;
        stats.reconnects++;
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 8000);
      };
    }
    connect();
  }

  (async () => {
    // es-ES reads as es (the server's languages are base codes); each once.
    let langs = [...new Set((params.get('lang') || '').split(',').map((l) => l.trim().toLowerCase().split(/[-_]/)[0])
      .filter(Boolean))].slice(0, 4);
    if (langs.length === 0 || masking) {
      try {
        source = (await parley.api('GET', '/api/sessions/' + code)).sourceLanguage;
      } catch (e) {
        source = 'en';
      }
      if (langs.length === 0) langs = [source];
    }
    if (masking) await Promise.all([...new Set([...langs, source])].map(loadStrong));
    document.documentElement.lang = langs[0];
    for (const l of langs) follow(l);
  })();
})();
