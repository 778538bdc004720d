// SPDX-License-Identifier: GPL-3.0-or-later
// Conversation mode in real browsers, on phones: Alice speaks English (a real
// LibriVox recording as her microphone), Bea types Spanish (no Spanish
// recogniser here), Fleur joins in French half-way and reads the
// conversation so far in French. Each reads and hears the others in their
// own language. Alice's microphone also hears her own loudspeaker (the
// echo): what her page plays is mixed into what it captures, and the
// server must not take it for her words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import {
  LIBRIVOX, launchChromium, removeScreenshots, screenshot, startServer, watchPage, writeWav,
} from './support.mjs';

const PHONE = { width: 390, height: 844 };

// One LibriVox sentence, then a long silence: after it, Alice says nothing,
// so any later final of hers would be the echo.
function aliceMicrophone() {
  const buf = readFileSync(joinPath(LIBRIVOX, 'sense_and_sensibility_01_austen_64kb-0870.wav'));
  let at = 12, data = null, rate = 16000;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4), size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') rate = buf.readUInt32LE(at + 12);
    if (id === 'data') data = buf.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  const seconds = data.length / 2 / rate;
  return { path: writeWav(Buffer.concat([data, Buffer.alloc(rate * 2 * 150)]), rate, 'alice.wav'), seconds };
}

// The room, for Alice's page: every sound the page plays also reaches its
// microphone (mixed with the recording), as a loudspeaker's does.
// window.__lastPlayed keeps the last sound, for the control: played again
// by the test itself, unknown to the server, it must be heard as Alice.
function echoRoom() {
  const connect = AudioNode.prototype.connect;
  let echoIn = null;
  const played = [];
  AudioNode.prototype.connect = function (dest, ...rest) {
    const out = connect.call(this, dest, ...rest);
    if (dest instanceof AudioDestinationNode && this instanceof AudioBufferSourceNode) {
      const ctx = this.context;
      if (!ctx.__echo) {
        ctx.__echo = ctx.createMediaStreamDestination();
        played.push(ctx.__echo.stream);
        if (echoIn) echoIn(ctx.__echo.stream);
      }
      connect.call(this, ctx.__echo);
      if (this.buffer) window.__lastPlayed = { ctx, buffer: this.buffer };
    }
    return out;
  };
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const real = await getUserMedia(constraints);
    const room = new AudioContext({ sampleRate: 48000 });
    const mic = room.createMediaStreamDestination();
    room.createMediaStreamSource(real).connect(mic);
    echoIn = (stream) => room.createMediaStreamSource(stream).connect(mic);
    played.forEach(echoIn);
    window.__micStartedAt = performance.now();
    return mic.stream;
  };
}

async function phone(browser, name, problems) {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  watchPage(page, name, problems);
  return page;
}

const stats = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.parleyConversation.stats)));
const myId = (page) => page.evaluate(() => window.parleyConversation.me().id);

async function join(page, url, name, language) {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#language option').length > 0);
  await page.fill('#name', name);
  await page.selectOption('#language', language);
  await page.click('#setup-submit');
  await page.waitForFunction(() => window.parleyConversation.me() && !document.getElementById('talk').classList.contains('hidden'));
  await page.waitForFunction(() => document.getElementById('people').children.length > 0);
}

// Bubbles of `from` on `page`: their words and original.
const bubbles = (page, from) => page.evaluate((id) => Array.from(document.querySelectorAll(`[id^="said-${id}-"]`)).map((li) => ({
  words: li.querySelector('.words').textContent,
  lang: li.querySelector('.words').lang,
  source: li.querySelector('.source') ? li.querySelector('.source').textContent : null,
})), from);

async function metric(server, name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : NaN;
}

