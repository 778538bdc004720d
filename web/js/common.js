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
