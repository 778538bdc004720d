// SPDX-License-Identifier: GPL-3.0-or-later
// Browser tests of the experience a new user has (issue: the speaker's and
// listener's experience): the landing page and its code box, a speaker page
// that keeps control across a reload and hands it to another device, the
// microphone test and its warnings, the session timer and end summary with
// every language's transcript, a phone listener whose header stays while
// captions scroll, display options remembered on the device, pages in the
// listener's language, the OBS overlay, the embed and its postMessage API,
// the frame rules, and axe-core's accessibility check.
//
// Captions here are typed on the speaker page (they are translated and
// spoken like speech): what is checked is the pages, not the recogniser.
// The microphone is a generated tone followed by silence.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createSession, launchChromium, screenshot, startServer, watchPage, writeWav } from './support.mjs';

const require = createRequire(import.meta.url);
const AXE = require('fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
let server, browser;
const problems = [];

// One second of a 440 Hz tone at a third of full scale, then nine of silence
// (Chromium loops it): the meter moves, and the silence warning can show.
function toneMicrophone() {
  const rate = 16000;
  const samples = new Int16Array(rate * 10);
  for (let i = 0; i < rate; i++) samples[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 11000);
  return wavFile(samples, rate, 'tone.wav');
}

// A microphone turned up far too far: a 220 Hz square wave at full scale.
function clippingMicrophone() {
  const rate = 16000;
  const samples = new Int16Array(rate * 4);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.floor((i * 220 * 2) / rate) % 2 ? 32767 : -32768;
  return wavFile(samples, rate, 'clipping.wav');
}

function wavFile(samples, rate, name) {
  return writeWav(Buffer.from(samples.buffer), rate, name);
}

before(async () => {
  server = await startServer(['--rtc', 'off']);
  browser = await launchChromium(toneMicrophone());
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    const code = await server.stop();
    if (code !== 0) console.error(server.log());
  }
});

async function newPage(name, viewport = { width: 1100, height: 900 }, options = {}) {
  const context = await browser.newContext({ viewport, isMobile: viewport.width < 500, hasTouch: viewport.width < 500,
                                             ...options });
  const page = await context.newPage();
  watchPage(page, name, problems);
  return page;
}

// Types a caption on the speaker page and waits until the page shows it.
async function typeCaption(speaker, text) {
  const before = await speaker.$$eval('#transcript p', (ps) => ps.length);
  await speaker.fill('#type-text', text);
  await speaker.click('#type-send');
  await speaker.waitForFunction((n) => document.querySelectorAll('#transcript p').length > n, before, { timeout: 20000 });
}

