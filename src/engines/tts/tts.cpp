// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/tts.h"

namespace parley::engines::tts {

core::Result<Speech> synthesize_all(Stream& stream, std::string_view text) {
  Speech s;
  s.audio.sample_rate_hz = stream.sample_rate_hz();
  auto st = stream.synthesize(text, [&](const SpeechChunk& c) {
    s.audio.samples.insert(s.audio.samples.end(), c.audio.begin(), c.audio.end());
    s.phonemes.insert(s.phonemes.end(), c.phonemes.begin(), c.phonemes.end());
    s.words.insert(s.words.end(), c.words.begin(), c.words.end());
  });
  if (!st) return st;
  return s;
}

}  // namespace parley::engines::tts
