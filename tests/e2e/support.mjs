// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for parley's browser tests: start the real server on loopback, turn
// real recordings into a microphone file, launch Debian's Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
export const ARTIFACTS = process.env.PARLEY_ARTIFACTS || join(process.cwd(), 'test-artifacts', 'e2e');

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

// Starts `parley serve --port 0` and resolves once it prints its port.
export async function startServer(extraArgs = [], scheme = 'http') {
  const bin = process.env.PARLEY_BIN;
  if (!bin) throw new Error('PARLEY_BIN is not set: run this through ctest or set it to the parley binary');
  const dir = tempDir('parley-e2e-');
  const child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', '0', '--db', join(dir, 'parley.db'),
                            ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  child.stderr.on('data', (d) => { stderr.push(d); });
  let banner = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('parley serve printed no port within 60 s')), 60000);
    child.on('exit', (code) => reject(new Error(`parley serve exited with ${code}: ${Buffer.concat(stderr)}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /port (\d+)/.exec(line);
      if (m) { banner = line; clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
  return {
    port,
    banner,
    url: `${scheme}://127.0.0.1:${port}`,
    dir,
    log: () => Buffer.concat(stderr).toString(),
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    },
  };
}

// Reads the PCM16 mono samples of a WAV file (fmt + data chunks, any order).
function readWav(path) {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path} is not a WAV file`);
  }
  let rate = 0, channels = 0, bits = 0, data = null;
  for (let at = 12; at + 8 <= buf.length;) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(at + 10);
      rate = buf.readUInt32LE(at + 12);
      bits = buf.readUInt16LE(at + 22);
    } else if (id === 'data') {
      data = buf.subarray(at + 8, at + 8 + size);
    }
    at += 8 + size + (size & 1);
  }
  if (channels !== 1 || bits !== 16 || !data) throw new Error(`${path}: expected PCM16 mono`);
  return { rate, data };
}

// Writes PCM16 mono `data` at `rate` as a WAV file in a new temporary
// directory; returns its path.
export function writeWav(data, rate, name) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  const path = join(tempDir('parley-mic-'), name);
  writeFileSync(path, Buffer.concat([header, data]));
  return path;
}

// Joins every LibriVox recording, with a second of silence after each, into
// one WAV: Chromium plays it (in a loop) as the microphone.
export function librivoxMicrophone() {
  const files = readdirSync(LIBRIVOX).filter((f) => f.endsWith('.wav')).sort();
  if (files.length === 0) throw new Error(`no recordings in ${LIBRIVOX}: install pocketsphinx-testdata`);
  const parts = [];
  let rate = 0;
  for (const f of files) {
    const w = readWav(join(LIBRIVOX, f));
    if (rate && w.rate !== rate) throw new Error('recordings differ in sample rate');
    rate = w.rate;
    parts.push(w.data, Buffer.alloc(rate * 2));
  }
  const data = Buffer.concat(parts);
  const path = writeWav(data, rate, 'librivox.wav');
  return { path, seconds: data.length / 2 / rate };
}

// Debian's Chromium, headless, with `micFile` as its microphone (true: a
// synthetic beep; absent: no microphone).
export async function launchChromium(micFile, extraArgs = []) {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs];
  if (micFile) {
    args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream');
    if (micFile !== true) args.push(`--use-file-for-fake-audio-capture=${micFile}`);
  }
  return chromium.launch({ executablePath: '/usr/bin/chromium', args });
}

// Collects console errors and page crashes so a failing test can show them.
export function watchPage(page, name, problems) {
  page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${name} console: ${m.text()}`); });
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// Removes earlier screenshots whose names start with `prefix`.
export function removeScreenshots(prefix) {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of readdirSync(ARTIFACTS)) {
    if (f.startsWith(prefix) && f.endsWith('.png')) rmSync(join(ARTIFACTS, f));
  }
}

// On an open /speaker page: names and creates an English session; returns
// its code and listener link. (/speaker#new: the create form even where this
// browser already controls a session, which plain /speaker would resume.)
export async function createSession(speaker, serverUrl, name) {
  await speaker.goto(`${serverUrl}/speaker#new`);
  await speaker.waitForFunction(() => document.querySelectorAll('#source option').length > 0);
  await speaker.fill('#name', name);
  await speaker.selectOption('#source', 'en');
  await speaker.click('#create-button');
  await speaker.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code').textContent));
  return { code: await speaker.textContent('#code'), link: await speaker.getAttribute('#listener-link', 'href') };
}

// A listener page in its own browser context (a phone below 500 px wide),
// joined in `lang`, after the tap that turns sound on.
export async function openListener(browser, link, lang, viewport, problems) {
  const context = await browser.newContext({ viewport, isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  watchPage(page, `listener-${lang}`, problems);
  await page.goto(`${link}${link.includes('?') ? '&' : '?'}lang=${lang}`);
  await page.waitForFunction(() => document.getElementById('session-name').textContent !== 'Joining…');
  await page.click('#listen');
  return page;
}
