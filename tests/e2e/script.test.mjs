// SPDX-License-Identifier: GPL-3.0-or-later
// Browser test of script mode: the speaker pastes the text they will read
// (Jane Austen's sentences, which the LibriVox reader of
// pocketsphinx-testdata reads through the fake microphone), starts, and a
// Spanish listener on a phone reads the script's own punctuated sentences,
// translated, with the original under each. The speaker's page shows its
// place in the script. Screenshots go to test-artifacts/e2e/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createSession, launchChromium, librivoxMicrophone, openListener, screenshot, startServer,
         watchPage } from './support.mjs';

// What the five LibriVox passages read, as the novel prints them.
const SCRIPT = 'And Mr. John Dashwood had then leisure to consider how much there might be prudently in his ' +
  'power to do for them. He was not an ill-disposed young man, unless to be rather cold-hearted and rather ' +
  'selfish is to be ill-disposed: but he was, in general, well respected; for he conducted himself with ' +
  'propriety in the discharge of his ordinary duties. Had he married a more amiable woman, he might have ' +
  'been made still more respectable than he was; he might even have been made amiable himself.';

let server, browser, mic;
const problems = [];

before(async () => {
  mic = librivoxMicrophone();
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

test('the speaker pastes a script; the listener reads its punctuated sentences in Spanish', { timeout: 300000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const speaker = await context.newPage();
  watchPage(speaker, 'speaker', problems);
  const { link } = await createSession(speaker, server.url, 'Reading');

  await speaker.click('#words-edit summary');
  await speaker.fill('#script', SCRIPT);
  await speaker.click('#words-save');
  await speaker.waitForFunction(() => /^Ready/.test(document.getElementById('words-status').textContent), null,
                                { timeout: 60000 });
  assert.match(await speaker.textContent('#words-status'), /a script of \d+ words/);
  const sentences = await speaker.$$eval('#script-sentences li', (lis) => lis.map((li) => li.textContent));
  assert.equal(sentences.length, 3, `the script's sentences are listed: ${JSON.stringify(sentences)}`);
  assert.ok(sentences[0].startsWith('And Mr. John Dashwood'), sentences[0]);

  const es = await openListener(browser, link, 'es', { width: 390, height: 844 }, problems);
  await speaker.click('#start');
  await speaker.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');

  // Finals come from the script: the speaker's transcript marks them and
  // the place in the script moves on.
  await speaker.waitForFunction(() => document.querySelectorAll('#transcript p.from-script').length >= 2, null,
                                { timeout: 150000, polling: 250 });
  await speaker.waitForFunction(() => document.querySelector('#script-sentences li.here') !== null);
  await es.waitForFunction(() => document.querySelectorAll('#history p').length >= 2, null,
                           { timeout: 60000, polling: 250 });
  await Promise.all([screenshot(speaker, 'speaker-script'), screenshot(es, 'listener-script-es-phone')]);

  const shown = await es.$$eval('#history p', (ps) => ps.map((p) => ({
    text: p.firstChild && p.firstChild.nodeType === Node.TEXT_NODE ? p.firstChild.textContent : '',
    source: p.querySelector('.source') ? p.querySelector('.source').textContent : '',
  })));
  const fromScript = shown.filter((c) => c.source.length > 0 && SCRIPT.includes(c.source));
  assert.ok(fromScript.length >= 2, `captions whose original is the script's own text: ${JSON.stringify(shown)}`);
  assert.ok(fromScript.some((c) => /[,.;:]/.test(c.source) && /[A-Z]/.test(c.source)),
            `the script's punctuation and capitals reach the listener: ${JSON.stringify(fromScript)}`);
  for (const c of fromScript) {
    assert.ok(c.text.length > 0 && c.text !== c.source, `translated into Spanish: ${JSON.stringify(c)}`);
  }
  assert.ok(shown.some((c) => c.source.startsWith('And Mr. John Dashwood')), JSON.stringify(shown));

  // Jumping back in the script from the speaker's page.
  await speaker.click('#script-sentences li:first-child');
  await speaker.waitForFunction(() => document.querySelector('#script-sentences li:first-child').classList.contains('here'));
  assert.deepEqual(problems, [], 'no page errors');
});
