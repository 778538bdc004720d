// SPDX-License-Identifier: GPL-3.0-or-later
// The listener page: pick a language, read live captions (partials replaced
// in place, finals kept in order by seq), hear translated speech after one
// tap, reconnect with catch-up. No control here affects the session.
// Speech plays over WebRTC (WHEP: one shared Opus stream per language, with
// the browser's jitter buffer) when it can; otherwise from the WebSocket's
// speech messages. Captions and lip-sync timelines always come over the
// WebSocket, which carries only as much of the speech as the page uses:
// none until the listener taps for sound, the timelines alone while
// WebRTC plays, everything otherwise.
'use strict';

(() => {
  const $ = parley.$;
  const code = location.pathname.split('/').filter(Boolean)[1];
  const params = new URLSearchParams(location.search);
  // /embed/<code>: the same page laid out for a frame on another site, set
  // by its parameters (docs/embedding.md) and driven by postMessage.
  const embed = location.pathname.startsWith('/embed/');
  document.body.classList.toggle('embed', embed);
  // The listener link's key (?k=): reads the transcript once the session has ended.
  const listenerKey = params.get('k') || params.get('key');
  const keyParam = listenerKey ? '&key=' + encodeURIComponent(listenerKey) : '';
  const stats = { partials: 0, finals: 0, speechMessages: 0, speechTimelineOnly: 0, speechDecoded: 0, speechPlayed: 0,
                  reconnects: 0 };
  window.parleyListener = stats;
  let ws = null, lastSeq = 0, ended = false, language = null, audioCtx = null, playAt = 0, sentMode = null;
  let session = null, backoffMs = 500, avatar = null;
  // WHEP: the peer connection, its resource, and the timelines waiting for
  // their audio to start (the stream has no markers: onsets are detected).
  let pc = null, whepResource = null, analyser = null, levels = null;
  const waiting = [];
  let speakingUntil = 0;
  // Pace: when each final's source speech ended, on this page's clock
  // (performance.now()), from the server's "sinceEndMs"; played speech is
  // reported against it, once a final.
  const sourceEnds = new Map();
  stats.speechSkipped = 0;
  stats.lagReports = [];
  stats.transport = 'websocket';
  stats.rtcStats = async () => {
    if (!pc) return null;
    let out = null;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out = { packetsReceived: r.packetsReceived, totalAudioEnergy: r.totalAudioEnergy,
                totalSamplesReceived: r.totalSamplesReceived, jitterBufferDelay: r.jitterBufferDelay,
                jitterBufferEmittedCount: r.jitterBufferEmittedCount };
      }
    });
    return out;
  };

  // The time (on the AudioContext's clock) of the sound reaching the ears
  // now: the avatar's mouth follows this, not a timer.
  function audioClock() {
    if (!audioCtx || audioCtx.state !== 'running') return null;
    const ts = audioCtx.getOutputTimestamp ? audioCtx.getOutputTimestamp() : null;
    if (ts && ts.contextTime > 0 && ts.performanceTime > 0) {
      return ts.contextTime + (performance.now() - ts.performanceTime) / 1000;
    }
    return audioCtx.currentTime - (audioCtx.outputLatency || 0);
  }
  stats.audioTime = audioClock;

  // The status line says `key` (a string of web/i18n) in the page's language,
  // again after the language changes.
  let said = null;
  function say(key, vars, isError) {
    said = { key, vars, isError };
    $('status').textContent = key ? parley.t(key, vars) : '';
    $('status').className = isError ? 'error' : 'muted';
  }
  // A message from the server (already in words), shown as it is.
  function status(text, isError) {
    said = null;
    $('status').textContent = text;
    $('status').className = isError ? 'error' : 'muted';
  }

  // ---- Display options: remembered on this device (an embed takes its parameters) ----
  const display = { size: 'm', theme: 'light', lines: 0, original: true, avatar: true, mask: false };
  function loadDisplay() {
    if (!embed) {
      try { Object.assign(display, JSON.parse(localStorage.getItem('parley-display') || '{}')); } catch (e) { /* reset below */ }
    }
    if (embed) {
      if (params.has('size')) display.size = params.get('size');
      if (params.has('theme')) display.theme = params.get('theme');
      if (params.has('lines')) display.lines = Number(params.get('lines'));
      if (params.has('original')) display.original = !/^(0|false|no)$/i.test(params.get('original'));
      display.avatar = /^(1|true|yes)$/i.test(params.get('avatar') || '0');
      display.mask = params.get('profanity') === 'mask';
    }
    if (!['s', 'm', 'l', 'xl'].includes(display.size)) display.size = 'm';
    if (!['light', 'dark', 'contrast'].includes(display.theme)) display.theme = 'light';
    if (!Number.isInteger(display.lines) || display.lines < 0) display.lines = 0;
    $('opt-size').value = display.size;
    $('opt-theme').value = display.theme;
    $('opt-lines').value = String(display.lines);
    if (!$('opt-lines').value) $('opt-lines').value = '0';
    $('opt-original').checked = display.original;
    $('opt-avatar').checked = display.avatar !== false;
    $('opt-mask').checked = display.mask === true;
    applyDisplay();
  }
  function applyDisplay() {
    document.body.dataset.size = display.size;
    document.body.dataset.theme = display.theme;
    document.body.classList.toggle('hide-original', !display.original);
    document.body.classList.toggle('hide-avatar', display.avatar === false);
    applyLines();
  }
  // Only the newest `lines` finals stay in view (0: all of them).
  function applyLines() {
    const rows = $('history').children;
    for (let i = 0; i < rows.length; i++) {
      rows[i].classList.toggle('hidden', display.lines > 0 && i < rows.length - display.lines);
    }
  }
  function saveDisplay() {
    display.size = $('opt-size').value;
    display.theme = $('opt-theme').value;
    display.lines = Number($('opt-lines').value);
    display.original = $('opt-original').checked;
    display.avatar = $('opt-avatar').checked;
    const masking = $('opt-mask').checked;
    if (masking !== display.mask) {
      display.mask = masking;
      if (masking) loadStrongWords().then(redrawCaptions);
      else redrawCaptions();
    }
    if (!embed) localStorage.setItem('parley-display', JSON.stringify(display));
    applyDisplay();
  }
  for (const id of ['opt-size', 'opt-theme', 'opt-lines', 'opt-original', 'opt-avatar', 'opt-mask']) $(id).addEventListener('change', saveDisplay);
  $('display').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    $('display').classList.add('hidden');
    $('display-button').setAttribute('aria-expanded', 'false');
    $('display-button').focus();
  });
  $('display-button').addEventListener('click', () => {
    const open = $('display').classList.toggle('hidden') === false;
    $('display-button').setAttribute('aria-expanded', String(open));
    if (open) $('opt-size').focus();
  });

  // A new caption row: shown, trimmed to the lines asked for, and scrolled
  // to within the history's own box when the reader is at its end (the
  // header never leaves the screen).
  // Captions as received, by seq: what a change of the masking option redraws from.
  const received = new Map();
  // Strong language masked when the listener asked: the caption with its
  // language's list, the original with the source language's.
  function strongWords(lang) { return parley.strongWordLists[lang] || null; }
  async function loadStrongWords() {
    await Promise.all([language, session.sourceLanguage].filter(Boolean).map((l) => parley.loadStrongWords(l)));
  }
  // (A caption is masked with the original's list too: engines pass words
  // they do not know through untranslated.)
  function shown(text, lang, source) {
    if (!display.mask || !session || !text) return text;
    let out = parley.maskWords(text, strongWords(lang));
    if (lang !== session.sourceLanguage) out = parley.maskWords(out, strongWords(session.sourceLanguage), source || '');
    return out;
  }
  function redrawCaptions() {
    for (const [seq, c] of received) {
      parley.upsertCaption($('history'), seq, shown(c.text, language, c.source), shown(c.source, session.sourceLanguage));
    }
    $('current').textContent = shown($('current').dataset.raw || '', language, $('current').dataset.source);
    applyLines();
  }
  function showCaption(seq, text, source) {
    const list = $('history');
    const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    received.set(seq, { text, source });
    const p = parley.upsertCaption(list, seq, shown(text, language, source), shown(source, session.sourceLanguage));
    applyLines();
    if (atEnd) list.scrollTop = list.scrollHeight;
    return p;
  }

  // ---- The embed's postMessage API (docs/embedding.md) ----
  function tell(message) {
    if (embed && window.parent !== window) window.parent.postMessage(Object.assign({ source: 'parley', code }, message), '*');
  }
  if (embed) {
    if (/^(0|false|no)$/i.test(params.get('captions') || '')) document.body.classList.add('no-captions');
    if (/^(0|false|no)$/i.test(params.get('audio') || '')) $('listen').classList.add('hidden');
    window.addEventListener('message', (ev) => {
      if (ev.source !== window.parent) return;  // only the page that holds the frame drives it
      const m = ev.data;
      if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
      if (m.type === 'parley:setLanguage' && typeof m.language === 'string') {
        const option = Array.from($('language').options).find((o) => o.value === m.language);
        if (!option) {
          tell({ type: 'parley:error', error: 'not_offered', language: m.language,
                 offered: Array.from($('language').options).map((o) => o.value) });
          return;
        }
        if (m.language === language) {
          tell({ type: 'parley:language', language });  // already: nothing to reload
          return;
        }
        $('language').value = m.language;
        $('language').dispatchEvent(new Event('change'));
      } else if (m.type === 'parley:getState') {
        tell({ type: 'parley:state', state: $('state').dataset.state || null, language });
      }
    });
  }

  // The download links for `lang`'s transcript.
  // A language's name inside a sentence of the page ("en español", "in Spanish").
  function sentenceName(lang) {
    return parley.languageName(lang) ||
      (Array.from($('language').options).find((o) => o.value === lang) || { dataset: { name: lang } }).dataset.name;
  }

  function showDownloads(lang) {
    $('download-label').textContent = parley.t('download', { language: sentenceName(lang) });
    for (const f of ['vtt', 'srt', 'json', 'txt']) {
      $('dl-' + f).href = '/api/sessions/' + code + '/transcript?format=' + f + '&lang=' + encodeURIComponent(lang) + keyParam;
    }
  }

  // The page reads in the caption language (English where it has no strings).
  let languageAsked = 0;
  async function useLanguage(lang) {
    const asked = ++languageAsked;
    const loaded = await parley.loadStrings(lang);
    if (asked !== languageAsked) return;  // a later choice wins, whichever file arrived first
    parley.applyStrings(loaded);
    // The page's own words are in the UI language; the captions in theirs
    // (screen readers pronounce each with the right voice).
    document.documentElement.lang = parley.uiLanguage;
    for (const id of ['history', 'current', 'partial']) $(id).lang = lang;
    // Language names in the page's language ("espagnol" on a French page).
    const select = $('language');
    const nameOf = (o) => {
      const n = parley.languageName(o.value);
      return n ? n.charAt(0).toLocaleUpperCase(parley.uiLanguage) + n.slice(1) : o.dataset.name;
    };
    for (const o of select.options) o.textContent = nameOf(o);
    if (select.options[0]) select.options[0].textContent = parley.t('original', { name: nameOf(select.options[0]) });
    if (said) say(said.key, said.vars, said.isError);
    if (audioCtx) $('listen-label').textContent = parley.t('listening');
    for (const row of document.querySelectorAll('#history .speech-skipped')) markSkipped(row);
    showDownloads(lang);
  }

  function markSkipped(row) {
    row.classList.add('speech-skipped');
    row.dataset.skipped = ' ' + parley.t('notSpoken');
    row.title = parley.t('notSpokenTitle');
  }

  async function init() {
    loadDisplay();
    const asked = params.get('lang');
    await parley.useLanguage(asked || localStorage.getItem('parley-lang') || navigator.language);
    try {
      session = await parley.api('GET', '/api/sessions/' + code);
    } catch (e) {
      $('session-name').textContent = parley.t('noSession');
      status(e.message, true);
      return;
    }
    $('session-name').removeAttribute('data-i18n');  // the name, not a string of the page
    $('session-name').textContent = session.name;
    $('session-name').title = session.name;
    document.title = session.name + ' — parley';
    avatar = parleyAvatar.create($('avatar'), session.avatar, audioClock);
    stats.avatar = avatar;
    parley.setState($('state'), session.state);
    const langs = await parley.api('GET', '/api/languages');
    const select = $('language');
    const src = session.sourceLanguage;
    parley.sourceLanguage = src;  // the original under each caption is marked as such
    const option = (name, value) => {
      const o = new Option(name, value);
      o.dataset.name = name;
      select.add(o);
    };
    option(langs.names[src] || src, src);
    for (const t of langs.targets[src] || []) option(t.name, t.language);
    if (session.state === 'ENDED') await keepTranscriptLanguages();
    const wanted = asked || localStorage.getItem('parley-lang') || (navigator.language || 'en').slice(0, 2);
    const offered = Array.from(select.options);
    const match = offered.find((o) => o.value === wanted) ||
                  offered.find((o) => o.value === wanted.toLowerCase().split(/[-_]/)[0]);
    // Not offered: the original when the link asked for it or the session has
    // ended (it always has a transcript), else the first translation.
    const fallback = asked || session.state === 'ENDED' ? src : (select.options[1] || select.options[0]).value;
    select.value = match ? match.value : fallback;
    await useLanguage(select.value);
    // A language asked for in the link and not offered is said so, never silently replaced.
    if (asked && !match) {
      $('notice').textContent = parley.t('notOffered', {
        asked: asked.slice(0, 20), shown: select.selectedOptions[0].text, list: offered.map((o) => o.text).join(', ') });
      $('notice').classList.remove('hidden');
    }
    select.addEventListener('change', () => {
      $('notice').classList.add('hidden');  // the listener chose
      if (ended) showTranscript(select.value);
      else switchLanguage(select.value);
      tell({ type: 'parley:language', language: select.value });
    });
    language = select.value;
    if (display.mask) await loadStrongWords();
    tell({ type: 'parley:ready', language: select.value, state: session.state, languages: offered.map((o) => o.value) });
    if (session.state === 'ENDED') {
      sessionOver();
      say('status.endedTranscript');
      showTranscript(select.value);
      return;
    }
    switchLanguage(select.value);
  }

  // An ended session: the whole transcript in `lang`, in place of what was shown.
  function showTranscript(lang) {
    language = lang;
    if (display.mask) parley.loadStrongWords(lang).then(redrawCaptions);
    if (!embed) localStorage.setItem('parley-lang', lang);
    useLanguage(lang);
    $('history').textContent = '';
    received.clear();
    loadTranscript(lang);
  }

  async function loadTranscript(lang) {
    let r;
    try {
      r = await parley.api('GET', '/api/sessions/' + code + '/transcript?format=json&lang=' + encodeURIComponent(lang) + keyParam);
    } catch (e) {
      if (lang !== language) return;  // another language was chosen meanwhile
      const src = session.sourceLanguage;
      if (e.status === 404 && lang !== src) {
        // Never translated into this language: the original, and why.
        $('notice').textContent = parley.t('noTranscriptShowingOriginal', { language: sentenceName(lang) });
        $('notice').classList.remove('hidden');
        $('language').value = src;
        showTranscript(src);
        return;
      }
      // A private transcript says how to open it, in the page's language.
      if (e.status === 403) say(listenerKey ? 'transcriptWrongKey' : 'transcriptPrivate', null, true);
      else status(e.message, true);
      $('downloads').classList.add('hidden');
      return;
    }
    if (lang !== language) return;
    for (const it of r.items) showCaption(it.seq, it.text, it.source);
    const last = r.items[r.items.length - 1];
    if (last) showCurrent(last.text, last.source);
  }

  // The big caption under the avatar: the newest final.
  function showCurrent(text, source) {
    $('current').dataset.raw = text;
    $('current').dataset.source = source || '';
    $('current').textContent = shown(text, language, source);
  }

  // An ended session offers only the languages it has a transcript in,
  // when its summary can be read (the listener key, or a public transcript).
  async function keepTranscriptLanguages() {
    try {
      const r = await parley.api('GET', '/api/sessions/' + code + '/summary' + (listenerKey ? '?key=' + encodeURIComponent(listenerKey) : ''));
      const have = new Set(r.languages.filter((l) => l.original || l.finals > 0).map((l) => l.language));
      for (const o of Array.from($('language').options)) if (!have.has(o.value)) o.remove();
    } catch (e) {
      /* private: the transcript request says so */
    }
  }

  // A long session replays only its newest finals on the socket; the older
  // ones come from the REST history, page by page.
  async function loadOlder(lang, after, before) {
    const src = session.sourceLanguage;
    for (;;) {
      const r = await parley.api('GET', '/api/sessions/' + code + '/history?limit=500&after=' + after + keyParam);
      for (const it of r.items) {
        if (it.seq >= before || lang !== language) return;
        const text = lang === src ? it.source : it.translations[lang];
        if (text !== undefined) showCaption(it.seq, text, it.source);
      }
      if (!r.more) return;
      after = r.nextAfter;
    }
  }

  function switchLanguage(lang) {
    language = lang;
    if (display.mask) parley.loadStrongWords(lang).then(redrawCaptions);
    if (!embed) localStorage.setItem('parley-lang', lang);
    useLanguage(lang);
    lastSeq = 0;
    $('history').textContent = '';
    received.clear();
    $('current').textContent = '';
    $('partial').textContent = '';
    if (ws) { ws.onclose = null; ws.close(); }
    connect();
    if (audioCtx) play();
  }

  // WHEP: this language's audio from /whep/<code>/<lang>.
  async function play() {
    stopPlaying();
    if (!session.webrtc || !window.RTCPeerConnection || ended) return;
    const mine = pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      const el = $('rtc-audio');
      el.srcObject = stream;
      el.play().catch(() => {});
      // The level of what plays, to start each lip-sync timeline at its audio.
      const src = audioCtx.createMediaStreamSource(stream);
      analyser = audioCtx.createAnalyser();
      analyser.fftSize = 512;
      levels = new Float32Array(analyser.fftSize);
      src.connect(analyser);
    };
    try {
      whepResource = await parley.negotiate(pc, '/whep/' + code + '/' + encodeURIComponent(language));
      await parley.connected(pc, 8000);
      if (pc !== mine) return;
      stats.transport = 'webrtc';
      updateSpeechMode();
      pc.addEventListener('connectionstatechange', () => {
        if (pc === mine && pc.connectionState === 'failed') stopPlaying();
      });
    } catch (e) {
      console.warn('WebRTC unavailable, playing from the WebSocket:', e.message);
      if (pc === mine) stopPlaying();
    }
  }

  function stopPlaying() {
    if (pc) pc.close();
    parley.release(whepResource);
    pc = null;
    whepResource = null;
    analyser = null;
    waiting.length = 0;
    stats.transport = 'websocket';
    updateSpeechMode();
    const el = $('rtc-audio');
    if (el) el.srcObject = null;
  }

  // Every 20 ms: when the WebRTC audio starts sounding and no timeline is
  // running, the next timeline starts now.
  setInterval(() => {
    if (!analyser || !avatar || waiting.length === 0) return;
    const now = audioClock();
    if (now === null || now < speakingUntil) return;
    analyser.getFloatTimeDomainData(levels);
    let sum = 0;
    for (const v of levels) sum += v * v;
    if (Math.sqrt(sum / levels.length) < 0.01) return;
    const next = waiting.shift();
    const at = now - analyser.fftSize / audioCtx.sampleRate / 2;
    avatar.schedule(next.utteranceId, at, next.duration, next.timeline);
    speakingUntil = at + next.duration;
    const endsAt = performance.now() + (at + next.duration - now) * 1000;
    setTimeout(() => reportPlayback(next.seq, endsAt), Math.max(0, endsAt - performance.now()));
  }, 20);

  // The speech of final `seq` has played to its end at `endsAt`
  // (performance.now()): tell the server how long after its source speech.
  function reportPlayback(seq, endsAt) {
    const sourceEnd = sourceEnds.get(seq);
    if (sourceEnd === undefined || !ws || ws.readyState !== WebSocket.OPEN) return;
    sourceEnds.delete(seq);
    const lagMs = Math.max(0, Math.round(endsAt - sourceEnd));
    stats.lagReports.push(lagMs);
    ws.send(JSON.stringify({ type: 'playback', seq, lagMs }));
  }

  // How much of each speech message this page needs now (docs/protocol.md).
  function speechMode() {
    if (!audioCtx) return 'none';
    return stats.transport === 'webrtc' ? 'timeline' : 'full';
  }
  function updateSpeechMode() {
    const mode = speechMode();
    if (mode === sentMode || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: 'speech', mode }));
    sentMode = mode;
  }

  function connect() {
    ws = new WebSocket(parley.wsUrl());
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      backoffMs = 500;
      sentMode = speechMode();
      ws.send(JSON.stringify({ type: 'join', protocol: 1, role: 'listener', code, language, since: lastSeq,
                               speech: sentMode }));
    };
    ws.onmessage = (ev) => (typeof ev.data === 'string' ? onText(JSON.parse(ev.data)) : onSpeech(ev.data));
    ws.onclose = () => {
      if (ended) return;
      say('status.reconnecting', null, true);
      stats.reconnects++;
      setTimeout(connect, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 8000);
    };
  }

  // What the state means for this listener, in words.
  function sayState(s) {
    say(s === 'ENDED' ? 'status.ended' : 'status.' + s);
    tell({ type: 'parley:state', state: s, language });
  }

  // Nothing more to hear: the offer to listen, and the sound, go.
  function sessionOver() {
    ended = true;
    $('listen').classList.add('hidden');
    $('partial').textContent = '';
    whepResource = null;  // the server ended it with the session: nothing to DELETE
    stopPlaying();
  }

  function onText(m) {
    switch (m.type) {
      case 'welcome':
        parley.setState($('state'), m.state);
        sayState(m.state);
        if (m.olderHistory) loadOlder(language, m.olderHistory.after, m.olderHistory.before);
        break;
      case 'state':
        parley.setState($('state'), m.state);
        sayState(m.state);
        break;
      case 'partial':
        stats.partials++;
        $('partial').textContent = shown(m.text, language);
        tell({ type: 'parley:partial', language, text: shown(m.text, language) });
        break;
      case 'discard':
        $('partial').textContent = '';
        break;
      case 'final': {
        stats.finals++;
        if (m.seq <= lastSeq && !m.history) break;
        lastSeq = Math.max(lastSeq, m.seq);
        if (!m.history && typeof m.sinceEndMs === 'number') {
          sourceEnds.set(m.seq, performance.now() - m.sinceEndMs);
          if (sourceEnds.size > 50) sourceEnds.delete(sourceEnds.keys().next().value);
        }
        showCaption(m.seq, m.text, m.source);
        if (!m.history) {
          showCurrent(m.text, m.source);
          $('partial').textContent = '';
        } else if (m.seq === lastSeq) {
          showCurrent(m.text, m.source);  // a listener who just joined sees the newest caption at once
        }
        tell({ type: 'parley:caption', language, seq: m.seq, text: shown(m.text, language, m.source),
                original: shown(m.source, session.sourceLanguage), history: !!m.history });
        break;
      }
      case 'speechSkipped': {
        stats.speechSkipped++;
        // Marked on the caption itself ("not spoken"): the status line keeps
        // saying what the session is doing.
        const row = document.querySelector(`#history [data-seq="${m.seq}"]`);
        if (row) markSkipped(row);
        break;
      }
      case 'sessionEnded':
        sessionOver();
        parley.setState($('state'), 'ENDED');
        sayState('ENDED');
        break;
      case 'error':
        status(m.message, true);
        if (m.code === 'not_found') ended = true;
        break;
    }
  }

  async function onSpeech(buf) {
    stats.speechMessages++;
    if (!audioCtx) return;  // not tapped yet: captions only
    const speech = parleyAvatar.parseSpeech(buf);
    if (!speech) return;  // a kind this page does not know
    const audioBytes = buf.byteLength - speech.oggOffset;
    if (audioBytes === 0) stats.speechTimelineOnly++;
    if (stats.transport === 'webrtc') {
      // The audio comes over WebRTC; keep the timeline for when it sounds.
      waiting.push({ seq: speech.seq, utteranceId: speech.utteranceId, duration: speech.durationMs / 1000, timeline: speech.timeline });
      if (waiting.length > 20) waiting.shift();
      return;
    }
    if (audioBytes === 0) return;  // sent while WebRTC was playing; it is not any more
    try {
      const audio = await audioCtx.decodeAudioData(buf.slice(speech.oggOffset));
      stats.speechDecoded++;
      const node = audioCtx.createBufferSource();
      node.buffer = audio;
      node.connect(audioCtx.destination);
      const at = Math.max(audioCtx.currentTime + 0.05, playAt);
      node.start(at);
      playAt = at + audio.duration;
      if (avatar) avatar.schedule(speech.utteranceId, at, audio.duration, speech.timeline);
      const seq = speech.seq;
      const endsAt = performance.now() + (at + audio.duration - audioCtx.currentTime) * 1000;
      node.onended = () => {
        stats.speechPlayed++;
        reportPlayback(seq, endsAt);
      };
    } catch (e) {
      say('status.speechFailed', { error: e.message }, true);
    }
  }

  $('listen').addEventListener('click', async () => {
    if (!audioCtx) audioCtx = new AudioContext();
    await audioCtx.resume();
    $('listen-label').textContent = parley.t('listening');
    $('listen').disabled = true;
    updateSpeechMode();
    play();
  });
  window.addEventListener('pagehide', () => parley.release(whepResource));

  init().catch((e) => status(e.message, true));
})();
