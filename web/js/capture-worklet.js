// SPDX-License-Identifier: GPL-3.0-or-later
// Runs in the AudioWorklet: collects 20 ms of mono audio at the context's
// rate and posts it to the page with its peak level.
class ParleyCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = Math.round(sampleRate / 50);
    this.buf = new Float32Array(this.frame);
    this.fill = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const ch = input[0];
    for (let i = 0; i < ch.length; i++) {
      let v = ch[i];
      if (input.length > 1) v = (v + input[1][i]) / 2;
      this.buf[this.fill++] = v;
      if (this.fill === this.frame) {
        let peak = 0;
        for (let k = 0; k < this.frame; k++) peak = Math.max(peak, Math.abs(this.buf[k]));
        this.port.postMessage({ samples: this.buf.slice(0), peak });
        this.fill = 0;
      }
    }
    return true;
  }
}
registerProcessor('parley-capture', ParleyCapture);