// axe-core on the page as it is: no serious or critical violations.
// (The results are printed: rules passed, and violations by impact.)
async function checkAccessibility(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document);
    const byImpact = {};
    for (const v of r.violations) byImpact[v.impact] = (byImpact[v.impact] || 0) + 1;
    return {
      passes: r.passes.length, incomplete: r.incomplete.length, byImpact,
      serious: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`),
      minor: r.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => `${v.id} (${v.impact})`),
    };
  });
  console.log(`axe-core ${what}: ${result.passes} rules pass, ${result.incomplete} need review, violations ` +
              `${JSON.stringify(result.byImpact)}${result.minor.length ? ' — ' + result.minor.join(', ') : ''}`);
  assert.deepEqual(result.serious, [], `${what}: axe-core finds no serious or critical violations`);
}

// The page's visible words outside the captions and the session's name.
function interfaceText(page) {
  return page.evaluate(() => {
    const skip = new Set(['history', 'current', 'partial', 'session-name']);
    const out = [];
    const walk = (el) => {
      if (skip.has(el.id) || el.tagName === 'SCRIPT' || el.tagName === 'STYLE') return;
      for (const n of el.childNodes) {
        if (n.nodeType === Node.TEXT_NODE && n.textContent.trim()) out.push(n.textContent.trim());
        else if (n.nodeType === Node.ELEMENT_NODE) walk(n);
      }
      for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    };
    walk(document.body);
    return out;
  });
}

test('every language file has every string, and no other', () => {
  const dir = join(WEB, 'i18n');
  const english = JSON.parse(readFileSync(join(dir, 'en.json'), 'utf8'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.deepEqual(files.sort(), ['ca.json', 'en.json', 'es.json', 'fr.json', 'gl.json', 'it.json', 'pt.json']);
  for (const f of files) {
    const strings = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    assert.deepEqual(Object.keys(strings).sort(), Object.keys(english).sort(), `${f} has exactly the English keys`);
    for (const [k, v] of Object.entries(strings)) {
      assert.ok(typeof v === 'string' && v.trim().length > 0, `${f}: ${k} is a non-empty string`);
      for (const name of (english[k].match(/\{\w+\}/g) || [])) assert.ok(v.includes(name), `${f}: ${k} keeps ${name}`);
    }
    // Each language's strong-word list exists too.
    assert.ok(readFileSync(join(WEB, 'strong-words', f.replace('.json', '.txt')), 'utf8').length > 0);
  }
});

// A session created on the speaker page and started over the API with the
// token the page keeps (no microphone: captions are typed).
async function startedSession(name) {
  const speaker = await newPage('speaker');
  const { code, link } = await createSession(speaker, server.url, name);
  const saved = await speaker.evaluate(() => JSON.parse(localStorage.getItem('parley-speaker-sessions')));
  const res = await fetch(`${server.url}/api/sessions/${code}/start`, {
    method: 'POST', headers: { Authorization: 'Bearer ' + saved[code].token, 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 200);
  await speaker.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');
  return { speaker, code, link };
}

test('a code box on the landing page, on /listener and on a wrong code; the create form at /speaker', { timeout: 120000 }, async () => {
  const speaker = await newPage('speaker');
  const { code } = await createSession(speaker, server.url, 'Landing test');

  const phone = await newPage('landing', PHONE, { locale: 'es-ES' });
  const res = await phone.goto(server.url + '/');
  assert.equal(res.status(), 200);
  assert.ok(await phone.isVisible('#code'), 'the code box is on the first screen');
  assert.equal(await phone.evaluate(() => document.documentElement.lang), 'es', 'the page reads in the browser language');
  assert.equal(await phone.textContent('h1'), 'Unirse a una sesión');
  await phone.fill('#code', '12');
  await phone.click('button[type=submit]');
  assert.match(await phone.textContent('#code-error'), /seis cifras/);
  await screenshot(phone, 'landing-phone-bad-code');
  const desk = await newPage('landing-desktop', { width: 1280, height: 800 }, { locale: 'fr-FR' });
  await desk.goto(server.url + '/');
  await desk.waitForFunction(() => document.documentElement.lang === 'fr');
  await screenshot(desk, 'landing-desktop-fr');
  await phone.fill('#code', code.slice(0, 3) + ' ' + code.slice(3));
  await Promise.all([phone.waitForURL(`**/listener/${code}`), phone.click('button[type=submit]')]);
  await phone.waitForFunction(() => document.getElementById('session-name').textContent === 'Landing test');
  await checkAccessibility(phone, 'the listener page');

  // /listener without a code: the same box, not a JSON error.
  const bare = await newPage('listener-bare', PHONE);
  const bareRes = await bare.goto(server.url + '/listener');
  assert.equal(bareRes.status(), 200);
  assert.ok(await bare.isVisible('#code'));
  assert.doesNotMatch(await bare.textContent('body'), /"error"/);
  await checkAccessibility(bare, 'the landing page');

  // A wrong code: said plainly, with the box to type the right one.
  // (Not watched: the page answers 404 on purpose, which the console reports.)
  const wrong = await (await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })).newPage();
  const wrongRes = await wrong.goto(server.url + '/listener/000000');
  assert.equal(wrongRes.status(), 404);
  await wrong.waitForFunction(() => !document.getElementById('wrong-code').classList.contains('hidden'));
  assert.match(await wrong.textContent('#wrong-code'), /000000/);
  await screenshot(wrong, 'listener-wrong-code-box');
  await wrong.fill('#code', code);
  await Promise.all([wrong.waitForURL(`**/listener/${code}`), wrong.press('#code', 'Enter')]);

  // Without scripts the box still works (the form goes to /join).
  const plain = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await plain.goto(server.url + '/');
  await plain.fill('#code', code);
  await Promise.all([plain.waitForURL(`**/listener/${code}`), plain.press('#code', 'Enter')]);

  const create = await newPage('speaker-create');
  await create.goto(server.url + '/speaker');
  assert.ok(await create.isVisible('#create-form'));
  await checkAccessibility(create, 'the speaker page');
  assert.deepEqual(problems, []);
});

test('the speaker keeps control across a reload and from another device; mic test, warnings, timer and summary', { timeout: 180000 }, async () => {
  const speaker = await newPage('speaker');
  const { code, link } = await createSession(speaker, server.url, 'Control test');
  // The microphone test before Start: the level moves, nothing is sent.
  await speaker.click('#mic-test');
  await speaker.waitForFunction(() => Number(document.getElementById('meter').getAttribute('aria-valuenow')) > 10, null,
                                { timeout: 15000 });
  assert.match(await speaker.textContent('#mic-status'), /test.*Nothing is sent until you press Start/);
  // The tone stops: after 6 s of silence the page warns.
  await speaker.waitForFunction(() => /No sound from the microphone/.test(document.getElementById('mic-warning').textContent),
                                null, { timeout: 20000 });
  await screenshot(speaker, 'speaker-mic-test-silent');

  // A reload keeps the session and its control.
  await speaker.reload();
  await speaker.waitForFunction((c) => document.getElementById('code').textContent === c, code, { timeout: 30000 });
  assert.ok(await speaker.isVisible('#resumed'));
  assert.equal(await speaker.isVisible('#create'), false, 'not the empty create form');
  await speaker.click('#start');
  await speaker.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');
  await speaker.waitForFunction(() => /^Live for$/.test(document.getElementById('timer-label').textContent) &&
                                      /^00:(00:0[1-9]|00:[1-5]\d|0[1-9]:\d\d)$/.test(document.getElementById('timer').textContent),
                                null, { timeout: 30000 });

  const listener = await newPage('listener-es', PHONE);
  await listener.goto(`${link}&lang=es`);
  await listener.waitForFunction(() => document.getElementById('status').textContent === 'En directo.');
  // The Spanish listener reads the page in Spanish.
  assert.equal(await listener.textContent('#state'), 'En directo');
  assert.equal(await listener.textContent('#status'), 'En directo.');
  assert.equal(await listener.textContent('#listen-label'), 'Toca para oír la traducción');
  // No English left on the Spanish page: every English string that differs
  // in Spanish is absent, with the display options open.
  await listener.click('#display-button');
  const english = JSON.parse(readFileSync(join(WEB, 'i18n', 'en.json'), 'utf8'));
  const spanishStrings = JSON.parse(readFileSync(join(WEB, 'i18n', 'es.json'), "utf8"));
  const ui = (await interfaceText(listener)).join('\n');
  for (const [k, v] of Object.entries(english)) {
    if (v === spanishStrings[k] || v.length < 4) continue;
    const fixed = v.split(/\{\w+\}/)[0].trim();
    if (fixed.length < 4) continue;
    const alone = new RegExp('(^|[^\\p{L}])' + fixed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '($|[^\\p{L}])', 'u');
    assert.ok(!alone.test(ui), `English "${fixed}" (${k}) is not on the Spanish page`);
  }
  assert.ok(ui.includes(spanishStrings.displayOptions) && ui.includes(spanishStrings.maskWords), 'the options read in Spanish');
  assert.match(ui, /Descargar la transcripción en español:/, 'language names in lower case inside sentences');
  await screenshot(listener, 'listener-es-phone-options');
  await listener.click('#display-button');

  // A control link with a wrong token is refused, and the token this
  // browser holds keeps working.
  const forged = await speaker.context().newPage();
  await forged.goto(`${server.url}/speaker#code=${code}&token=deadbeef`);
  await forged.waitForFunction(() => /does not control/.test(document.getElementById('session-error').textContent), null,
                               { timeout: 30000 });
  assert.equal(await forged.isDisabled('#pause'), true, 'no controls that would not work');
  await forged.close();
  assert.ok(await speaker.evaluate((c) => JSON.parse(localStorage.getItem('parley-speaker-sessions'))[c].token.length === 64, code));

  // Another device opens the control link and takes over.
  const control = await speaker.getAttribute('#control-link', 'href');
  assert.match(control, new RegExp(`/speaker#code=${code}&token=[0-9a-f]+`));
  const other = await newPage('speaker-other-device', PHONE);
  await other.goto(control);
  await other.waitForFunction((c) => document.getElementById('code').textContent === c, code, { timeout: 30000 });
  assert.doesNotMatch(other.url(), /token=/, 'the token leaves the address bar');
  await other.waitForFunction(() => document.getElementById('state').dataset.state === 'ACTIVE');
  // The page it took over from says so and offers no controls.
  await speaker.waitForFunction(() => /Another page took over/.test(document.getElementById('session-error').textContent));
  assert.equal(await speaker.isDisabled('#end'), true);
  // A new tab on that device offers the session; it never takes it over unasked.
  const tab = await other.context().newPage();
  await tab.goto(`${server.url}/speaker`);
  await tab.waitForFunction((c) => document.getElementById('resume-offers').textContent.includes(c), code, { timeout: 30000 });
  assert.ok(await tab.isVisible('#create'), 'the create form, with the offer');
  await tab.close();
  assert.equal(await other.textContent('#session-error'), '', 'the device in control was not displaced');
  await typeCaption(other, 'Hello ,  my friends .  The  coffee is ready !');
  // (No code is sent to the page as a string: its CSP forbids eval, as it should.)
  await listener.waitForFunction(() => Array.from(document.querySelectorAll('#history .source')).some((s) => /coffee/.test(s.textContent)),
                                 null, { timeout: 20000 });
  const [shown, source] = await listener.$$eval('#history p', (ps) => {
    const p = ps.find((x) => x.querySelector('.source') && /coffee/.test(x.querySelector('.source').textContent));
    return [p.firstChild.textContent, p.querySelector('.source').textContent];
  });
  assert.equal(source, 'Hello, my friends. The coffee is ready!', 'the typed source is tidied too');
  assert.doesNotMatch(shown, /\s[.,!?]|\s{2}/, `no space before punctuation, no double spaces: "${shown}"`);
  // The listener page offers its transcript.
  const txtHref = await listener.getAttribute('#dl-txt', 'href');
  assert.match(txtHref, /format=txt&lang=es/);
  const txt = await (await fetch(server.url + txtHref)).text();
  assert.ok(txt.split('\n').includes(shown), 'the text download has the caption as shown');
  assert.doesNotMatch(txt, / {2}| [.,!?]/);
  for (const f of ['vtt', 'srt', 'json']) {
    const res = await fetch(server.url + await listener.getAttribute(`#dl-${f}`, 'href'));
    assert.equal(res.status, 200, `${f} download`);
  }
  await screenshot(other, 'speaker-other-device-phone');

  await other.click('#end');
  await other.waitForFunction(() => !document.getElementById('summary-card').classList.contains('hidden'), null, { timeout: 30000 });
  const rows = await other.$$eval('#summary-rows tr', (trs) => trs.map((tr) => Array.from(tr.cells).map((c) => c.textContent)));
  const spanish = rows.find((r) => r[0] === 'Spanish');
  assert.ok(spanish, `the summary lists Spanish: ${JSON.stringify(rows)}`);
  assert.equal(spanish[1], '1', 'one Spanish listener at most');
  assert.ok(Number(spanish[2]) >= 1, 'the Spanish captions are counted');
  assert.match(spanish[3], /VTT.*SRT.*JSON.*TXT/);
  // The ended session's transcript opens from the summary's link (it carries the listener key).
  const href = await other.$eval('#summary-rows a[aria-label="Spanish transcript, TXT"]', (a) => a.getAttribute('href'));
  const ended = await fetch(server.url + href);
  assert.equal(ended.status, 200);
  assert.ok((await ended.text()).split('\n').includes(shown));
  assert.match(await other.textContent('#summary-text'), /\d+ captions?, into 1 other language/);
  assert.equal(await other.evaluate(() => document.documentElement.scrollWidth), PHONE.width, 'the phone page does not scroll sideways');
  await screenshot(other, 'speaker-summary-phone');
  await checkAccessibility(other, 'the speaker page with its summary');
  // Labels after the end: nothing claims to be on.
  await listener.waitForFunction(() => document.getElementById('state').dataset.state === 'ENDED');
  assert.equal(await listener.isVisible('#listen'), false);
  assert.equal(await listener.textContent('#status'), 'La sesión ha terminado. Gracias por escuchar.');
  // A reload after the end shows the ended session with its summary and
  // transcript; "Start another session" gives the create form.
  await speaker.reload();
  await speaker.waitForFunction(() => !document.getElementById('summary-card').classList.contains('hidden'), null,
                                { timeout: 30000 });
  assert.match(await speaker.textContent('#transcript'), /coffee is ready/, 'the transcript is back after a reload');
  await speaker.click('#new-session');
  await speaker.waitForFunction(() => !document.getElementById('create').classList.contains('hidden'));
  assert.deepEqual(problems.filter((p) => !/speaker(-other-device)?( console)?: .*(replaced|another)/i.test(p)), []);
});

