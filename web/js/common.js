// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the speaker and listener pages.
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

  wsUrl() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  },

  setState(el, state) {
    el.textContent = state;
    el.className = 'state ' + state;
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
      s.textContent = source;
      p.appendChild(s);
    }
    return p;
  },
};
