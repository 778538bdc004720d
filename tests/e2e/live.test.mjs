// SPDX-License-Identifier: GPL-3.0-or-later
// Browser test of a live session: headless Chromium opens /speaker with real
// LibriVox speech as its microphone, creates and starts a session; two more
// pages follow it in Spanish (on a phone-sized screen) and French, show
// translated captions and play translated speech. Screenshots are kept in
// test-artifacts/e2e/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSession, launchChromium, librivoxMicrophone, openListener as openListenerPage, screenshot, startServer,
         watchPage } from './support.mjs';

const WAIT_MS = 150000;  // bound for anything that needs the speaker to talk
let server, browser, mic;
const problems = [];

before(async () => {
  mic = librivoxMicrophone();
  // WebRTC off: the pages fall back to the WebSocket, which this test covers
  // (webrtc.test.mjs covers WHIP and WHEP).
  server = await startServer(['--rtc', 'off']);
  browser = await launchChromium(mic.path);
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const code = await server.stop();
    if (code !== 0) console.error(server.log());
  }
});

async function openListener(link, lang, viewport) {
  const page = await openListenerPage(browser, link, lang, viewport, problems);
  await page.waitForFunction(() => document.getElementById('listen').disabled);
  return page;
}

// The captions a listener page shows: translated text and the source under it.
function shownCaptions(page) {
  return page.$$eval('#history p', (ps) => ps.map((p) => ({
    seq: Number(p.dataset.seq),
    text: p.firstChild && p.firstChild.nodeType === Node.TEXT_NODE ? p.firstChild.textContent : '',
    source: p.querySelector('.source') ? p.querySelector('.source').textContent : '',
  })));
}

