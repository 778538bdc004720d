// SPDX-License-Identifier: GPL-3.0-or-later
// Browser test of WebRTC: the speaker page publishes real LibriVox speech
// (Chromium's fake microphone) over WHIP; a Spanish listener on a phone-sized
// screen and a French listener play their language's translated speech over
// WHEP and show captions from the WebSocket. Ending the session closes every
// peer. Runs in a private network namespace (ctest wraps it in
// tests/tools/in-private-net): ICE meets on 127.0.0.2 there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSession, launchChromium, librivoxMicrophone, openListener as openListenerPage, screenshot, startServer,
         watchPage } from './support.mjs';

const WAIT_MS = 150000;  // bound for anything that needs the speaker to talk
let server, browser, mic;
const problems = [];

before(async () => {
  mic = librivoxMicrophone();
  // A vanished player is closed after 15 s without RTCP reports (the least
  // the server allows: browsers report about every 5 s).
  server = await startServer(['--rtc-timeout-s', '5']);
  browser = await launchChromium(mic.path, ['--allow-loopback-in-peer-connection']);
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const code = await server.stop();
    if (code !== 0) console.error(server.log());
  }
});

async function metrics() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(parley_webrtc_[^ ]+) ([0-9.e+-]+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function eventually(what, fn, ms) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} (last: ${JSON.stringify(last)})`);
}

async function openListener(link, lang, viewport) {
  const page = await openListenerPage(browser, link, lang, viewport, problems);
  await page.waitForFunction(() => window.parleyListener.transport === 'webrtc', null, { timeout: 20000 });
  return page;
}

test('speaker publishes over WHIP; Spanish and French listeners play translated speech over WHEP', { timeout: 300000 }, async () => {
  const speakerContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const speaker = await speakerContext.newPage();
  watchPage(speaker, 'speaker', problems);
  const { code, link } = await createSession(speaker, server.url, 'WebRTC test');

  const es = await openListener(link, 'es', { width: 390, height: 844 });
  const fr = await openListener(link, 'fr', { width: 1000, height: 900 });
  // One shared encoding per language, one player each.
  await eventually('two WHEP players on two tracks', async () => {
    const m = await metrics();
    return m['parley_webrtc_peers{kind="whep"}'] === 2 && m.parley_webrtc_tracks === 2 && m;
  }, 10000);

  // The avatar's mouth, sampled on the Spanish page: over WebRTC each
  // timeline starts when its audio starts sounding.
  await es.evaluate(() => {
    window.seenVisemes = new Set();
    setInterval(() => window.seenVisemes.add(window.parleyListener.avatar.shown()), 30);
  });

  await speaker.click('#start');
  await speaker.waitForFunction(() => window.parleySpeaker.transport === 'webrtc', null, { timeout: 20000 });
  assert.match(await speaker.textContent('#mic-status'), /WebRTC/);
  assert.equal((await metrics())['parley_webrtc_peers{kind="whip"}'], 1);

  // Captions in each language arrive; translated speech sounds over WebRTC.
  const heard = async (page) => {
    const rtc = await page.evaluate(() => window.parleyListener.rtcStats());
    const finals = await page.evaluate(() => window.parleyListener.finals);
    return finals >= 2 && rtc && rtc.packetsReceived > 200 && rtc.totalAudioEnergy > 0.01 && { finals, rtc };
  };
  const [esHeard, frHeard] = await Promise.all([
    eventually('Spanish captions and audible WHEP speech', () => heard(es), WAIT_MS),
    eventually('French captions and audible WHEP speech', () => heard(fr), WAIT_MS),
  ]);
  console.log('es', JSON.stringify(esHeard), 'fr', JSON.stringify(frHeard));
  const mouth = await es.evaluate(() => ({ seen: [...window.seenVisemes],
                                            scheduled: window.parleyListener.avatar.utterances.length }));
  assert.ok(mouth.scheduled >= 1, 'lip-sync timelines were started by the WebRTC audio');
  assert.ok(mouth.seen.filter((v) => v !== 'sil').length >= 3, `the mouth moved: ${mouth.seen}`);
  // The WebSocket's speech messages are not played as well (no double audio),
  // and while WebRTC plays they carry the timelines without the Ogg audio.
  for (const p of [es, fr]) {
    const s = await p.evaluate(() => ({ ...window.parleyListener }));
    assert.equal(s.speechPlayed, 0, 'speech plays once, over WebRTC');
    assert.ok(s.speechTimelineOnly >= 1, `speech messages came without audio while WebRTC played (${JSON.stringify(s)})`);
  }

  // The captions are translations of what the speaker said, in each language.
  const history = await (await fetch(`${server.url}/api/sessions/${code}/history`)).json();
  assert.ok(history.items.length >= 2, 'the server kept the finals');
  const sources = history.items.map((i) => i.source).join(' ');
  assert.ok(sources.split(/\s+/).length >= 8, `the WHIP audio was transcribed: "${sources}"`);
  for (const [page, lang] of [[es, 'es'], [fr, 'fr']]) {
    const shown = await page.$$eval('#history p', (ps) => ps.map((p) => p.firstChild ? p.firstChild.textContent : ''));
    const expected = history.items.filter((i) => i.translations[lang]).map((i) => i.translations[lang]);
    assert.ok(shown.length >= 2, `${lang}: captions shown`);
    for (const text of shown.slice(0, 2)) assert.ok(expected.includes(text), `${lang}: "${text}" is a stored translation`);
  }
  await screenshot(speaker, 'webrtc-speaker');
  await screenshot(es, 'webrtc-listener-es-phone');
  await screenshot(fr, 'webrtc-listener-fr');

  // A listener that goes away (its tab closed) is cleaned up: by its DELETE
  // if the page got to send it, else by the RTCP watchdog. Its language's
  // shared encoding stops with its last player.
  await fr.context().close();
  await eventually('the French player and track gone', async () => {
    const m = await metrics();
    return m['parley_webrtc_peers{kind="whep"}'] === 1 && m.parley_webrtc_tracks === 1 && m;
  }, 30000);

  // Ending the session closes every peer and every shared encoding.
  await speaker.click('#end');
  await speaker.waitForFunction(() => document.getElementById('state').dataset.state === 'ENDED');
  const closed = await eventually('peers and tracks gone after the end', async () => {
    const m = await metrics();
    return m['parley_webrtc_peers{kind="whep"}'] === 0 && m['parley_webrtc_peers{kind="whip"}'] === 0 &&
      m.parley_webrtc_tracks === 0 && m;
  }, 15000);
  assert.equal(closed['parley_webrtc_peers_closed_total{reason="failed"}'], 0, 'no peer failed');
  assert.deepEqual(problems, [], 'no page errors');
});