test('two phones talk across languages; a third joins and reads it all in French; the echo is not heard', { timeout: 540000 }, async () => {
  removeScreenshots('conversation-');
  const server = await startServer();
  const mic = aliceMicrophone();
  const aliceBrowser = await launchChromium(mic.path, ['--autoplay-policy=no-user-gesture-required']);
  const othersBrowser = await launchChromium(null, ['--autoplay-policy=no-user-gesture-required']);
  const problems = [];
  try {
    // Alice starts a conversation in English.
    const alice = await phone(aliceBrowser, 'alice', problems);
    await alice.addInitScript(echoRoom);
    await join(alice, `${server.url}/c`, 'Alice', 'en');
    const url = alice.url();
    assert.match(url, /\/c\/\d{6}$/, 'the page moved to the conversation’s own address');
    assert.equal(await alice.isVisible('#invite'), true, 'alone, Alice sees how to invite');
    assert.match(await alice.getAttribute('#qr', 'src'), /^\/qr\.svg\?data=/);

    // Bea joins in Spanish on her phone: she types (the page says why).
    const bea = await phone(othersBrowser, 'bea', problems);
    await bea.goto(url);
    await bea.waitForFunction(() => document.querySelectorAll('#language option').length > 0);
    await bea.selectOption('#language', 'es');
    assert.match(await bea.textContent('#typed-note'), /cannot be recognised/, 'a language without a recogniser says so before joining');
    await join(bea, url, 'Bea', 'es');
    assert.equal(await bea.isVisible('#mic'), false, 'no microphone button for a typed language');
    assert.match(await bea.textContent('#mic-status'), /reconoce|escribe/i, 'told plainly, in Spanish');
    await bea.click('#hear');
    await alice.waitForFunction(() => document.querySelector('#history .note') !== null);
    assert.match(await alice.textContent('#history'), /Bea/, 'Alice is told Bea joined');
    const aliceId = await myId(alice), beaId = await myId(bea);

    // Alice speaks: Bea reads her in Spanish, with the English below, and hears Spanish speech.
    await alice.click('#mic');
    await alice.waitForFunction(() => window.__micStartedAt !== undefined);
    await bea.waitForFunction((id) => (window.parleyConversation.stats.finals[id] || 0) >= 1, aliceId, { timeout: 90000 });
    await bea.waitForFunction((id) => (window.parleyConversation.stats.speechPlayed[id] || 0) >= 1, aliceId, { timeout: 60000 });
    const fromAlice = await bubbles(bea, aliceId);
    assert.ok(fromAlice.length >= 1);
    assert.equal(fromAlice[0].lang, 'es');
    assert.ok(fromAlice[0].source && fromAlice[0].source.length > 0, 'the English original is under the Spanish');
    assert.notEqual(fromAlice[0].words, fromAlice[0].source, 'translated');
    // The recording ends; Alice's own finals settle.
    await alice.waitForFunction((s) => performance.now() - window.__micStartedAt > (s + 3) * 1000, mic.seconds, { timeout: 60000 });
    let settled = (await stats(alice)).finals[aliceId] || 0;
    for (let quiet = 0; quiet < 3;) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = (await stats(alice)).finals[aliceId] || 0;
      quiet = now === settled ? quiet + 1 : 0;
      settled = now;
    }
    assert.ok(settled >= 1, 'Alice reads her own words');
    const speakingBefore = (await stats(alice)).speakingStarts[aliceId] || 0;

    // Bea types Spanish: Alice reads English and hears English speech, which
    // her microphone also hears. No final, not even an utterance, comes of it.
    const mutedBefore = await metric(server, 'parley_conversation_muted_seconds_total{why="echo"}');
    await bea.fill('#say', 'Buenos días. Me alegro mucho de conocerte, ¿de dónde eres?');
    await bea.press('#say', 'Enter');
    await alice.waitForFunction((id) => (window.parleyConversation.stats.speechPlayed[id] || 0) >= 1, beaId, { timeout: 30000 });
    const fromBea = await bubbles(alice, beaId);
    assert.equal(fromBea.length, 1);
    assert.equal(fromBea[0].lang, 'en');
    assert.match(fromBea[0].source, /Buenos días/);
    assert.notEqual(fromBea[0].words, fromBea[0].source);
    await new Promise((r) => setTimeout(r, 3000));  // what the echo could have become has had time to arrive
    const after = await stats(alice);
    assert.equal(after.finals[aliceId] || 0, settled, 'no final of Alice’s from her loudspeaker');
    assert.equal(after.speakingStarts[aliceId] || 0, speakingBefore, 'not even an utterance opened');
    const muted = await metric(server, 'parley_conversation_muted_seconds_total{why="echo"}');
    assert.ok(muted > mutedBefore + 1, `the echo was muted (${mutedBefore} → ${muted} s)`);

    // The control: the same sound played in the same room, but not by the
    // page (the server cannot know): it is heard as Alice, so the room above
    // really carried the echo to her microphone.
    await alice.evaluate(() => {
      const { ctx, buffer } = window.__lastPlayed;
      const node = ctx.createBufferSource();
      node.buffer = buffer;
      node.connect(ctx.destination);
      node.start();
    });
    await alice.waitForFunction(([id, n]) => (window.parleyConversation.stats.speakingStarts[id] || 0) > n,
      [aliceId, speakingBefore], { timeout: 20000 });
    await new Promise((r) => setTimeout(r, 3000));

    // Fleur joins in French half-way: the conversation so far, in French, in order.
    const fleur = await phone(othersBrowser, 'fleur', problems);
    await join(fleur, url, 'Fleur', 'fr');
    await fleur.waitForFunction(([a, b]) => (window.parleyConversation.stats.finals[a] || 0) >= 1 &&
      (window.parleyConversation.stats.finals[b] || 0) >= 1, [aliceId, beaId], { timeout: 30000 });
    const beaInFrench = await bubbles(fleur, beaId);
    assert.equal(beaInFrench[0].lang, 'fr');
    assert.match(beaInFrench[0].source, /Buenos días/);
    assert.notEqual(beaInFrench[0].words, beaInFrench[0].source, 'Bea’s Spanish, in French');
    const aliceInFrench = await bubbles(fleur, aliceId);
    assert.notEqual(aliceInFrench[0].words, aliceInFrench[0].source, 'Alice’s English, in French');
    const order = await fleur.evaluate(() => Array.from(document.querySelectorAll('#history li[id^="said-"]')).map((li) => Number(li.dataset.at)));
    assert.deepEqual(order, [...order].sort((x, y) => x - y), 'the history is in the order it was said');
    await alice.waitForFunction(() => /Fleur/.test(document.getElementById('people').textContent));
    await bea.waitForFunction(() => /Fleur/.test(document.getElementById('people').textContent));

    // Fleur answers; both others read her in their language.
    await fleur.fill('#say', 'Bonjour à tous, je suis très contente d’être ici.');
    await fleur.press('#say', 'Enter');
    const fleurId = await myId(fleur);
    await alice.waitForFunction((id) => (window.parleyConversation.stats.finals[id] || 0) >= 1, fleurId, { timeout: 20000 });
    await bea.waitForFunction((id) => (window.parleyConversation.stats.finals[id] || 0) >= 1, fleurId, { timeout: 20000 });
    assert.equal((await bubbles(bea, fleurId))[0].lang, 'es');

    // A reload: Bea comes back as herself, with the whole conversation.
    const beforeReload = (await bubbles(bea, aliceId)).length;
    await bea.reload();
    await bea.waitForFunction(([a, n]) => window.parleyConversation && (window.parleyConversation.stats.finals[a] || 0) >= n,
      [aliceId, beforeReload], { timeout: 20000 });
    assert.equal(await myId(bea), beaId, 'the same participant after a reload');
    await alice.waitForFunction(() => /Bea/.test(Array.from(document.querySelectorAll('#history .note')).map((n) => n.textContent).join(' ')));

    await screenshot(alice, 'conversation-alice-en');
    await screenshot(bea, 'conversation-bea-es');
    await screenshot(fleur, 'conversation-fleur-fr');

    // The whole conversation, every language, for a participant.
    const token = await alice.evaluate(() => window.parleyConversation.me().token);
    const code = url.split('/').pop();
    const exported = await (await fetch(`${server.url}/api/conversations/${code}/export?format=json`,
      { headers: { Authorization: `Bearer ${token}` } })).json();
    const beaFirst = exported.items.find((i) => i.from.id === beaId);
    assert.ok(beaFirst.text.es && beaFirst.text.en && beaFirst.text.fr, 'Bea’s words in Spanish, English and French');
    assert.ok(exported.items.some((i) => i.from.id === aliceId && i.text.es && i.text.fr));
    const vtt = await (await fetch(`${server.url}/api/conversations/${code}/export?format=vtt&lang=fr`,
      { headers: { Authorization: `Bearer ${token}` } })).text();
    assert.match(vtt, /^WEBVTT/);
    assert.match(vtt, /Bea: /);
    const denied = await fetch(`${server.url}/api/conversations/${code}/export?format=json`);
    assert.equal(denied.status, 401, 'the export is for participants');
    for (const [from, to] of [['es', 'en'], ['en', 'es'], ['fr', 'es'], ['fr', 'en']]) {
      const n = await metric(server, `parley_direction_latency_seconds_count{source="${from}",target="${to}",edge="caption"}`);
      assert.ok(n >= 1, `latency is measured per direction (${from}→${to}: ${n})`);
    }
    assert.deepEqual(problems, []);

    // The end: every page says so and offers the export, which still works
    // once the server has let the conversation go (read from the store),
    // and a reload shows the conversation read back, in the page's language.
    // Fleur leaves: her page says so and still offers what was said until then.
    const fleurToken = await fleur.evaluate(() => window.parleyConversation.me().token);
    await fleur.click('#menu-button');
    await fleur.click('#leave');
    await fleur.waitForSelector('#ended:not(.hidden)', { timeout: 10000 });
    assert.equal(await fleur.textContent('#ended-title'), 'Vous avez quitté la conversation.');
    await alice.waitForFunction(() => /Fleur/.test(Array.from(document.querySelectorAll('#history .note'))
      .map((n) => n.textContent).slice(-1).join(' ')));
    // Once her session has ended, a page that reloads is not told about it as if it were an error.
    const activeBy = Date.now() + 20000;
    while (await metric(server, 'parley_sessions{state="ACTIVE"}') > 2) {
      assert.ok(Date.now() < activeBy, 'the session of who left ends');
      await new Promise((r) => setTimeout(r, 200));
    }
    const beaBubbles = (await bubbles(bea, aliceId)).length;
    await bea.reload();
    await bea.waitForFunction(([a, n]) => window.parleyConversation && (window.parleyConversation.stats.finals[a] || 0) >= n,
      [aliceId, beaBubbles], { timeout: 20000 });
    assert.equal(await bea.textContent('#notice'), '', 'no error on Bea’s page');
    const ended = await fetch(`${server.url}/api/conversations/${code}/end`,
      { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(ended.status, 200);
    for (const page of [alice, bea, fleur]) {
      await page.waitForSelector('#ended:not(.hidden)', { timeout: 10000 });
      assert.equal(await page.locator('#say').isDisabled(), true, 'nothing more can be said');
    }
    const deadline = Date.now() + 20000;
    while (await metric(server, 'parley_conversations') > 0) {
      assert.ok(Date.now() < deadline, 'the ended conversation is let go');
      await new Promise((r) => setTimeout(r, 200));
    }
    const gone = await fetch(`${server.url}/api/conversations/${code}`);
    assert.equal(gone.status, 410, 'an ended conversation says so');
    const afterEnd = await (await fetch(`${server.url}/api/conversations/${code}/export?format=json`,
      { headers: { Authorization: `Bearer ${token}` } })).json();
    assert.equal(afterEnd.items.length, exported.items.length, 'the whole conversation, after the end');
    assert.ok(afterEnd.items.find((i) => i.from.id === beaId).text.fr, 'in every language');
    assert.deepEqual(afterEnd.participants.map((p) => p.name).sort(), ['Alice', 'Bea', 'Fleur']);
    assert.equal((await fetch(`${server.url}/api/conversations/${code}/export?format=json`,
      { headers: { Authorization: 'Bearer not-a-participant' } })).status, 403);
    const fleurs = await (await fetch(`${server.url}/api/conversations/${code}/export?format=json`,
      { headers: { Authorization: `Bearer ${fleurToken}` } })).json();
    assert.equal(fleurs.items.length, afterEnd.items.length, 'Fleur reads what was said until she left: all of it');
    await bea.reload();
    await bea.waitForSelector('#ended:not(.hidden)', { timeout: 10000 });
    await bea.waitForFunction((n) => document.querySelectorAll('#history .bubble').length >= n, beaBubbles);
    assert.equal((await bubbles(bea, aliceId))[0].lang, 'es', 'read back in Bea’s language');
    await screenshot(bea, 'conversation-ended-es');
    // The browser logs the page's own 404 and the lookup's 410 after the reload: nothing else.
    assert.deepEqual(problems.filter((p) => !/Failed to load resource.*\b(404|410)\b/.test(p)), []);
  } finally {
    await aliceBrowser.close();
    await othersBrowser.close();
    await server.stop();
  }
});
