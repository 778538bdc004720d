// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by parley's pages.
'use strict';

const parley = {
  $(id) { return document.getElementById(id); },

  async api(method, path, body, token) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const msg = data && data.error ? data.error.message : ('request failed: HTTP ' + res.status);
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data;
  },

  // A language's name in the page's language ("español" on a Spanish page),
  // or null where the browser cannot say (the caller has the server's name).
  languageName(lang) {
    try {
      const n = new Intl.DisplayNames([parley.uiLanguage || 'en'], { type: 'language' }).of(lang);
      return n && n !== lang ? n : null;
    } catch (e) {
      return null;  // an engine without Intl.DisplayNames, or a tag it refuses
    }
  },

  // `speakerOf`: the session this socket speaks in. The server ignores it;
  // a load balancer in front of several nodes sends a session's speaker to
  // the same node every time by it (docs/deploy.md).
  wsUrl(speakerOf) {
    const base = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    return speakerOf ? base + '?speaker=' + encodeURIComponent(speakerOf) : base;
  },

  // WHIP/WHEP: sends `pc`'s offer (with every ICE candidate, no trickle) to
  // `url` and applies the answer. Returns the resource URL (for DELETE).
  async negotiate(pc, url, token) {
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const done = () => { if (pc.iceGatheringState === 'complete') resolve(); };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);  // go with the candidates gathered so far
    });
    const headers = { 'Content-Type': 'application/sdp' };
    if (token) headers['Authorization'] = 'Bearer ' + token;
    const res = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
    if (res.status !== 201) {
      let msg = 'HTTP ' + res.status;
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    const resource = res.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    return resource;
  },

  // Resolves when `pc` connects; rejects when it fails or takes longer than `ms`.
  connected(pc, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') reject(new Error('WebRTC ' + pc.connectionState));
      };
      pc.addEventListener('connectionstatechange', check);
      setTimeout(() => reject(new Error('WebRTC did not connect')), ms);
      check();
    });
  },

  // Ends a WHIP/WHEP resource; keeps going while the page unloads.
  release(resource) {
    if (resource) fetch(resource, { method: 'DELETE', keepalive: true }).catch(() => {});
  },

  // A state badge: the state in the page's language, the wire name in data-state.
  setState(el, state) {
    el.textContent = parley.t('state.' + state);
    el.dataset.state = state;
    el.className = 'state ' + state;
  },

  // ---- The page's own words (web/i18n/<language>.json, written by hand) ----
  // The languages with a file; a caption language without one reads English.
  uiLanguages: ['en', 'es', 'fr', 'ca', 'gl', 'it', 'pt'],
  strings: {},
  english: {},
  uiLanguage: 'en',

  // Loads the strings for `lang` (English for what a file lacks) and
  // rewrites every element marked data-i18n / data-i18n-placeholder /
  // data-i18n-label / data-i18n-title. Returns the language used.
  async useLanguage(lang) {
    return parley.applyStrings(await parley.loadStrings(lang));
  },

  // The two halves of useLanguage, for a page that may change its mind
  // while a file loads: the strings (kept aside), then applying them.
  stringFiles: {},
  async loadStrings(lang) {
    const base = String(lang || 'en').toLowerCase().split(/[-_]/)[0];
    const chosen = parley.uiLanguages.includes(base) ? base : 'en';
    const load = async (l) => {
      if (!parley.stringFiles[l]) {
        const res = await fetch('/static/i18n/' + l + '.json');
        if (!res.ok) throw new Error('no strings for ' + l);
        parley.stringFiles[l] = await res.json();
      }
      return parley.stringFiles[l];
    };
    parley.english = await load('en');
    return { language: chosen, strings: await load(chosen) };
  },
  applyStrings(loaded) {
    parley.strings = loaded.strings;
    parley.uiLanguage = loaded.language;
    parley.translatePage(document);
    return parley.uiLanguage;
  },

  // `key`'s string with {name} replaced from `vars`.
  t(key, vars) {
    const s = parley.strings[key] !== undefined ? parley.strings[key] : (parley.english[key] !== undefined ? parley.english[key] : key);
    return s.replace(/\{(\w+)\}/g, (m, name) => (vars && vars[name] !== undefined ? String(vars[name]) : m));
  },

  translatePage(root) {
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = parley.t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = parley.t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', parley.t(el.dataset.i18nLabel));
    for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = parley.t(el.dataset.i18nTitle);
    for (const el of root.querySelectorAll('.state[data-state]')) el.textContent = parley.t('state.' + el.dataset.state);
  },

  // `text` with the words of `words` (a language's "strongWords", phrases
  // allowed) masked after their first letter: "f***". Whole words only, in
  // any case. Off unless a listener asks for it: many deaf viewers want
  // captions exactly as said.
  // With `onlyIfIn`, only the words that text also has (a translation keeps
  // an ordinary word that happens to be strong in the source language).
  maskWords(text, words, onlyIfIn) {
    if (!text || !Array.isArray(words) || words.length === 0) return text;
    const key = words.join('\u0001');
    let re = parley.maskPatterns.get(key);
    if (!re) {
      const alternatives = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'));
      re = new RegExp('(?<![\\p{L}\\p{N}])(?:' + alternatives.join('|') + ')(?![\\p{L}\\p{N}])', 'giu');
      if (parley.maskPatterns.size > 16) parley.maskPatterns.clear();
      parley.maskPatterns.set(key, re);
    }
    let carried = null;
    if (onlyIfIn !== undefined) {
      carried = new Set((String(onlyIfIn).match(re) || []).map((m) => m.toLowerCase().replace(/\s+/g, ' ')));
      re.lastIndex = 0;
    }
    return text.replace(re, (m) => (carried && !carried.has(m.toLowerCase().replace(/\s+/g, ' '))
      ? m : m[0] + m.slice(1).replace(/[\p{L}\p{N}]/gu, '*')));
  },
  maskPatterns: new Map(),

  // A language's strong words (web/strong-words/<language>.txt), loaded once;
  // [] where there is no list.
  strongWordLists: {},
  async loadStrongWords(lang) {
    if (parley.strongWordLists[lang]) return parley.strongWordLists[lang];
    let words = [];
    try {
      const res = await fetch('/static/strong-words/' + encodeURIComponent(lang) + '.txt');
      if (res.ok) {
        words = (await res.text()).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      }
    } catch (e) { /* no list: shown as said */ }
    parley.strongWordLists[lang] = words;
    return words;
  },

  // A speaker's binary audio frame (docs/protocol.md): the sequence number
  // (uint32 LE), then the float samples as PCM16 LE.
  audioFrame(seq, samples) {
    const buf = new ArrayBuffer(4 + samples.length * 2);
    const view = new DataView(buf);
    view.setUint32(0, seq, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(4 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return buf;
  },

  // The six digits in what someone typed ("482 913", "482-913"), or null.
  sessionCode(typed) {
    const digits = String(typed || '').replace(/[\s.-]/g, '');
    return /^\d{6}$/.test(digits) ? digits : null;
  },

  // Inserts a caption paragraph into `list` ordered by seq, once per seq.
  upsertCaption(list, seq, text, source) {
    let p = list.querySelector('[data-seq="' + seq + '"]');
    if (!p) {
      p = document.createElement('p');
      p.dataset.seq = String(seq);
      const next = Array.from(list.children).find((c) => Number(c.dataset.seq) > seq);
      list.insertBefore(p, next || null);
    }
    p.textContent = text;
    if (source && source !== text) {
      const s = document.createElement('span');
      s.className = 'source';
      if (parley.sourceLanguage) s.lang = parley.sourceLanguage;
      s.textContent = source;
      p.appendChild(s);
    }
    return p;
  },
};
