// SPDX-License-Identifier: GPL-3.0-or-later
// The conversation page, /c (start one) and /c/<code> (join, then talk):
// every participant speaks or types their own language and reads and hears
// everyone else in theirs (docs/protocol.md, "Conversations").
'use strict';

(() => {
  const $ = parley.$;
  const pathCode = (location.pathname.match(/^\/c\/(\d{6})\/?$/) || [])[1] || null;
  const storeKey = (c) => 'parley.conversation.' + c;

  let code = pathCode;
  let me = null;            // {id, token, name, language, typed}
  let people = new Map();   // id → participant
  let ws = null, wsOpen = false, over = false, retryMs = 500, lastError = '', lastErrorCode = '';
  let changing = null;  // changing language: the old self, still connected until the new one has joined
  let halfDuplex = false, floor = null;
  const talking = new Set();           // ids whose utterance is open
  const lastSeq = new Map();            // id → newest final shown (for a reconnect)
  const partials = new Map();           // id → element of their words in progress
  let names = {};                       // language → name
  // What this page received and played, by participant id (for tests and
  // for anyone debugging a conversation from the console).
  const stats = { finals: {}, speechPlayed: {}, speakingStarts: {}, lagReports: [] };
  const bump = (table, id) => { table[id] = (table[id] || 0) + 1; };
  window.parleyConversation = { stats, me: () => me };
  let recognised = [];                  // languages with speech recognition here

  // ---- Speech out: each partner's translated speech, in order ----
  let audioCtx = null, playAt = 0, playing = 0, frameSeq = 0;
  const sourceEnds = new Map();         // "id:seq" → performance.now() of the source speech's end

  // ---- Microphone in ----
  let micStream = null, micCtx = null, micOn = false;

  function say(text, isError) {
    $('notice').textContent = text || '';
    $('notice').classList.toggle('hidden', !text);
    $('notice').classList.toggle('error', !!isError);
  }

  // A language's name in the page's own language ("español" on a Spanish
  // page), else the server's English one.
  function languageName(l) {
    return parley.languageName(l) || names[l] || l;
  }

  // ---- Setup: start or join ----
  async function loadLanguages() {
    const langs = await parley.api('GET', '/api/languages');
    recognised = langs.speech || [];
    names = Object.assign({}, langs.names || {});
    const all = new Set(recognised);
    for (const list of Object.values(langs.targets || {})) {
      for (const t of list) {
        all.add(t.language);
        names[t.language] = names[t.language] || t.name;
      }
    }
    const sel = $('language');
    sel.textContent = '';
    const guess = (navigator.language || 'en').toLowerCase().split('-')[0];
    for (const l of [...all].sort((a, b) => languageName(a).localeCompare(languageName(b)))) {
      const o = document.createElement('option');
      o.value = l;
      o.textContent = languageName(l) + (recognised.includes(l) ? '' : ' — ' + parley.t('conv.typedShort'));
      if (l === guess) o.selected = true;
      sel.appendChild(o);
    }
    noteTyped();
  }

  function noteTyped() {
    const l = $('language').value;
    const typed = l && !recognised.includes(l);
    $('typed-note').textContent = typed ? parley.t('conv.typedNote', { language: languageName(l) }) : '';
    $('typed-note').classList.toggle('hidden', !typed);
  }

  async function showSetup(error) {
    $('setup').classList.remove('hidden');
    $('talk').classList.add('hidden');
    $('composer').classList.add('hidden');
    if (code) {
      $('setup-title').textContent = parley.t('conv.joinTitle', { code });
      $('setup-lead').textContent = parley.t('conv.joinLead');
      $('setup-submit').textContent = parley.t('conv.joinButton');
      $('half-duplex-choice').classList.add('hidden');
    }
    if (error) $('setup-error').textContent = error;
    const saved = localStorage.getItem('parley.conversation.name');
    if (saved && !$('name').value) $('name').value = saved;
    await loadLanguages();
  }

  async function setup(ev) {
    ev.preventDefault();
    $('setup-error').textContent = '';
    const name = $('name').value.trim();
    if (!name) {
      $('setup-error').textContent = parley.t('conv.needName');
      $('name').focus();
      return;
    }
    $('setup-submit').disabled = true;
    try {
      if (!code) {
        const c = await parley.api('POST', '/api/conversations', { halfDuplex: $('half-duplex').checked });
        code = c.code;
        history.replaceState(null, '', '/c/' + code);
      }
      await joinAs(name, $('language').value);
      localStorage.setItem('parley.conversation.name', name);
      if (changing) {
        // The new self is in: the old one leaves (so the conversation never
        // stands empty), and the page starts again in the new language.
        const old = changing;
        changing = null;
        if (old.ws && old.ws.readyState === WebSocket.OPEN) old.ws.send(JSON.stringify({ type: 'leave' }));
        if (old.ws) old.ws.close();
        lastSeq.clear();
        partials.clear();
        $('history').textContent = '';
      }
      enter();
    } catch (e) {
      $('setup-error').textContent = e.message;
    } finally {
      $('setup-submit').disabled = false;
    }
  }

  async function joinAs(name, language) {
    const j = await parley.api('POST', '/api/conversations/' + code + '/participants', { name, language });
    me = { id: j.participant.id, token: j.token, name: j.participant.name, language: j.participant.language, typed: j.participant.typed };
    localStorage.setItem(storeKey(code), JSON.stringify(me));
  }

  // ---- In the conversation ----
  async function enter() {
    $('setup').classList.add('hidden');
    $('talk').classList.remove('hidden');
    $('composer').classList.remove('hidden');
    $('invite-button').classList.remove('hidden');
    $('menu-button').classList.remove('hidden');
    $('people').classList.remove('hidden');
    await parley.useLanguage(me.language);
    document.documentElement.lang = me.language;
    showInvite();
    if (me.typed) {
      $('mic').classList.add('hidden');
      $('mic-status').textContent = parley.t('conv.typedNote', { language: languageName(me.language) });
    } else {
      $('mic-status').textContent = parley.t('conv.micOff');
    }
    $('hear').classList.toggle('hidden', !!audioCtx);
    connect();
  }

  function showInvite() {
    const url = location.origin + '/c/' + code;
    $('code').textContent = code.slice(0, 3) + ' ' + code.slice(3);
    $('link').textContent = url;
    $('link').href = url;
    $('qr').src = '/qr.svg?data=' + encodeURIComponent(url);
    $('qr').alt = parley.t('conv.qrAlt', { url });
  }

  function connect() {
    if (over) return;
    ws = new WebSocket(parley.wsUrl());
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      const since = {};
      for (const [id, seq] of lastSeq) since[id] = seq;
      ws.send(JSON.stringify({
        type: 'join', role: 'participant', protocol: 1, code, participant: me.id, token: me.token,
        sampleRate: micCtx ? micCtx.sampleRate : 16000, since,
      }));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') onText(JSON.parse(ev.data));
      else onBinary(ev.data);
    };
    const mine = ws;
    ws.onclose = (ev) => {
      if (ws !== mine) return;  // an old socket (the language was changed)
      wsOpen = false;
      if (over) return;
      if (me && (ev.code === 4404 || (ev.code === 1008 && lastErrorCode === 'failed_precondition'))) {
        // It ended while this page was away, or this person left it: what
        // was said (until they left) can still be read and saved.
        stopMic();
        return showEnded();
      }
      if (ev.code === 4403 || ev.code === 4404 || ev.code === 1008) {
        // The token or the conversation is no longer good (or this person
        // left it): trying again would not help.
        localStorage.removeItem(storeKey(code));
        over = true;
        stopMic();
        say(ev.code === 4404 ? parley.t('conv.gone') : ev.code === 4403 ? parley.t('conv.notYou') : (lastError || parley.t('conv.notYou')), true);
        return;
      }
      say(parley.t('status.reconnecting'));
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function send(obj) {
    if (ws && ws.readyState === WebSocket.OPEN && wsOpen) ws.send(JSON.stringify(obj));
  }

  function onText(m) {
    if (m.type === 'conversation') {
      wsOpen = true;
      retryMs = 500;
      say('');
      people = new Map(m.participants.map((p) => [p.id, p]));
      talking.clear();
      // The server starts a new connection as "not playing": say so if it is.
      if (playing > 0) send({ type: 'playing', playing: true });
      // A page whose sound is still locked plays nothing: it gets no speech
      // until the tap (and the server does not wait for an echo from it).
      send({ type: 'speech', mode: audioCtx ? 'full' : 'none' });
      halfDuplex = m.halfDuplex;
      floor = m.floor;
      $('opt-half-duplex').checked = halfDuplex;
      $('title').textContent = m.title || parley.t('conv.titleCode', { code: code.slice(0, 3) + ' ' + code.slice(3) });
      renderPeople();
      indicator();
      if (people.size < 2) $('invite').classList.remove('hidden');
      return;
    }
    if (m.type === 'partnerJoined' || m.type === 'partnerLeft') {
      const p = m.participant;
      const known = people.has(p.id);
      people.set(p.id, p);
      if (m.type === 'partnerJoined') $('invite').classList.add('hidden');
      if (m.type === 'partnerLeft') {
        talking.delete(p.id);
        clearPartial(p.id);
      }
      // Someone is announced when they join, then connects: one note.
      const key = m.type === 'partnerJoined' ? (m.returning ? 'conv.back' : (known ? null : 'conv.joined'))
        : (m.forGood ? 'conv.left' : 'conv.disconnected');
      if (key) addNote(parley.t(key, { name: p.name, language: languageName(p.language) }));
      renderPeople();
      indicator();
      return;
    }
    if (m.type === 'speaking') {
      if (m.speaking) bump(stats.speakingStarts, m.participant);
      if (m.speaking) talking.add(m.participant);
      else talking.delete(m.participant);
      renderPeople();
      indicator();
      return;
    }
    if (m.type === 'floor') {
      halfDuplex = m.halfDuplex;
      floor = m.holder;
      $('opt-half-duplex').checked = halfDuplex;
      indicator();
      return;
    }
    if (m.type === 'conversationEnded') {
      over = true;
      addNote(parley.t('conv.ended'));
      say(parley.t('conv.ended'));
      stopMic();
      // Who this page was stays saved: the export still works, after a reload too.
      showEndedCard();
      return;
    }
    if (m.type === 'error') {
      if (m.code === 'replaced') {
        over = true;
        say(parley.t('conv.replaced'), true);
        stopMic();
      } else {
        lastError = m.message;
        lastErrorCode = m.code;
        say(m.message, true);
      }
      return;
    }
    if (!m.from) return;  // pong
    if (m.type === 'final') onFinal(m);
    else if (m.type === 'partial') onPartial(m);
    else if (m.type === 'discard') clearPartial(m.from);
  }

  function onFinal(m) {
    const from = m.from;
    // Only the caption in this page's language (the own session also sends its source; the same words).
    if (m.language !== me.language) return;
    if (from === me.id) clearPartial(from);
    else if (m.sinceEndMs !== undefined) {
      sourceEnds.set(from + ':' + m.seq, performance.now() - m.sinceEndMs);
      if (sourceEnds.size > 200) sourceEnds.delete(sourceEnds.keys().next().value);  // speech never played
    }
    if (from !== me.id && !m.history) clearPartial(from);
    lastSeq.set(from, Math.max(lastSeq.get(from) || 0, m.seq));
    const id = 'said-' + from + '-' + m.seq;
    let li = document.getElementById(id);
    if (!li) {
      bump(stats.finals, from);
      li = document.createElement('li');
      li.id = id;
      insertByTime(li, m.atMs || Date.now());
    }
    fillBubble(li, from, m.text, m.source);
    scrollDown();
  }

  // Everyone's finals in the order they were said (a late joiner's history
  // arrives person by person); words in progress stay last.
  function insertByTime(li, at) {
    li.dataset.at = String(at);
    const list = $('history');
    let before = null;
    for (let c = list.lastElementChild; c; c = c.previousElementSibling) {
      if (c.classList.contains('partial-bubble') || Number(c.dataset.at) > at) before = c;
      else break;
    }
    list.insertBefore(li, before);
  }

  function fillBubble(li, from, text, source) {
    const p = people.get(from) || { name: '…', language: '' };
    li.className = 'bubble ' + (from === me.id ? 'mine' : 'theirs');
    li.dataset.from = from;
    li.textContent = '';
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = from === me.id ? parley.t('conv.you') : p.name;
    const words = document.createElement('span');
    words.className = 'words';
    words.lang = me.language;
    words.textContent = text;
    li.append(who, words);
    if (source && source !== text) {
      const s = document.createElement('span');
      s.className = 'source';
      s.lang = p.language;
      s.textContent = source;
      li.appendChild(s);
    }
  }

  function onPartial(m) {
    if (m.language !== me.language || !m.text) return;
    let li = partials.get(m.from);
    if (!li) {
      li = document.createElement('li');
      partials.set(m.from, li);
      $('history').appendChild(li);
    }
    fillBubble(li, m.from, m.text, null);
    li.classList.add('partial-bubble');
    scrollDown();
  }

  function clearPartial(from) {
    const li = partials.get(from);
    if (li) li.remove();
    partials.delete(from);
  }

  function addNote(text) {
    const li = document.createElement('li');
    li.className = 'note';
    li.textContent = text;
    insertByTime(li, Date.now());
    scrollDown();
  }

  function scrollDown() {
    const s = $('scroller');
    s.scrollTop = s.scrollHeight;
  }

  function renderPeople() {
    const ul = $('people');
    ul.textContent = '';
    for (const p of people.values()) {
      if (p.left) continue;
      const li = document.createElement('li');
      li.className = 'person' + (p.online ? ' online' : '') + (talking.has(p.id) ? ' talking' : '');
      li.textContent = (p.id === me.id ? parley.t('conv.you') : p.name) + ' · ' + languageName(p.language);
      li.title = p.online ? parley.t('conv.online') : parley.t('conv.offline');
      ul.appendChild(li);
    }
    // Names learned after their words arrived (a history replayed first).
    for (const who of document.querySelectorAll('#history [data-from] .who')) {
      const from = who.parentElement.dataset.from;
      const p = people.get(from);
      if (p) who.textContent = from === me.id ? parley.t('conv.you') : p.name;
    }
  }

  // The big indicator: who is talking, or whose turn it is.
  function indicator() {
    const el = $('indicator');
    const text = $('indicator-text');
    const others = [...talking].filter((id) => id !== me.id);
    if (halfDuplex && floor && floor !== me.id) {
      el.dataset.who = 'other';
      text.textContent = parley.t('conv.floorOther', { name: (people.get(floor) || {}).name || '?' });
    } else if (others.length > 0) {
      el.dataset.who = 'other';
      text.textContent = parley.t('conv.speaking', { name: others.map((id) => (people.get(id) || {}).name || '?').join(', ') });
    } else if (talking.has(me.id)) {
      el.dataset.who = 'me';
      text.textContent = parley.t('conv.youSpeaking');
    } else {
      el.dataset.who = 'nobody';
      text.textContent = halfDuplex ? parley.t('conv.floorFree') : (me.typed ? parley.t('conv.typeToSpeak') : parley.t('conv.speakNow'));
    }
  }

  // ---- Translated speech ----
  function onBinary(buf) {
    const v = new DataView(buf);
    if (buf.byteLength < 4 || v.getUint8(0) !== 0x50 || v.getUint8(1) !== 3) return;
    const n = v.getUint8(3);
    if (buf.byteLength < 4 + n) return;
    const from = new TextDecoder().decode(new Uint8Array(buf, 4, n));
    const inner = buf.slice(4 + n);
    const speech = parleyAvatar.parseSpeech(inner);
    if (!speech || from === me.id || !audioCtx) return;
    play(from, speech, inner);
  }

  async function play(from, speech, buf) {
    try {
      const audio = await audioCtx.decodeAudioData(buf.slice(speech.oggOffset));
      const node = audioCtx.createBufferSource();
      node.buffer = audio;
      node.connect(audioCtx.destination);
      const at = Math.max(audioCtx.currentTime + 0.05, playAt);
      // Said before the first sample sounds: the server stops recognising
      // this microphone while its own speaker talks (the echo).
      if (playing++ === 0) send({ type: 'playing', playing: true });
      node.start(at);
      playAt = at + audio.duration;
      const endsAt = performance.now() + (at + audio.duration - audioCtx.currentTime) * 1000;
      node.onended = () => {
        if (--playing === 0) send({ type: 'playing', playing: false });
        bump(stats.speechPlayed, from);
        const key = from + ':' + speech.seq;
        const sourceEnd = sourceEnds.get(key);
        if (sourceEnd !== undefined) {
          sourceEnds.delete(key);
          const lagMs = Math.max(0, Math.round(endsAt - sourceEnd));
          stats.lagReports.push(lagMs);
          send({ type: 'playback', from, seq: speech.seq, lagMs });
        }
      };
    } catch (e) {
      say(parley.t('status.speechFailed', { error: e.message }), true);
    }
  }

  async function unlockAudio() {
    const first = !audioCtx;
    if (first) audioCtx = new AudioContext();
    await audioCtx.resume();
    $('hear').classList.add('hidden');
    if (first) send({ type: 'speech', mode: 'full' });
  }

  // ---- Microphone ----
  async function startMic() {
    try {
      micStream = await navigator.mediaDevices.getUserMedia({
        // The browser's echo cancellation first; the server also stops
        // listening while this page plays (above).
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      $('mic-status').textContent = parley.t('conv.noMic', { error: e.message });
      return;
    }
    micCtx = new AudioContext({ sampleRate: 16000 });
    await micCtx.audioWorklet.addModule('/static/js/capture-worklet.js');
    const src = micCtx.createMediaStreamSource(micStream);
    const node = new AudioWorkletNode(micCtx, 'parley-capture');
    node.port.onmessage = (e) => sendFrame(e.data.samples);
    src.connect(node);
    const mute = micCtx.createGain();
    mute.gain.value = 0;
    node.connect(mute).connect(micCtx.destination);
    micOn = true;
    $('mic').setAttribute('aria-pressed', 'true');
    $('mic').classList.add('on');
    $('mic-status').textContent = parley.t('conv.micOn');
    if (micCtx.sampleRate !== 16000 && ws) ws.close();  // rejoin declaring the real rate
  }

  function stopMic() {
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    if (micCtx) micCtx.close();
    micStream = null;
    micCtx = null;
    micOn = false;
    $('mic').setAttribute('aria-pressed', 'false');
    $('mic').classList.remove('on');
    if (me && !me.typed) $('mic-status').textContent = parley.t('conv.micOff');
  }

  function sendFrame(samples) {
    if (!micOn || !ws || ws.readyState !== WebSocket.OPEN || !wsOpen) return;
    ws.send(parley.audioFrame(++frameSeq, samples));
  }

  // ---- After the end ----
  // The conversation is gone for this page: it offers a new one.
  async function forget() {
    for (const id of ['talk', 'composer', 'people', 'invite-button', 'menu-button', 'menu', 'invite', 'ended']) {
      $(id).classList.add('hidden');
    }
    localStorage.removeItem(storeKey(code));
    say(parley.t('conv.gone'), true);
    code = null;
    history.replaceState(null, '', '/c');
    return showSetup();
  }

  // `left`: this person left (the conversation may go on without them).
  function showEndedCard(left) {
    for (const id of ['say', 'send', 'mic', 'invite-button']) $(id).disabled = true;
    for (const id of ['invite', 'invite-button', 'menu', 'menu-button', 'composer']) $(id).classList.add('hidden');
    $('ended-title').dataset.i18n = left ? 'conv.youLeft' : 'conv.ended';
    $('ended-title').textContent = parley.t($('ended-title').dataset.i18n);
    $('ended').classList.remove('hidden');
    $('ended').scrollIntoView({ block: 'end' });
  }

  // A reload after the end: the conversation is read back from its export,
  // in this page's language, with the way to save it.
  async function showEnded() {
    over = true;
    await parley.useLanguage(me.language);
    document.documentElement.lang = me.language;
    $('setup').classList.add('hidden');
    $('talk').classList.remove('hidden');
    let left = false;
    try {
      const res = await fetch('/api/conversations/' + code + '/export?format=json',
        { headers: { Authorization: 'Bearer ' + me.token } });
      if (res.status === 404 || res.status === 403) {
        // Kept no longer (the retention period), or this person had left.
        return forget();
      }
      if (!res.ok) throw new Error((await res.json()).error.message);
      const all = await res.json();
      $('title').textContent = all.title || parley.t('conv.titleCode', { code: code.slice(0, 3) + ' ' + code.slice(3) });
      people = new Map(all.participants.map((p) => [p.id, p]));
      left = !!(people.get(me.id) || {}).left;
      for (const item of all.items) {
        const id = 'said-' + item.from.id + '-' + item.seq;
        if (document.getElementById(id)) continue;  // shown already, before the page was away
        const li = document.createElement('li');
        li.id = id;
        insertByTime(li, item.atMs);
        fillBubble(li, item.from.id, item.text[me.language] || item.source, item.source);
      }
      say(parley.t(left ? 'conv.youLeft' : 'conv.ended'));
    } catch (e) {
      say(e.message, true);
    }
    showEndedCard(left);
  }

  // ---- Export ----
  async function download(format) {
    try {
      const res = await fetch('/api/conversations/' + code + '/export?format=' + format,
        { headers: { Authorization: 'Bearer ' + me.token } });
      if (!res.ok) throw new Error((await res.json()).error.message);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = 'parley-conversation-' + code + '.' + format;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      say(e.message, true);
    }
  }

  // ---- Wiring ----
  $('setup-form').addEventListener('submit', setup);
  $('language').addEventListener('change', noteTyped);
  $('say-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('say').value.trim();
    if (!text) return;
    send({ type: 'text', text });
    $('say').value = '';
    unlockAudio();
  });
  $('mic').addEventListener('click', async () => {
    unlockAudio();
    if (micOn) stopMic();
    else await startMic();
  });
  $('hear').addEventListener('click', unlockAudio);
  for (const [button, panel] of [['invite-button', 'invite'], ['menu-button', 'menu']]) {
    $(button).addEventListener('click', () => {
      const open = $(panel).classList.toggle('hidden') === false;
      $(button).setAttribute('aria-expanded', String(open));
      if (open) $(panel).scrollIntoView({ block: 'start' });
    });
  }
  $('opt-half-duplex').addEventListener('change', () => send({ type: 'halfDuplex', on: $('opt-half-duplex').checked }));
  $('opt-original').addEventListener('change', () => document.body.classList.toggle('hide-original', !$('opt-original').checked));
  for (const a of document.querySelectorAll('.downloads a')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      download(a.dataset.format);
    });
  }
  $('leave').addEventListener('click', () => {
    send({ type: 'leave' });
    over = true;
    stopMic();
    // Who this page was stays saved: what was said until now can be saved, after a reload too.
    say(parley.t('conv.youLeft'));
    showEndedCard(true);
  });
  $('change-language').addEventListener('click', async () => {
    // A participant speaks one language: changing it joins again under the
    // same name in the new one, then leaves as the old (the conversation so
    // far is read again, in the new language).
    stopMic();
    changing = { ws, me };
    if (ws) ws.onmessage = null;  // what the old self still hears is not shown
    ws = null;  // the old socket's close is not a reconnect
    $('name').value = me.name;
    $('menu').classList.add('hidden');
    await showSetup();
  });

  async function init() {
    await parley.useLanguage(navigator.language);
    if (code) {
      const saved = JSON.parse(localStorage.getItem(storeKey(code)) || 'null');
      try {
        await parley.api('GET', '/api/conversations/' + code);
      } catch (e) {
        if ((e.status === 410 || e.status === 404) && saved && saved.id && saved.token) {
          // Ended (or, just after its end, not yet known as ended): what
          // was said can still be read and saved, if it is kept.
          me = saved;
          return showEnded();
        }
        if (e.status !== 404 && e.status !== 410) {
          // A passing failure (offline, overloaded, rate-limited): who this
          // page is stays saved; try again.
          say(e.status === 429 ? parley.t('conv.busy') : e.message, true);
          setTimeout(() => init().catch((err) => say(err.message, true)), 3000);
          return undefined;
        }
        return forget();
      }
      say('');  // a "too many tries" from an earlier attempt is over
      if (saved && saved.id && saved.token) {
        me = saved;
        await loadLanguages();
        return enter();
      }
    }
    return showSetup();
  }

  init().catch((e) => say(e.message, true));
})();
