// SPDX-License-Identifier: GPL-3.0-or-later
// Text to speech: the engine contract.
//
// A Model is loaded once and shared; it lists the voices it has. A Stream
// speaks one language for one session and is driven by one thread at a time.
// synthesize() delivers audio in chunks as the engine produces them (so a
// listener can hear the start before the end is made) together with phoneme
// and word events whose positions are sample indices into the utterance's
// audio: the avatar's lip-sync is built from them. It blocks for the engine's
// compute time only. Engines whose library has global state (espeak-ng)
// serialise inside the engine; callers need not know.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audio/pcm.h"
#include "core/status.h"

namespace parley::engines::tts {

struct PhonemeEvent {
  std::string symbol;  // IPA where the engine can give it
  int64_t sample = 0;  // index into the utterance's audio
};

struct WordEvent {
  int64_t text_offset = 0;  // in characters of the synthesized text
  int64_t text_length = 0;
  int64_t sample = 0;
};

struct SpeechChunk {
  std::span<const float> audio;        // next samples, contiguous with the last chunk
  std::span<const PhonemeEvent> phonemes;
  std::span<const WordEvent> words;
};

// A whole utterance's speech.
struct Speech {
  audio::MonoPcm audio;
  std::vector<PhonemeEvent> phonemes;
  std::vector<WordEvent> words;
};

struct Voice {
  std::string language;  // normalised code
  std::string name;      // engine's voice identifier
};

// A session's pronunciation lexicon: names said the same way in every
// language. Each is spoken with the voice of the language it comes from
// (a name on an English agenda sounds English in the Spanish speech too),
// wherever it appears, as written, as a whole word. Immutable.
struct Lexicon {
  struct Entry {
    std::string text;      // as written: "Quillfeather"
    std::string language;  // whose voice says it: "en"
  };
  std::vector<Entry> entries;
  bool empty() const { return entries.empty(); }
};

class Stream {
 public:
  virtual ~Stream() = default;
  virtual int sample_rate_hz() const = 0;
  // Says the lexicon's names its way from the next synthesize() on (null:
  // none). Engines that cannot switch voices mid-sentence ignore it.
  virtual void use_lexicon(std::shared_ptr<const Lexicon> /*lexicon*/) {}
  // Calls on_chunk zero or more times, in order, before returning.
  virtual core::Status synthesize(std::string_view text,
                                  const std::function<void(const SpeechChunk&)>& on_chunk) = 0;
  // Speaking rate for the following synthesize() calls, as a factor of the
  // voice's own (1 = normal; the pipeline's pace controller uses 1 to 1.4).
  // Engines clamp it to what they support; false when they cannot change it.
  virtual bool set_rate(double /*factor*/) { return false; }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Voice> voices() const = 0;
  // The engine that speaks `language`: name() unless the model combines
  // several (tts/chain.h); empty when none does.
  virtual std::string engine_for(const std::string& /*language*/) const { return name(); }
  // Thread-safe. not_found when the model has no voice for the language.
  virtual core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const = 0;
  // The same, with `fallback` (another model for this language, or null)
  // to use when this one fails: remote engines use it; embedded ones have
  // nothing to fall back from.
  virtual core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(
      const std::string& language, std::shared_ptr<const Model> /*fallback*/) const {
    return open_stream(language);
  }
};

// Collects every chunk of one utterance.
core::Result<Speech> synthesize_all(Stream& stream, std::string_view text);

}  // namespace parley::engines::tts