test('a phone listener: the header stays while captions scroll; display options are remembered; French page', { timeout: 180000 }, async () => {
  const { speaker, link } = await startedSession('Phone test');
  const phone = await newPage('listener-fr', PHONE);
  await phone.goto(`${link}&lang=fr`);
  await phone.waitForFunction(() => document.getElementById('status').textContent === 'En direct.');
  assert.equal(await phone.evaluate(() => document.documentElement.lang), 'fr');
  assert.equal(await phone.textContent('#listen-label'), 'Touchez pour écouter la traduction');
  for (let i = 1; i <= 14; i++) await typeCaption(speaker, `This is sentence number ${i} of the talk about the town.`);
  await phone.waitForFunction(() => document.querySelectorAll('#history p').length >= 14, null, { timeout: 60000 });
  // Captions scrolled inside their own box; the page itself did not move.
  const view = await phone.evaluate(() => {
    const inView = (id) => {
      const r = document.getElementById(id).getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
    };
    return { state: inView('state'), language: inView('language'), status: inView('status'),
             pageScroll: document.scrollingElement.scrollTop, historyScroll: document.getElementById('history').scrollTop };
  });
  assert.deepEqual({ state: view.state, language: view.language, status: view.status, pageScroll: view.pageScroll },
                   { state: true, language: true, status: true, pageScroll: 0 });
  assert.ok(view.historyScroll > 0, 'the caption box scrolled to the newest caption');
  await screenshot(phone, 'listener-fr-phone-many-captions');
  const desktop = await newPage('listener-fr-desktop', { width: 1280, height: 900 });
  await desktop.goto(`${link}&lang=fr`);
  await desktop.waitForFunction(() => document.querySelectorAll('#history p').length >= 14, null, { timeout: 20000 });
  await screenshot(desktop, 'listener-fr-desktop');
  await desktop.close();
  await typeCaption(speaker, 'The mayor said the old plan was bullshit.');
  // The speaker pauses: the phone sees it without scrolling.
  await speaker.click('#pause');
  await phone.waitForFunction(() => document.getElementById('status').textContent === 'L’intervenant a fait une pause.');
  assert.equal(await phone.textContent('#state'), 'En pause');

  // Strong language is shown as said unless the listener asks to hide it.
  const strong = () => phone.$$eval('#history .source', (ss) => ss.map((x) => x.textContent).find((t) => /mayor/.test(t)));
  await phone.waitForFunction(() => Array.from(document.querySelectorAll('#history .source')).some((x) => /mayor/.test(x.textContent)),
                              null, { timeout: 20000 });
  assert.equal(await strong(), 'The mayor said the old plan was bullshit.');
  await phone.click('#display-button');
  assert.equal(await phone.isChecked('#opt-mask'), false, 'off by default');
  await phone.check('#opt-mask');
  // (The list file loads the first time masking is asked for.)
  await phone.waitForFunction(() => Array.from(document.querySelectorAll('#history .source'))
    .some((x) => x.textContent === 'The mayor said the old plan was b*******.'), null, { timeout: 30000 });
  await phone.uncheck('#opt-mask');
  assert.equal(await strong(), 'The mayor said the old plan was bullshit.');
  await phone.click('#display-button');

  // Display options: size, colours, lines, the original.
  await phone.click('#display-button');
  await phone.selectOption('#opt-size', 'xl');
  await phone.selectOption('#opt-theme', 'dark');
  await phone.selectOption('#opt-lines', '2');
  await phone.uncheck('#opt-original');
  const applied = await phone.evaluate(() => ({
    visible: Array.from(document.querySelectorAll('#history p')).filter((p) => p.offsetParent !== null).length,
    source: Array.from(document.querySelectorAll('#history .source')).filter((s) => s.offsetParent !== null).length,
    background: getComputedStyle(document.body).backgroundColor,
    size: parseFloat(getComputedStyle(document.querySelector('#history p')).fontSize),
  }));
  assert.equal(applied.visible, 2, 'two earlier lines shown');
  assert.equal(applied.source, 0, 'the original is hidden');
  assert.notEqual(applied.background, 'rgb(246, 247, 249)', 'dark colours');
  assert.ok(applied.size >= 28, `extra large text (${applied.size}px)`);
  await checkAccessibility(phone, 'the listener page, dark');
  await screenshot(phone, 'listener-fr-phone-dark-xl');
  await phone.reload();
  await phone.waitForFunction(() => document.querySelectorAll('#history p').length >= 15, null, { timeout: 20000 });
  assert.equal(await phone.evaluate(() => document.body.dataset.theme), 'dark', 'remembered on this device');
  assert.equal(await phone.inputValue('#opt-lines'), '2');
  await phone.click('#display-button');
  await phone.selectOption('#opt-theme', 'contrast');
  await checkAccessibility(phone, 'the listener page, high contrast');
  await phone.selectOption('#opt-theme', 'light');
  await speaker.click('#end');
  assert.deepEqual(problems, []);
});

