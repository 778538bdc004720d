// SPDX-License-Identifier: GPL-3.0-or-later
// Writes the speech probability of each 512-sample window of a 16 kHz mono
// 16-bit WAV, as ONNX Runtime computes it from a Silero VAD model: the
// reference that tests/unit/engines/silero_vad_test.cpp holds parley's own
// implementation of the network to (tests/data/silero_reference.txt).
//
// ONNX Runtime is not one of parley's dependencies; run this from a scratch
// folder where it is installed:
//   npm install onnxruntime-web && node /path/to/silero_reference.mjs MODEL.onnx WAV > OUT
// (the window and context handling is Silero's own wrapper's: each window is
// preceded by the previous window's last 64 samples).
import * as ort from 'onnxruntime-web';
import fs from 'fs';

const [model, wav] = process.argv.slice(2);
if (!model || !wav) {
  console.error('usage: node silero_reference.mjs MODEL.onnx FILE.wav');
  process.exit(2);
}
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(fs.readFileSync(model));
const sr = new ort.Tensor('int64', [16000n]);
const buf = fs.readFileSync(wav);
let data = null;
for (let off = 12; off + 8 <= buf.length;) {
  const id = buf.toString('ascii', off, off + 4);
  const len = buf.readUInt32LE(off + 4);
  if (id === 'data') { data = buf.subarray(off + 8, off + 8 + len); break; }
  off += 8 + len + (len & 1);
}
if (!data) throw new Error(`${wav}: no data chunk`);
const x = new Float32Array(data.length >> 1);
for (let i = 0; i < x.length; i++) x[i] = data.readInt16LE(2 * i) / 32768;
let state = new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]);
let context = new Float32Array(64);
const out = [];
for (let s = 0; s + 512 <= x.length; s += 512) {
  const input = new Float32Array(576);
  input.set(context, 0);
  input.set(x.subarray(s, s + 512), 64);
  context = x.slice(s + 448, s + 512);
  const r = await session.run({ input: new ort.Tensor('float32', input, [1, 576]), state, sr });
  state = r.stateN;
  out.push(r.output.data[0].toFixed(4));
}
console.log(out.join('\n'));
