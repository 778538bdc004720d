// SPDX-License-Identifier: GPL-3.0-or-later
// Clients nobody here wrote, against parley's engine APIs: npm's `openai`
// package transcribes a real recording and synthesises speech; npm's
// `libretranslate` client translates. The server wants an engine API key.
import assert from 'node:assert/strict';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { translate } from 'libretranslate';
import { LIBRIVOX, startServer } from './support.mjs';

const KEY = 'engine-node-key';
let server, openai;

before(async () => {
  server = await startServer(['--rtc', 'off', '--engine-api-keys', KEY]);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 120000 });
});

after(async () => {
  if (server) await server.stop();
});

function words(text) {
  return text.toLowerCase().replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean);
}

// Word error rate: word-level edit distance over the reference's length.
function wer(reference, hypothesis) {
  const r = words(reference), h = words(hypothesis);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const row = [i];
    for (let j = 1; j <= h.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[h.length] / Math.max(1, r.length);
}

// The LibriVox recordings with their reference transcripts.
function recordings() {
  const ids = readFileSync(join(LIBRIVOX, 'fileids'), 'utf8').split('\n').filter(Boolean);
  const refs = readFileSync(join(LIBRIVOX, 'transcription'), 'utf8').split('\n').filter(Boolean);
  return ids.map((id, i) => ({ wav: join(LIBRIVOX, `${id}.wav`), reference: refs[i].replace(/<\/?s>/g, '').replace(/\(.*\)\s*$/, '').trim() }));
}

test('the openai package transcribes real recordings through parley', { timeout: 180000 }, async () => {
  let errors = 0, total = 0;
  for (const rec of recordings()) {
    const result = await openai.audio.transcriptions.create({
      file: createReadStream(rec.wav), model: 'whisper-1', language: 'en',
    });
    const n = words(rec.reference).length;
    errors += wer(rec.reference, result.text) * n;
    total += n;
    console.log(`ref: ${rec.reference}\nhyp: ${result.text}`);
  }
  console.log(`openai client: WER ${(100 * errors / total).toFixed(1)} % over ${total} words`);
  assert.ok(errors / total <= 0.45, `WER ${(errors / total).toFixed(3)}`);

  const first = recordings()[0];
  const verbose = await openai.audio.transcriptions.create({
    file: createReadStream(first.wav), model: 'whisper-1', response_format: 'verbose_json',
    timestamp_granularities: ['word', 'segment'],
  });
  assert.ok(verbose.duration > 1, JSON.stringify(verbose));
  assert.ok(verbose.segments.length >= 1);
  assert.ok(verbose.words.length >= 3);
  for (const w of verbose.words) assert.ok(w.start <= w.end && w.end <= verbose.duration + 0.05, JSON.stringify(w));
});

test('the openai package synthesises speech, and parley hears it again', { timeout: 120000 }, async () => {
  const speech = await openai.audio.speech.create({
    model: 'tts-1', voice: 'alloy', input: 'Please open the door and close the window.', response_format: 'wav',
  });
  const audio = Buffer.from(await speech.arrayBuffer());
  assert.equal(audio.toString('ascii', 0, 4), 'RIFF');
  assert.ok(audio.length > 22050 * 2, `${audio.length} bytes: under a second of speech`);
  // espeak-ng speech recognised by pocketsphinx: plumbing, not accuracy.
  const heard = await openai.audio.transcriptions.create({ file: await toFile(audio, 'speech.wav'), model: 'whisper-1' });
  assert.ok(words(heard.text).includes('door') || words(heard.text).includes('window'), heard.text);

  const mp3 = await openai.audio.speech.create({ model: 'tts-1', voice: 'es', input: 'Buenos días a todos.' });
  const bytes = Buffer.from(await mp3.arrayBuffer());
  assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
  assert.ok(bytes.length > 1000);

  await assert.rejects(openai.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'aac' }),
    (e) => e.status === 400 && /mp3, opus, flac, wav or pcm/.test(e.message));
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrongKey.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x' }), (e) => e.status === 403);
});

test('the libretranslate client translates through parley', { timeout: 60000 }, async () => {
  const es = await translate({ query: 'Good morning, my friends.', source: 'en', target: 'es', apiurl: server.url, apiKey: KEY });
  assert.match(es, /amigos/i);
  const fr = await translate({ query: 'Thank you very much.', source: 'en', target: 'fr', apiurl: server.url, apiKey: KEY });
  assert.match(fr, /merci/i);
  // The client checks languages against GET /languages first.
  await assert.rejects(translate({ query: 'x', source: 'en', target: 'tlh', apiurl: server.url, apiKey: KEY }),
    /not found/);
});
