// SPDX-License-Identifier: GPL-3.0-or-later
// The listener's avatar: an SVG face whose mouth follows the viseme timeline
// that arrives with each translated utterance (docs/avatar.md). The shape on
// screen is looked up from the audio clock on every animation frame — never
// from timers — so it stays in step with what the listener hears. It blinks
// and breathes when idle; with prefers-reduced-motion it holds still.
'use strict';

const parleyAvatar = (() => {
  // The documented viseme set, in wire order (id = index).
  const VISEMES = ['sil', 'PP', 'FF', 'TH', 'DD', 'kk', 'CH', 'SS', 'nn', 'RR', 'aa', 'E', 'I', 'O', 'U'];

  // Mouth geometry per viseme: half-width and opening in px (of a 200 px
  // face), which teeth show, whether the tongue shows, and lip thickness.
  const SHAPES = {
    sil: { w: 17, h: 0, teeth: '', tongue: false, lip: 3 },
    PP: { w: 15, h: 0, teeth: '', tongue: false, lip: 5 },
    FF: { w: 18, h: 4, teeth: 'top', tongue: false, lip: 3.5 },
    TH: { w: 18, h: 6, teeth: 'top', tongue: true, lip: 3 },
    DD: { w: 19, h: 8, teeth: 'both', tongue: false, lip: 3 },
    kk: { w: 19, h: 12, teeth: 'top', tongue: true, lip: 3 },
    CH: { w: 13, h: 9, teeth: 'both', tongue: false, lip: 4.5 },
    SS: { w: 21, h: 5, teeth: 'both', tongue: false, lip: 3 },
    nn: { w: 18, h: 7, teeth: 'top', tongue: true, lip: 3 },
    RR: { w: 14, h: 9, teeth: 'top', tongue: false, lip: 4 },
    aa: { w: 21, h: 22, teeth: 'top', tongue: true, lip: 3 },
    E: { w: 22, h: 13, teeth: 'top', tongue: true, lip: 3 },
    I: { w: 24, h: 7, teeth: 'both', tongue: false, lip: 3 },
    O: { w: 13, h: 16, teeth: '', tongue: true, lip: 4.5 },
    U: { w: 9, h: 9, teeth: '', tongue: false, lip: 5 },
  };

  const CHARACTERS = {
    ada: { skin: '#f1c7a5', shade: '#e0a985', hair: '#5a3825', lips: '#c0585f', top: '#6f42c1', longHair: true },
    max: { skin: '#a86f4c', shade: '#8f5c3d', hair: '#1f1a17', lips: '#7a3b32', top: '#0f8b8d', longHair: false },
  };

  const NS = 'http://www.w3.org/2000/svg';
  const CX = 100, CY = 139;  // mouth centre

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function lipsPath(w, h) {
    // Upper lip: a gentle bow; lower lip: a deeper curve that opens with h.
    const top = CY - h * 0.35;
    const bottom = CY + h * 0.65;
    return `M ${CX - w} ${CY} C ${CX - w * 0.5} ${top - 3}, ${CX - 3} ${top - 1}, ${CX} ${top + 0.5} ` +
           `C ${CX + 3} ${top - 1}, ${CX + w * 0.5} ${top - 3}, ${CX + w} ${CY} ` +
           `C ${CX + w * 0.6} ${bottom + 2}, ${CX - w * 0.6} ${bottom + 2}, ${CX - w} ${CY} Z`;
  }

  function draw(container, name) {
    const c = CHARACTERS[name] || CHARACTERS.ada;
    container.textContent = '';
    const svg = el('svg', { viewBox: '22 28 156 192', role: 'img', 'aria-label': `Avatar ${name}`, class: 'avatar-svg' }, container);
    const body = el('g', { class: 'avatar-body' }, svg);
    el('path', { d: 'M 30 220 C 35 180, 70 170, 100 170 C 130 170, 165 180, 170 220 Z', fill: c.top }, body);
    el('rect', { x: 88, y: 150, width: 24, height: 26, rx: 8, fill: c.shade }, body);
    if (c.longHair) el('path', { d: 'M 45 95 C 40 40, 160 40, 155 95 L 160 175 C 140 185, 60 185, 40 175 Z', fill: c.hair }, body);
    el('ellipse', { cx: 100, cy: 105, rx: 52, ry: 62, fill: c.skin }, body);
    el('ellipse', { cx: 48, cy: 108, rx: 7, ry: 12, fill: c.shade }, body);
    el('ellipse', { cx: 152, cy: 108, rx: 7, ry: 12, fill: c.shade }, body);
    el('path', { d: c.longHair ? 'M 46 102 C 36 22, 164 22, 154 102 C 148 72, 112 58, 72 68 C 58 74, 50 88, 46 102 Z'
                               : 'M 47 100 C 38 28, 162 28, 153 100 C 150 74, 132 62, 100 62 C 68 62, 50 74, 47 100 Z', fill: c.hair }, body);
    const eyes = el('g', { class: 'avatar-eyes' }, body);
    for (const x of [80, 120]) {
      el('ellipse', { cx: x, cy: 102, rx: 7, ry: 7.5, fill: '#fff' }, eyes);
      el('circle', { cx: x, cy: 103, r: 4, fill: '#2b2b2b' }, eyes);
      el('circle', { cx: x + 1.5, cy: 101.5, r: 1.2, fill: '#fff' }, eyes);
    }
    const lids = el('g', { class: 'avatar-lids' }, body);
    for (const x of [80, 120]) el('ellipse', { cx: x, cy: 102, rx: 8, ry: 8.5, fill: c.skin }, lids);
    for (const x of [80, 120]) el('path', { d: `M ${x - 10} 90 Q ${x} 84 ${x + 10} 90`, stroke: c.hair, 'stroke-width': 3, fill: 'none', 'stroke-linecap': 'round' }, body);
    el('path', { d: 'M 100 108 Q 96 122 100 124 Q 104 125 106 122', stroke: c.shade, 'stroke-width': 2.5, fill: 'none', 'stroke-linecap': 'round' }, body);

    const mouth = el('g', { class: 'avatar-mouth', 'data-viseme': 'sil' }, body);
    const clipId = 'mouth-clip-' + Math.random().toString(36).slice(2);
    const clip = el('clipPath', { id: clipId }, svg);
    const clipPath = el('path', {}, clip);
    const inside = el('path', { fill: '#4a1c22' }, mouth);
    const inner = el('g', { 'clip-path': `url(#${clipId})` }, mouth);
    const teethTop = el('rect', { x: CX - 20, y: 0, width: 40, height: 5, rx: 2, fill: '#fbfbf7' }, inner);
    const teethBottom = el('rect', { x: CX - 18, y: 0, width: 36, height: 4, rx: 2, fill: '#f1f1ea' }, inner);
    const tongue = el('ellipse', { cx: CX, cy: 0, rx: 12, ry: 6, fill: '#d86b78' }, inner);
    const lips = el('path', { fill: 'none', stroke: c.lips, 'stroke-linejoin': 'round' }, mouth);

    function setViseme(v) {
      const s = SHAPES[v] || SHAPES.sil;
      const d = lipsPath(s.w, s.h);
      clipPath.setAttribute('d', d);
      inside.setAttribute('d', d);
      lips.setAttribute('d', d);
      lips.setAttribute('stroke-width', s.lip);
      const top = CY - s.h * 0.35, bottom = CY + s.h * 0.65;
      teethTop.setAttribute('y', top - 1);
      teethTop.style.display = s.h > 0 && s.teeth ? '' : 'none';
      teethBottom.setAttribute('y', bottom - 3);
      teethBottom.style.display = s.h > 0 && s.teeth === 'both' ? '' : 'none';
      tongue.setAttribute('cy', bottom);
      tongue.style.display = s.h > 0 && s.tongue ? '' : 'none';
      mouth.setAttribute('data-viseme', v);
    }
    setViseme('sil');
    return { svg, mouth, setViseme };
  }

  // An avatar bound to an audio clock. `clock()` returns the time (s, on the
  // AudioContext's timeline) of the sound now reaching the ears, or null.
  function create(container, character, clock) {
    const face = draw(container, character);
    const reduced = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    container.classList.toggle('reduced-motion', !!reduced);
    const utterances = [];  // {at, end, rate, samples: Int32Array, visemes: Uint8Array, utteranceId}
    let shown = 'sil';

    function visemeAt(t) {
      for (let i = utterances.length - 1; i >= 0; i--) {
        const u = utterances[i];
        if (t < u.at || t >= u.end) continue;
        const sample = (t - u.at) * u.rate;
        let lo = 0, hi = u.samples.length - 1, found = -1;
        while (lo <= hi) {  // last entry with samples[k] <= sample
          const mid = (lo + hi) >> 1;
          if (u.samples[mid] <= sample) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found < 0 ? 'sil' : VISEMES[u.visemes[found]] || 'sil';
      }
      return 'sil';
    }

    function frame() {
      const t = clock();
      const v = reduced || t === null ? 'sil' : visemeAt(t);
      if (v !== shown) {
        face.setViseme(v);
        shown = v;
      }
      container.dataset.speaking = v === 'sil' ? 'false' : 'true';
      requestAnimationFrame(frame);
    }
    requestAnimationFrame(frame);

    return {
      // Called when an utterance's audio is scheduled to start at `at`.
      schedule(utteranceId, at, duration, timeline) {
        utterances.push({ utteranceId, at, end: at + duration, ...timeline });
        while (utterances.length > 16) utterances.shift();
      },
      shown: () => shown,
      visemeAt,
      reducedMotion: !!reduced,
      utterances,
    };
  }

  // Reads the speech message header (docs/protocol.md): the timeline and
  // where the Ogg Opus file starts.
  function parseSpeech(buf) {
    const v = new DataView(buf);
    if (buf.byteLength < 24 || v.getUint8(0) !== 0x50 || v.getUint8(1) !== 1 || v.getUint8(2) !== 2) return null;
    const n = v.getUint16(20);
    if (buf.byteLength < 24 + 4 * n) return null;
    const samples = new Int32Array(n), visemes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const word = v.getUint32(24 + 4 * i);
      visemes[i] = word >>> 24;
      samples[i] = word & 0xffffff;
    }
    return {
      seq: v.getUint32(4), utteranceId: v.getUint32(8), durationMs: v.getUint32(12),
      timeline: { rate: v.getUint32(16), samples, visemes },
      oggOffset: 24 + 4 * n,
    };
  }

  return { create, parseSpeech, VISEMES };
})();
