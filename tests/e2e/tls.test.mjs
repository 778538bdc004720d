// SPDX-License-Identifier: GPL-3.0-or-later
// parley serve with --tls-cert/--tls-key: the pages load over HTTPS and the
// live WebSocket runs over WSS (a browser grants the microphone only to a
// secure page off localhost). The certificate is self-signed, made here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, screenshot, startServer, tempDir, watchPage } from './support.mjs';

let server, browser;
const problems = [];

before(async () => {
  const dir = tempDir('parley-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                           '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  server = await startServer(['--tls-cert', cert, '--tls-key', key, '--rtc', 'off'], 'https');
  browser = await launchChromium(true);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('pages over HTTPS, live updates over WSS', { timeout: 60000 }, async () => {
  assert.match(server.banner, /open https:\/\/127\.0\.0\.1:\d+\/speaker/, 'the printed URL is https');
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const speaker = await context.newPage();
  watchPage(speaker, 'speaker', problems);
  await speaker.goto(`${server.url}/speaker`);
  await speaker.waitForFunction(() => document.querySelectorAll('#source option').length > 0);
  await speaker.click('#create-button');
  await speaker.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code').textContent));
  const link = await speaker.getAttribute('#listener-link', 'href');
  assert.match(link, /^https:\/\//, 'the listener link is https');

  const listener = await context.newPage();
  watchPage(listener, 'listener', problems);
  await listener.goto(`${link}&lang=es`);
  await listener.waitForFunction(() => document.getElementById('status').textContent === 'Esperando a que empiece el orador.');
  // The speaker's page hears of the listener over its own wss:// socket.
  await speaker.waitForFunction(() => document.getElementById('listener-total').textContent === '1', null, { timeout: 15000 });
  await speaker.click('#start');
  await listener.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');
  await screenshot(listener, 'tls-listener');
  assert.deepEqual(problems, []);

  // Plain HTTP to the TLS port gets nothing (and does not disturb the server).
  await assert.rejects(fetch(server.url.replace('https:', 'http:') + '/healthz'));
  const res = await speaker.evaluate(async () => (await fetch('/healthz')).status);
  assert.equal(res, 200);
});
