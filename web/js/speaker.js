// SPDX-License-Identifier: GPL-3.0-or-later
// The speaker page: create a session, control it, send the microphone, show
// the live transcript and listeners. The microphone goes over WebRTC (WHIP:
// Opus, with the browser's echo cancellation and noise suppression) and
// falls back to 16 kHz PCM16 over the WebSocket when WebRTC fails.
// It never plays translated audio (the room would hear it twice).
'use strict';

(() => {
  const $ = parley.$;
  let code = null, token = null, listenerKey = null, ws = null, seq = 0, audioCtx = null, micStream = null;
  let state = 'CREATED', replaced = false, languageNames = {};
  let generation = null;  // the welcome's speakerGeneration: this page's hold on the session
  let startedAt = null, endedAt = null;  // wall clock: the session timer, from the server when it knows
  let handedOver = null;  // {token, listenerKey} from a "control from another device" link, until accepted
  // 'websocket' until WebRTC is connected; back to it if WebRTC fails.
  let transport = 'websocket', pc = null, whipResource = null, webrtcOffered = false;
  window.parleySpeaker = { get transport() { return transport; } };

  // ---- The sessions this browser controls: code → {token, listenerKey, savedAt} ----
  // Kept on the device so a reload (or a crash of the browser) resumes
  // control; "control from another device" hands the same over in a link.
  const kSaved = 'parley-speaker-sessions';
  function savedSessions() {
    try { return JSON.parse(localStorage.getItem(kSaved) || '{}') || {}; } catch (e) { return {}; }
  }
  function remember(c, fields) {
    const all = savedSessions();
    all[c] = Object.assign(all[c] || {}, fields, { savedAt: Date.now() });
    // The newest ten only: tokens of old sessions are of no use.
    const keep = Object.entries(all).sort((a, b) => b[1].savedAt - a[1].savedAt).slice(0, 10);
    localStorage.setItem(kSaved, JSON.stringify(Object.fromEntries(keep)));
  }
  function forget(c) {
    const all = savedSessions();
    delete all[c];
    localStorage.setItem(kSaved, JSON.stringify(all));
  }

  // On load: a session handed over in the link's fragment, else the newest
  // one this browser controls that has not ended, is taken up again.
  // The session this tab controls (a reload takes it up again); sessions of
  // other tabs or devices are offered, never taken over unasked.
  const kTab = 'parley-speaker-tab';

  // A saved session as the server has it now; null (and forgotten, when
  // the server no longer knows it) otherwise.
  async function savedSessionInfo(c) {
    try {
      return await parley.api('GET', '/api/sessions/' + c);
    } catch (e) {
      if (e.status === 404) forget(c);
      return null;
    }
  }

  async function resume() {
    if (location.hash === '#new') {  // "Create another session": the form, whatever this browser controls
      history.replaceState(null, '', location.pathname + location.search);
      sessionStorage.removeItem(kTab);
      offerOthers([]);
      return false;
    }
    const hash = new URLSearchParams(location.hash.slice(1));
    const all = savedSessions();
    let wanted = null;
    if (parley.sessionCode(hash.get('code')) && hash.get('token')) {
      // Kept only once the server accepts it: a wrong link never replaces
      // a token that works.
      wanted = hash.get('code');
      handedOver = { token: hash.get('token'), listenerKey: hash.get('k') || (all[wanted] || {}).listenerKey || null };
      history.replaceState(null, '', location.pathname + location.search);  // the token leaves the address bar
    }
    const tab = sessionStorage.getItem(kTab);
    const candidates = wanted ? [wanted] : tab && all[tab] ? [tab] : [];
    for (const c of candidates) {
      const info = await savedSessionInfo(c);
      if (!info) continue;
      // An ended session comes back (with its summary) for an hour after the end.
      if (info.state === 'ENDED' && !wanted && Date.now() - info.endedAtMs > 3600 * 1000) continue;
      const held = c === wanted ? handedOver : all[c];
      code = c;
      generation = null;
      token = held.token;
      listenerKey = held.listenerKey;
      webrtcOffered = !!info.webrtc;
      showSession(info);
      $('resumed').classList.remove('hidden');
      loadTranscript();
      if (info.state !== 'ENDED') connect();
      return true;
    }
    offerOthers(candidates);
    return false;
  }

  // Live sessions this browser controls elsewhere (another tab, or before a
  // hand-over): a button each on the create form.
  async function offerOthers(tried) {
    const all = savedSessions();
    const others = Object.keys(all).filter((c) => !tried.includes(c))
      .sort((a, b) => all[b].savedAt - all[a].savedAt).slice(0, 3);
    for (const c of others) {
      const info = await savedSessionInfo(c);
      if (!info) continue;
      if (info.state === 'ENDED') continue;
      const p = document.createElement('p');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = 'Take over session ' + c + ' (' + info.name + ') here';
      b.addEventListener('click', () => {
        sessionStorage.setItem(kTab, c);
        location.reload();
      });
      p.append('You control session ' + c + ' in another tab or on another device. ', b);
      $('resume-offers').appendChild(p);
    }
  }

  // After a reload: the finals so far, from the history (the speaker may read it).
  async function loadTranscript() {
    let after = 0;
    for (let page = 0; page < 40; page++) {
      let r;
      try {
        r = await parley.api('GET', '/api/sessions/' + code + '/history?limit=500&after=' + after, undefined, token);
      } catch (e) {
        return;
      }
      for (const it of r.items) {
        const p = parley.upsertCaption($('transcript'), it.seq, it.source);
        p.classList.toggle('from-script', !!it.fromScript);
      }
      if (!r.more) break;
      after = r.nextAfter;
    }
    const last = $('transcript').lastElementChild;
    if (last) last.scrollIntoView({ block: 'nearest' });
  }

  // This page no longer controls the session (another took over, or the
  // token is wrong): it says so and offers nothing that would not work.
  function lostControl(message) {
    stopMic();
    for (const id of ['start', 'pause', 'resume', 'end', 'type-text', 'type-send', 'mic-test']) $(id).disabled = true;
    $('mic-test').classList.add('hidden');
    $('mic-status').textContent = 'The microphone is off on this page.';
    $('session-error').textContent = message;
    $('resumed').classList.add('hidden');
  }

  async function loadLanguages() {
    const langs = await parley.api('GET', '/api/languages');
    languageNames = Object.assign({}, langs.names);
    for (const list of Object.values(langs.targets)) for (const t of list) languageNames[t.language] = t.name;
    const source = $('source');
    for (const l of langs.speech) source.add(new Option(langs.names[l] || l, l));
    const targets = $('targets');
    for (const t of langs.targets[langs.speech[0]] || []) {
      const id = 't-' + t.language;
      const label = document.createElement('label');
      label.className = 'target-choice';
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = id;
      box.value = t.language;
      label.append(box, ' ', t.name);
      targets.appendChild(label);
    }
  }

  function showSession(info) {
    $('create').classList.add('hidden');
    $('session').classList.remove('hidden');
    $('transcript-card').classList.remove('hidden');
    $('words-card').classList.remove('hidden');
    $('session-name').textContent = info.name;
    $('code').textContent = code;
    // The link carries the listener key, which reads the transcript after the end.
    const link = location.origin + '/listener/' + code + (listenerKey ? '?k=' + encodeURIComponent(listenerKey) : '');
    $('listener-link').href = link;
    $('listener-link').textContent = link;
    $('qr').src = '/qr.svg?data=' + encodeURIComponent(link);
    const control = location.origin + '/speaker#code=' + code + '&token=' + encodeURIComponent(token) +
                    (listenerKey ? '&k=' + encodeURIComponent(listenerKey) : '');
    $('control-link').href = control;
    $('control-link').textContent = control;
    startedAt = info.startedAtMs || null;
    endedAt = info.endedAtMs || null;
    setState(info.state);
  }

  function setState(s) {
    state = s;
    parley.setState($('state'), s);
    $('start').disabled = s !== 'CREATED';
    $('pause').disabled = s !== 'ACTIVE';
    $('resume').disabled = s !== 'PAUSED';
    $('end').disabled = s === 'ENDED';
    $('type-text').disabled = $('type-send').disabled = s !== 'ACTIVE';
    // Before Start the button tests the microphone; after a reload it turns it back on.
    $('mic-test').classList.toggle('hidden', s === 'ENDED' || !!micStream);
    $('mic-test').textContent = s === 'CREATED' ? 'Test the microphone' : 'Turn the microphone on';
    if (!micStream && (s === 'ACTIVE' || s === 'PAUSED')) {
      $('mic-status').textContent = 'The microphone is off on this page: turn it on to go on speaking.';
    }
    if (s === 'ACTIVE' && !startedAt) startedAt = Date.now();
    tick();
    // Labels say what is true now: nothing is sent while paused or after the end.
    if (s === 'PAUSED' && micStream) $('mic-status').textContent = 'Paused: the microphone is not sent to listeners.';
    if (s === 'ACTIVE' && micStream) micStatus();
    if (s === 'ENDED') {
      stopMic();
      $('mic-status').textContent = 'The session has ended; the microphone is off.';
      $('mic-warning').textContent = '';
      $('listener-total').textContent = '0';
      $('listener-langs').textContent = '';
      $('control-elsewhere').classList.add('hidden');
      showSummary();
    }
  }

  // The session timer: how long the session has been live.
  function tick() {
    const started = startedAt;
    if (!started || state === 'CREATED') {
      $('timer-label').textContent = 'Not started yet';
      $('timer').textContent = '';
      return;
    }
    const s = Math.max(0, Math.floor(((state === 'ENDED' ? endedAt || Date.now() : Date.now()) - started) / 1000));
    const pad = (n) => String(n).padStart(2, '0');
    $('timer-label').textContent = state === 'ENDED' ? 'Lasted' : state === 'PAUSED' ? 'Paused; since the start' : 'Live for';
    $('timer').textContent = pad(Math.floor(s / 3600)) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
  }
  setInterval(() => { if (state !== 'ENDED') tick(); }, 1000);

  async function download(href, name) {
    try {
      const res = await fetch(href, { headers: { Authorization: 'Bearer ' + token } });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      $('summary-text').textContent = 'Could not download ' + name + ': ' + e.message;
    }
  }

  // After the end: how long, how much, who listened in which language, and
  // every language's transcript to download.
  async function showSummary() {
    endedAt = endedAt || Date.now();
    let r;
    try {
      r = await parley.api('GET', '/api/sessions/' + code + '/summary' + (listenerKey ? '?key=' + encodeURIComponent(listenerKey) : ''),
                           undefined, token);
    } catch (e) {
      $('summary-text').textContent = 'The summary is not available: ' + e.message;
      $('summary-card').classList.remove('hidden');
      return;
    }
    const minutes = (ms) => (ms < 60000 ? Math.round(ms / 1000) + ' s' : Math.round(ms / 60000) + ' min');
    $('summary-text').textContent = 'Live for ' + minutes(r.durationMs) + ', with ' + minutes(r.speechMs) + ' of speech, in ' +
      r.finals + ' caption' + (r.finals === 1 ? '' : 's') + ', into ' + (r.languages.length - 1) + ' other language' +
      (r.languages.length === 2 ? '' : 's') + '.';
    const rows = $('summary-rows');
    rows.replaceChildren();
    for (const l of r.languages) {
      const tr = document.createElement('tr');
      const cells = [l.name + (l.original ? ' (original)' : ''), String(l.peakListeners), String(l.finals)];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      const links = document.createElement('td');
      for (const format of ['vtt', 'srt', 'json', 'txt'].filter((f) => l.downloads[f])) {
        const href = l.downloads[format];
        const a = document.createElement('a');
        a.href = href;
        // Without the listener key in the link, the token opens it.
        a.addEventListener('click', (ev) => {
          if (listenerKey) return;
          ev.preventDefault();
          download(href, 'parley-' + code + '-' + l.language + '.' + format);
        });
        a.textContent = format.toUpperCase();
        a.setAttribute('download', '');
        a.setAttribute('aria-label', l.name + ' transcript, ' + format.toUpperCase());
        links.appendChild(a);
      }
      if (!links.firstChild) links.textContent = '—';
      tr.appendChild(links);
      rows.appendChild(tr);
    }
    $('summary-card').classList.remove('hidden');
  }

  async function create(ev) {
    ev.preventDefault();
    $('create-error').textContent = '';
    const targets = Array.from(document.querySelectorAll('#targets input:checked')).map((i) => i.value);
    // A server with operator keys answers 401/403 without the right one: ask
    // once, then remember it on this device.
    const typedKey = $('api-key').value.trim();
    if (typedKey) localStorage.setItem('parley-api-key', typedKey);
    const apiKey = localStorage.getItem('parley-api-key') || undefined;
    try {
      const r = await parley.api('POST', '/api/sessions', {
        name: $('name').value, sourceLanguage: $('source').value, avatar: $('avatar').value, targets,
        profanity: $('profanity').checked ? 'mask' : 'off',
      }, apiKey);
      code = r.code;
      generation = null;
      token = r.speakerToken;
      listenerKey = r.listenerKey;
      webrtcOffered = !!r.session.webrtc;
      remember(code, { token, listenerKey });
      sessionStorage.setItem(kTab, code);
      showSession(r.session);
      connect();
    } catch (e) {
      let message = e.message;
      if (e.status === 401 || e.status === 403) {
        if (e.status === 403) localStorage.removeItem('parley-api-key');
        $('api-key-row').classList.remove('hidden');
        $('api-key').focus();
        message = e.status === 401 ? 'This server needs an operator key to create sessions: type it above.'
                                   : 'That operator key is not one of this server’s. Check it and try again.';
      }
      $('create-error').textContent = message;
    }
  }

  function connect() {
    ws = new WebSocket(parley.wsUrl(code));
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      // This page holds the token: it takes the session over from a
      // connection of its own that the server has not yet seen drop.
      // After a lost connection it resumes the generation it held: if another
      // page took over meanwhile, the server says "replaced" instead of
      // handing the session back to this one behind the other's back.
      const join = { type: 'join', protocol: 1, role: 'speaker', code, token, takeover: true,
                     sampleRate: audioCtx ? audioCtx.sampleRate : 16000 };
      if (generation !== null) join.resume = generation;
      ws.send(JSON.stringify(join));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const m = JSON.parse(ev.data);
      if (m.type === 'welcome') {
        generation = m.speakerGeneration === undefined ? null : m.speakerGeneration;
        remember(code, { token, listenerKey });  // accepted: this device controls the session now
        sessionStorage.setItem(kTab, code);
        $('session-error').textContent = '';  // a "join again" from before this welcome is over
        setState(m.state);
        if (audioCtx && !pc) publish();  // WebRTC again, to the node that took us (no await)
      } else if (m.type === 'state') setState(m.state);
      else if (m.type === 'partial') $('partial').textContent = m.text;
      else if (m.type === 'discard') $('partial').textContent = '';
      else if (m.type === 'final') {
        $('partial').textContent = '';
        const p = parley.upsertCaption($('transcript'), m.seq, m.text);
        p.classList.toggle('from-script', !!m.fromScript);
        if (m.fromScript) p.title = 'Shown in the script’s words';
        p.scrollIntoView({ block: 'nearest' });
      } else if (m.type === 'scriptPosition') {
        showPlace(m.sentence);
      } else if (m.type === 'listeners' && state !== 'ENDED') {  // counts sent while listeners leave an ended session
        $('listener-total').textContent = m.total;
        $('listener-langs').textContent = Object.entries(m.byLanguage).filter(([, n]) => n > 0)
          .map(([l, n]) => (languageNames[l] || l) + ': ' + n).join(' · ');
      } else if (m.type === 'error') {
        $('session-error').textContent = m.message;
        if (m.code === 'replaced') {  // another page took over: do not fight back
          replaced = true;
          lostControl('Another page took over this session. Reload this page to take it back.');
        }
        if (m.code === 'permission_denied' || m.code === 'unauthenticated') {
          replaced = true;  // a token that does not open this session: retrying cannot help
          lostControl(handedOver ? 'This link does not control session ' + code + ': ask for a new one.' : m.message);
          if (!handedOver) forget(code);
        }
      }
      else if (m.type === 'sessionEnded') setState('ENDED');
    };
    ws.onclose = () => {
      // The node may be gone, and the WebRTC publisher with it (its failure
      // shows only after ICE gives up, 15 s or more): the microphone goes
      // over the WebSocket from the next welcome until WebRTC is up again.
      if (pc) unpublish();
      if (state !== 'ENDED' && !replaced) setTimeout(connect, 1000);
    };
  }

  async function startMic() {
    if (audioCtx) return;
    try {
      micStream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (e) {
      $('mic-status').textContent = 'No microphone: ' + e.message + '. Allow microphone access and reload.';
      throw e;
    }
    audioCtx = new AudioContext({ sampleRate: 16000 });
    await audioCtx.audioWorklet.addModule('/static/js/capture-worklet.js');
    const src = audioCtx.createMediaStreamSource(micStream);
    const node = new AudioWorkletNode(audioCtx, 'parley-capture');
    node.port.onmessage = (e) => sendFrame(e.data.samples, e.data.peak);
    src.connect(node);
    // The worklet must be pulled by the graph; a muted gain keeps the room quiet.
    const mute = audioCtx.createGain();
    mute.gain.value = 0;
    node.connect(mute).connect(audioCtx.destination);
    micStatus();
    if (ws && ws.readyState === WebSocket.OPEN && audioCtx.sampleRate !== 16000) {
      ws.close();  // rejoin declaring the real rate
    }
    publish();  // no await: audio goes over the WebSocket meanwhile
  }

  function micStatus() {
    if (state === 'CREATED') {
      $('mic-status').textContent = 'Microphone on (a test): speak and watch the level. Nothing is sent until you press Start.';
      return;
    }
    if (state === 'PAUSED') {
      $('mic-status').textContent = 'Paused: the microphone is not sent to listeners.';
      return;
    }
    $('mic-status').textContent = transport === 'webrtc'
      ? 'Microphone on, sent over WebRTC (Opus).'
      : 'Microphone on, sent over the WebSocket (' + audioCtx.sampleRate + ' Hz).';
  }

  // WHIP: the microphone track to /whip/<code>.
  async function publish() {
    if (!webrtcOffered || !window.RTCPeerConnection || pc) return;
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const mine = pc;
    try {
      pc.addTransceiver(micStream.getAudioTracks()[0], { direction: 'sendonly' });
      whipResource = await parley.negotiate(pc, '/whip/' + code, token);
      await parley.connected(pc, 8000);
      if (pc !== mine) return;
      transport = 'webrtc';
      micStatus();
      pc.addEventListener('connectionstatechange', () => {
        if (pc === mine && (pc.connectionState === 'failed' || pc.connectionState === 'closed')) unpublish();
      });
    } catch (e) {
      console.warn('WebRTC unavailable, using the WebSocket:', e.message);
      if (pc === mine) unpublish();
    }
  }

  function unpublish() {
    if (pc) pc.close();
    parley.release(whipResource);
    pc = null;
    whipResource = null;
    transport = 'websocket';
    if (audioCtx) micStatus();
  }

  function stopMic() {
    unpublish();
    if (micStream) micStream.getTracks().forEach((t) => t.stop());
    if (audioCtx) audioCtx.close();
    micStream = null;
    audioCtx = null;
    lastSound = 0;
    clipped = [];
    $('level').style.width = '0';
  }

  // Warnings about the input: silence for 6 s (muted, wrong device) and
  // clipping (5 clipped frames within 3 s).
  let lastSound = 0, clipped = [];
  function checkInput(peak) {
    const now = performance.now();
    if (!lastSound) lastSound = now;
    if (peak > 0.015) lastSound = now;
    if (peak >= 0.98) clipped.push(now);
    clipped = clipped.filter((t) => now - t < 3000);
    let warning = '';
    if (now - lastSound > 6000) {
      warning = 'No sound from the microphone for ' + Math.round((now - lastSound) / 1000) +
                ' s: check that it is not muted, and that the browser uses the right one.';
    } else if (clipped.length >= 5) {
      warning = 'The microphone is too loud and clips: move it away a little or turn its input level down.';
    }
    if ($('mic-warning').textContent !== warning) $('mic-warning').textContent = warning;
  }

  function sendFrame(samples, peak) {
    const level = Math.min(100, Math.round(peak * 140));
    $('level').style.width = level + '%';
    $('meter').setAttribute('aria-valuenow', String(level));
    checkInput(peak);
    if (transport !== 'websocket') return;
    if (!ws || ws.readyState !== WebSocket.OPEN || state !== 'ACTIVE') return;
    ws.send(parley.audioFrame(++seq, samples));
  }

  // ---- The talk's words: vocabulary, glossary, script ----
  let sentences = [], place = -1, wordsPoll = null;

  function describeWords(w) {
    if (w.state === 'none') return 'No vocabulary or script: the recogniser uses its general English.';
    if (w.state === 'building') return 'Learning the talk’s words…';
    if (w.state === 'failed') return 'Could not learn the words: ' + (w.error || 'unknown error');
    const parts = [w.words + ' different words'];
    if (w.newWords) parts.push(w.newWords + ' new to the recogniser' + (w.unpronounced ? ' (' + w.unpronounced + ' left out: no pronunciation)' : ''));
    if (w.scriptWords) parts.push('a script of ' + w.scriptWords + ' words');
    return 'Ready: ' + parts.join(', ') + ' (learnt in ' + (w.buildMs / 1000).toFixed(1) + ' s).';
  }

  function showWords(w) {
    $('words-status').textContent = describeWords(w);
    $('words-summary').textContent = w.state === 'none' ? '' : '· ' + (w.script ? 'script mode' : 'vocabulary');
    sentences = w.script ? w.script.sentences : [];
    renderScript();
    if (w.script) showPlace(w.script.position);
    clearTimeout(wordsPoll);
    if (w.state === 'building') wordsPoll = setTimeout(refreshWords, 800);
  }

  async function refreshWords() {
    try {
      showWords(await parley.api('GET', '/api/sessions/' + code + '/words', undefined, token));
    } catch (e) {
      $('words-status').textContent = e.message;
    }
  }

  function renderScript() {
    const list = $('script-sentences');
    list.replaceChildren();
    sentences.forEach((text, i) => {
      const li = document.createElement('li');
      li.textContent = text;
      li.dataset.i = i;
      li.tabIndex = 0;
      list.appendChild(li);
    });
    $('script-view').classList.toggle('hidden', sentences.length === 0);
  }

  function showPlace(i) {
    place = i;
    for (const li of $('script-sentences').children) {
      const n = Number(li.dataset.i);
      li.classList.toggle('read', n < i);
      li.classList.toggle('here', n === i);
      if (n === i) li.scrollIntoView({ block: 'nearest' });
    }
  }

  async function saveWords() {
    $('words-status').textContent = 'Sending…';
    try {
      const w = await parley.api('PUT', '/api/sessions/' + code + '/words', {
        vocabulary: $('vocabulary').value, glossary: $('glossary').value, script: $('script').value,
      }, token);
      showWords(w);
      if (w.state !== 'none') $('words-edit').open = false;
    } catch (e) {
      $('words-status').textContent = e.message;
    }
  }

  async function scriptCall(body) {
    try {
      showWords(await parley.api('POST', '/api/sessions/' + code + '/script', body, token));
    } catch (e) {
      $('words-status').textContent = e.message;
    }
  }

  function loadFile(input, target) {
    const f = input.files[0];
    if (!f) return;
    if (f.size > 256 * 1024) {
      $('words-status').textContent = f.name + ' is larger than 256 KB; paste the part you need.';
      return;
    }
    f.text().then((t) => { $(target).value = t; });
  }

  async function control(action) {
    $('session-error').textContent = '';
    try {
      if (action === 'start' || action === 'resume') await startMic();
      const r = await parley.api('POST', '/api/sessions/' + code + '/' + action, {}, token);
      setState(r.state);
    } catch (e) {
      $('session-error').textContent = e.message;
    }
  }

  $('create-form').addEventListener('submit', create);
  window.addEventListener('pagehide', () => parley.release(whipResource));
  // Typed captions go out like spoken ones: translated, spoken, kept.
  $('type-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('type-text').value.trim();
    if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: 'text', text }));
    $('type-text').value = '';
  });
  for (const a of ['start', 'pause', 'resume', 'end']) $(a).addEventListener('click', () => control(a));
  $('words-save').addEventListener('click', saveWords);
  $('vocabulary-file').addEventListener('change', () => loadFile($('vocabulary-file'), 'vocabulary'));
  $('script-file').addEventListener('change', () => loadFile($('script-file'), 'script'));
  $('script-sentences').addEventListener('click', (ev) => {
    const li = ev.target.closest('li');
    if (li) scriptCall({ sentence: Number(li.dataset.i) });
  });
  $('script-sentences').addEventListener('keydown', (ev) => {
    const li = ev.target.closest('li');
    if (li && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); scriptCall({ sentence: Number(li.dataset.i) }); }
  });
  $('append-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('append-text').value.trim();
    if (!text) return;
    scriptCall({ append: text }).then(() => { $('append-text').value = ''; });
  });
  $('mic-test').addEventListener('click', async () => {
    $('session-error').textContent = '';
    try {
      await startMic();
      $('mic-test').classList.add('hidden');
    } catch (e) {
      $('session-error').textContent = e.message;
    }
  });
  $('copy-control').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('control-link').href);
      $('copy-control').textContent = 'Copied';
    } catch (e) {
      $('copy-control').textContent = 'Select the link above and copy it';
    }
  });
  $('new-session').addEventListener('click', () => {
    forget(code);
    sessionStorage.removeItem(kTab);
    location.replace('/speaker');
  });
  (async () => {
    await parley.useLanguage('en');  // the speaker page reads in English
    await loadLanguages().catch((e) => { $('create-error').textContent = 'Cannot load languages: ' + e.message; });
    await resume();
  })();
})();
