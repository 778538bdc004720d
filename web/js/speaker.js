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
  let state = 'CREATED', replaced = false;
  // 'websocket' until WebRTC is connected; back to it if WebRTC fails.
  let transport = 'websocket', pc = null, whipResource = null, webrtcOffered = false;
  window.parleySpeaker = { get transport() { return transport; } };

  async function loadLanguages() {
    const langs = await parley.api('GET', '/api/languages');
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
    // Labels say what is true now: nothing is sent while paused or after the end.
    if (s === 'PAUSED' && micStream) $('mic-status').textContent = 'Paused: the microphone is not sent to listeners.';
    if (s === 'ACTIVE' && micStream) micStatus();
    if (s === 'ENDED') {
      stopMic();
      $('mic-status').textContent = 'The session has ended; the microphone is off.';
      $('listener-total').textContent = '0';
      $('listener-langs').textContent = '';
    }
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
      }, apiKey);
      code = r.code;
      token = r.speakerToken;
      listenerKey = r.listenerKey;
      webrtcOffered = !!r.session.webrtc;
      sessionStorage.setItem('parley-speaker', JSON.stringify({ code, token, listenerKey }));
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
    ws = new WebSocket(parley.wsUrl());
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      // This page holds the token: it takes the session over from a
      // connection of its own that the server has not yet seen drop.
      ws.send(JSON.stringify({ type: 'join', protocol: 1, role: 'speaker', code, token, takeover: true,
                               sampleRate: audioCtx ? audioCtx.sampleRate : 16000 }));
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      const m = JSON.parse(ev.data);
      if (m.type === 'welcome' || m.type === 'state') setState(m.state);
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
        $('listener-langs').textContent = Object.entries(m.byLanguage).map(([l, n]) => l + ': ' + n).join(' · ');
      } else if (m.type === 'error') {
        $('session-error').textContent = m.message;
        if (m.code === 'replaced') replaced = true;  // another page took over: do not fight back
      }
      else if (m.type === 'sessionEnded') setState('ENDED');
    };
    ws.onclose = () => {
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
    $('level').style.width = '0';
  }

  function sendFrame(samples, peak) {
    $('level').style.width = Math.min(100, Math.round(peak * 140)) + '%';
    if (transport !== 'websocket') return;
    if (!ws || ws.readyState !== WebSocket.OPEN || state !== 'ACTIVE') return;
    const buf = new ArrayBuffer(4 + samples.length * 2);
    const view = new DataView(buf);
    view.setUint32(0, ++seq, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(4 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    ws.send(buf);
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
  loadLanguages().catch((e) => { $('create-error').textContent = 'Cannot load languages: ' + e.message; });
})();