test('speaker page with a real recording; Spanish and French listeners get captions and speech', { timeout: 300000 }, async () => {
  const speakerContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const speaker = await speakerContext.newPage();
  watchPage(speaker, 'speaker', problems);
  const { code, link } = await createSession(speaker, server.url, 'Browser test');
  assert.match(link, new RegExp(`^${server.url}/listener/${code}\\?k=[0-9a-f]{32}$`), 'the link carries the listener key');
  assert.equal(await speaker.evaluate(() => document.getElementById('qr').naturalWidth > 0 ||
                                        new Promise((r) => { document.getElementById('qr').onload = () => r(true); })), true,
               'the QR code of the listener link is shown');

  const es = await openListener(link, 'es', { width: 390, height: 844 });
  const fr = await openListener(link, 'fr', { width: 1000, height: 900 });
  await speaker.waitForFunction(() => document.getElementById('listener-total').textContent === '2', null, { timeout: 20000 });
  const byLanguage = await speaker.textContent('#listener-langs');
  assert.match(byLanguage, /Spanish: 1/);
  assert.match(byLanguage, /French: 1/);

  await speaker.click('#start');
  await speaker.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');
  await es.waitForFunction(() => document.getElementById('status').textContent === 'En directo.', null, { timeout: 10000 });
  assert.match(await speaker.textContent('#mic-status'), /Microphone on/);

  // Both listeners get finals in their language and play translated speech.
  const enough = () => window.parleyListener.finals >= 2 && window.parleyListener.speechPlayed >= 1;
  await Promise.all([es, fr].map((p) => p.waitForFunction(enough, null, { timeout: WAIT_MS, polling: 250 })));
  await speaker.waitForFunction(() => document.querySelectorAll('#transcript p').length >= 2, null, { timeout: WAIT_MS });
  await Promise.all([screenshot(speaker, 'speaker-live'), screenshot(es, 'listener-es-phone'), screenshot(fr, 'listener-fr')]);

  for (const [page, lang] of [[es, 'es'], [fr, 'fr']]) {
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
    const stats = await page.evaluate(() => ({ ...window.parleyListener }));
    assert.ok(stats.speechDecoded >= 1 && stats.speechPlayed >= 1, `${lang}: translated speech played (${JSON.stringify(stats)})`);
    assert.ok(stats.partials >= 1, `${lang}: live partial captions arrived (${JSON.stringify(stats)})`);
    const shown = await shownCaptions(page);
    assert.ok(shown.length >= 2, `${lang}: at least two captions shown`);
    // What the page shows is the server's translation into this language, with
    // the English source under it.
    const res = await fetch(`${server.url}/api/sessions/${code}/transcript?format=json&lang=${lang}`);
    const items = (await res.json()).items;
    for (const c of shown) {
      const item = items.find((i) => i.seq === c.seq);
      assert.ok(item, `${lang}: caption ${c.seq} is in the transcript`);
      assert.equal(c.text, item.text);
      assert.equal(c.source, item.source);
      assert.notEqual(c.text.toLowerCase(), c.source.toLowerCase(), `${lang}: caption ${c.seq} is translated`);
    }
  }
  // Each page reported when it had played a translation, after its source
  // speech ended, and the server counts those reports per language.
  for (const [page, lang] of [[es, 'es'], [fr, 'fr']]) {
    const reports = await page.evaluate(() => window.parleyListener.lagReports.slice());
    assert.ok(reports.length >= 1, `${lang}: the page reported its playback`);
    for (const ms of reports) assert.ok(ms > 0 && ms < 60000, `${lang}: a playback lag of ${ms} ms is plausible`);
    // The report travels over the WebSocket: wait (bounded) for it to land.
    let counted = 0;
    for (let i = 0; i < 50 && counted < 1; i++) {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const m = metrics.match(new RegExp(`parley_speech_lag_seconds_count\\{language="${lang}",edge="reported"\\} (\\d+)`));
      counted = m ? Number(m[1]) : 0;
      if (counted < 1) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(counted >= 1, `${lang}: /metrics counts the reports`);
  }
  const [esCaptions, frCaptions] = [await shownCaptions(es), await shownCaptions(fr)];
  const common = esCaptions.filter((c) => frCaptions.some((f) => f.seq === c.seq));
  assert.ok(common.length >= 1);
  for (const c of common) {
    const f = frCaptions.find((x) => x.seq === c.seq);
    assert.equal(c.source, f.source, 'both languages translate the same utterance');
    assert.notEqual(c.text, f.text, 'Spanish and French captions differ');
  }
  // The line being spoken sits below the finished ones, where the next final will appear.
  assert.equal(await speaker.evaluate(() => Boolean(document.getElementById('transcript')
    .compareDocumentPosition(document.getElementById('partial')) & Node.DOCUMENT_POSITION_FOLLOWING)), true);
  // The speaker page shows the English transcript and never decodes speech.
  const transcript = await speaker.$$eval('#transcript p', (ps) => ps.map((p) => p.textContent));
  assert.ok(transcript.every((t) => t.trim().length > 0));
  assert.equal(await speaker.evaluate(() => typeof window.parleyListener), 'undefined');

  // A typed caption from the speaker page reaches the listeners, translated.
  const typed = 'The coffee break ends at three.';
  await speaker.fill('#type-text', typed);
  await speaker.click('#type-send');
  assert.equal(await speaker.inputValue('#type-text'), '', 'the field clears after sending');
  await es.waitForFunction((t) => Array.from(document.querySelectorAll('#history .source')).some((s) => s.textContent === t),
                           typed, { timeout: 20000 });
  const typedCaption = (await shownCaptions(es)).find((c) => c.source === typed);
  assert.notEqual(typedCaption.text, typed, 'translated into Spanish');

  // Pause: both listeners see it; then end: both are told and stop reconnecting.
  await speaker.click('#pause');
  await Promise.all([es, fr].map((p) => p.waitForFunction(() => document.getElementById('state').dataset.state === 'PAUSED')));
  assert.match(await speaker.textContent('#mic-status'), /Paused: the microphone is not sent/);
  assert.match(await es.textContent('#status'), /pausa/, 'in Spanish');
  await speaker.click('#end');
  await Promise.all([es, fr].map((p) => p.waitForFunction(() => document.getElementById('state').dataset.state === 'ENDED')));
  assert.match(await es.textContent('#status'), /terminado/, 'in Spanish');
  // Labels that stay true after the end.
  assert.doesNotMatch(await speaker.textContent('#mic-status'), /Microphone on/);
  assert.equal(await speaker.textContent('#listener-total'), '0');
  assert.equal(await es.isVisible('#listen'), false, 'no offer to hear an ended session');
  await Promise.all([screenshot(speaker, 'speaker-ended'), screenshot(es, 'listener-es-ended')]);

  // Afterwards the transcript opens from the listener link, and from the bare
  // code only with a clear word on why not.
  const later = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await later.goto(`${link}&lang=es`);
  await later.waitForFunction(() => document.querySelectorAll('#history p').length >= 2, null, { timeout: 20000 });
  await screenshot(later, 'listener-es-transcript-after-end');
  // Another language of the ended session, chosen on the page: its transcript replaces the Spanish one.
  const spanish = (await shownCaptions(later)).map((c) => c.text);
  await later.selectOption('#language', 'fr');
  await later.waitForFunction((es) => {
    const shown = Array.from(document.querySelectorAll('#history p')).map((p) => p.firstChild ? p.firstChild.textContent : '');
    // (A caption can read the same in both languages, a name say: most do not.)
    return document.documentElement.lang === 'fr' && shown.length >= 2 && shown.some((t) => !es.includes(t));
  }, spanish, { timeout: 20000 });
  assert.doesNotMatch(await later.textContent('#status'), /no live session/);
  await screenshot(later, 'listener-fr-transcript-after-end');
  // A language the session does not offer is said so, with what it offers.
  const german = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  watchPage(german, 'listener-de', problems);
  await german.goto(`${link}&lang=de`);
  await german.waitForFunction(() => /not offered/.test(document.getElementById('notice').textContent), null,
                               { timeout: 20000 });
  assert.match(await german.textContent('#notice'), /“de” is not offered.*showing English \(original\).*Offered: .*French/);
  assert.ok(await german.isVisible('#notice'), 'the notice is shown');
  assert.notEqual(await german.inputValue('#language'), 'de');
  await screenshot(german, 'listener-language-not-offered');
  const stranger = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await stranger.goto(`${server.url}/listener/${code}?lang=es`);
  await stranger.waitForFunction(() => /privada/.test(document.getElementById('status').textContent), null,
                                 { timeout: 20000 });
  assert.equal(await stranger.evaluate(() => document.querySelectorAll('#history p').length), 0);
  await screenshot(stranger, 'listener-private-transcript');

  assert.deepEqual(problems, [], 'no page errors');
});

test('a wrong code shows a clear message on the listener page', { timeout: 60000 }, async () => {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const res = await page.goto(`${server.url}/listener/000000`);
  assert.equal(res.status(), 404);
  const body = await page.textContent('body');
  assert.match(body, /no session|not found|unknown/i);
  await screenshot(page, 'listener-wrong-code');
  // A hostile "code" is shown as text, never run as markup.
  await page.goto(`${server.url}/listener/${encodeURIComponent('<img src=x onerror=window.pwned=1>')}`);
  assert.equal(await page.evaluate(() => document.querySelectorAll('img').length), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
});