test('the overlay stacks languages for a video mixer; the embed is driven by postMessage; only they may be framed', { timeout: 180000 }, async () => {
  const { speaker, code } = await startedSession('Overlay test');
  // Pages other than the overlay and embed refuse frames; they allow any site by default.
  const policy = async (path) => (await fetch(server.url + path)).headers.get('content-security-policy');
  assert.match(await policy(`/listener/${code}`), /frame-ancestors 'none'/);
  assert.match(await policy('/speaker'), /frame-ancestors 'none'/);
  assert.match(await policy(`/overlay/${code}`), /frame-ancestors \*/);
  assert.match(await policy(`/embed/${code}`), /frame-ancestors \*/);

  const overlay = await newPage('overlay', { width: 1280, height: 720 });
  await overlay.goto(`${server.url}/overlay/${code}?lang=es,fr&lines=2&size=40&original=1`);
  await overlay.waitForFunction(() => window.parleyOverlay && window.parleyOverlay.joined.length === 2);

  // A site on another origin frames the embed and listens to it.
  const host = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    if (req.url === '/video') {  // a stand-in for the video under an OBS overlay
      res.end(`<!doctype html><title>video</title><body style="margin:0;background:linear-gradient(120deg,#2b6cb0,#d53f8c 55%,#f6ad55)">
        <iframe src="${server.url}/overlay/${code}?lang=es,fr&lines=2&size=40&original=1" width="1280" height="720"
                style="border:0;display:block;background:transparent" allowtransparency="true"></iframe></body>`);
      return;
    }
    res.end(`<!doctype html><title>host</title><script>window.got = []; addEventListener('message', (e) => {
      if (e.data && e.data.source === 'parley') window.got.push(e.data); });</script>
      <iframe id="embed" src="${server.url}/embed/${code}?lang=es&audio=false" width="400" height="500"></iframe>
      <iframe id="listener" src="${server.url}/listener/${code}" width="300" height="300"></iframe>`);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  try {
    // (Not watched: the refused frame is reported on its console, as it should be.)
    const site = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    await site.goto(`http://127.0.0.1:${host.address().port}/`);
    await site.waitForFunction(() => window.got.some((m) => m.type === 'parley:ready'), null, { timeout: 20000 });
    const embed = site.frames().find((f) => f.url().includes('/embed/'));
    assert.equal(await embed.isVisible('#listen'), false, 'audio=false: no offer of sound');
    // The listener page refused the frame.
    const framedListener = site.frames().find((f) => f.url().includes('/listener/'));
    assert.ok(!framedListener || (await framedListener.evaluate(() => document.getElementById('history') === null).catch(() => true)),
              'the listener page is not shown inside another site');

    await typeCaption(speaker, 'Welcome to the town meeting.');
    await typeCaption(speaker, 'We will talk about the new library.');
    await typeCaption(speaker, 'Questions come at the end.');
    await site.waitForFunction(() => window.got.filter((m) => m.type === 'parley:caption' && m.language === 'es').length >= 3,
                               null, { timeout: 20000 }).catch(async (e) => {
      console.error(JSON.stringify(await site.evaluate(() => window.got)));
      throw e;
    });
    // The host switches the embed to French over postMessage.
    await site.evaluate(() => document.getElementById('embed').contentWindow.postMessage({ type: 'parley:setLanguage', language: 'fr' }, '*'));
    await site.waitForFunction(() => window.got.some((m) => m.type === 'parley:language' && m.language === 'fr'));
    await site.waitForFunction(() => window.got.filter((m) => m.type === 'parley:caption' && m.language === 'fr').length >= 3,
                               null, { timeout: 20000 });
    assert.equal(await embed.evaluate(() => document.documentElement.lang), 'fr');
    await site.evaluate(() => document.getElementById('embed').contentWindow.postMessage({ type: 'parley:setLanguage', language: 'de' }, '*'));
    await site.waitForFunction(() => window.got.some((m) => m.type === 'parley:error' && m.language === 'de'));
    const es = await site.evaluate(() => window.got.filter((m) => m.type === 'parley:caption' && m.language === 'es').map((m) => m.text));
    const fr = await site.evaluate(() => window.got.filter((m) => m.type === 'parley:caption' && m.language === 'fr').map((m) => m.text));
    assert.notDeepEqual(es, fr, 'the captions changed language');
    await screenshot(site, 'embed-on-another-site');

    // The overlay: two languages, two lines each, the newest last, with the original.
    await overlay.waitForFunction(() => ['es', 'fr'].every((l) =>
      document.querySelectorAll(`.lang[data-language="${l}"] .line:not(.partial)`).length === 2), null, { timeout: 20000 });
    const stacked = await overlay.$$eval('.lang', (boxes) => boxes.map((b) => ({
      language: b.dataset.language,
      lines: Array.from(b.querySelectorAll('.line:not(.partial)')).map((l) => l.querySelector('.source').textContent),
    })));
    assert.deepEqual(stacked.map((s) => s.language), ['es', 'fr']);
    for (const s of stacked) assert.deepEqual(s.lines, ['We will talk about the new library.', 'Questions come at the end.']);
    assert.equal(await overlay.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgba(0, 0, 0, 0)', 'transparent');
    await overlay.screenshot({ path: join(process.env.PARLEY_ARTIFACTS || 'test-artifacts/e2e', 'overlay-transparent.png'),
                               omitBackground: true });
    // The overlay over a coloured picture: only the captions cover it.
    const video = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await video.goto(`http://127.0.0.1:${host.address().port}/video`);
    const overFrame = () => video.frames().find((f) => f.url().includes('/overlay/'));
    await video.waitForFunction(() => true);
    for (let i = 0; i < 100 && !(overFrame() && await overFrame().evaluate(() =>
      document.querySelectorAll('.line:not(.partial)').length >= 4).catch(() => false)); i++) {
      await video.waitForTimeout(100);
    }
    await screenshot(video, 'overlay-over-colour');
    // A language the session cannot offer is said on the overlay, for whoever sets it up.
    const wrong = await newPage('overlay-de', { width: 800, height: 300 });
    await wrong.goto(`${server.url}/overlay/${code}?lang=de`);
    await wrong.waitForFunction(() => document.querySelector('.problem') !== null, null, { timeout: 30000 });
    assert.match(await wrong.textContent('.problem'), /^de: /);
  } finally {
    host.close();
  }
  await speaker.click('#end');
  assert.deepEqual(problems, []);
});

test('a microphone that clips is said so on the speaker page before Start', { timeout: 60000 }, async () => {
  const loud = await launchChromium(clippingMicrophone());
  try {
    const speaker = await (await loud.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
    watchPage(speaker, 'speaker-clipping', problems);
    await createSession(speaker, server.url, 'Clipping test');
    await speaker.click('#mic-test');
    await speaker.waitForFunction(() => /too loud and clips/.test(document.getElementById('mic-warning').textContent), null,
                                  { timeout: 15000 });
    assert.equal(await speaker.evaluate(() => document.getElementById('state').dataset.state), 'CREATED', 'nothing started');
  } finally {
    await loud.close();
  }
  assert.deepEqual(problems, []);
});
