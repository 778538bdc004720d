// SPDX-License-Identifier: GPL-3.0-or-later
// A server started with operator keys (--api-keys): the speaker page asks for
// a key when the server wants one, says so when it is wrong, and remembers a
// right one on this device.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchChromium, screenshot, startServer } from './support.mjs';

let server, browser;

before(async () => {
  server = await startServer(['--api-keys', 'room-42-key,other-key', '--rtc', 'off']);
  browser = await launchChromium(false);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function openSpeaker(context, path = '/speaker') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => document.querySelectorAll('#source option').length > 0);
  return { page, errors };
}

test('the speaker page asks for the operator key once and remembers it', { timeout: 60000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const { page, errors } = await openSpeaker(context);
  assert.equal(await page.isVisible('#api-key'), false, 'no key field until the server asks');
  await page.click('#create-button');
  await page.waitForFunction(() => !document.getElementById('api-key-row').classList.contains('hidden'));
  assert.match(await page.textContent('#create-error'), /needs an operator key/);
  await screenshot(page, 'speaker-asks-for-operator-key');

  await page.fill('#api-key', 'a-wrong-key');
  await page.click('#create-button');
  await page.waitForFunction(() => /not one of this server/.test(document.getElementById('create-error').textContent));

  await page.fill('#api-key', 'room-42-key');
  await page.click('#create-button');
  await page.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code').textContent));

  // Another page on the same device ("Create another session", which opens
  // /speaker#new: a plain /speaker resumes the session this device controls)
  // creates without asking.
  const second = await openSpeaker(context, '/speaker#new');
  await second.page.click('#create-button');
  await second.page.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code').textContent));
  assert.equal(await second.page.isVisible('#api-key'), false);
  assert.deepEqual([...errors, ...second.errors], [], 'no page errors');
});
