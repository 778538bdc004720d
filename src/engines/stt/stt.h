// SPDX-License-Identifier: GPL-3.0-or-later
// Speech to text: the engine contract.
//
// A Model is loaded once, immutable and shareable across threads; it names the
// languages it recognises. A Stream is one speaker's recogniser: it is kept
// alive across that speaker's utterances (engines adapt to the voice and the
// channel — pocketsphinx's cepstral normalisation loses 10–60 WER points when
// cold), and it is driven by exactly one thread. Stream calls block only on
// computation, never on I/O. A Whisper-class engine implements the same two
// classes in its own folder; the pipeline does not change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace parley::engines::stt {

struct Word {
  std::string text;
  // Relative to the start of the utterance's audio, in milliseconds.
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

struct Hypothesis {
  std::string text;         // words separated by single spaces, no fillers
  std::vector<Word> words;  // empty when the engine gives no timings
};

// The talk's own words, for the recogniser to expect. Both texts are free
// text as a person wrote it (an agenda, names, slides, a speech).
struct Vocabulary {
  // Related text and terms (a session's vocabulary and its glossary's
  // source terms): recognition leans toward its words and phrases.
  std::string text;
  // What the speaker will read: recognition leans strongly toward it.
  std::string script;
  bool empty() const { return text.empty() && script.empty(); }
};

// An engine's preparation of a Vocabulary for one language (for the
// embedded recogniser, decoders with the words added and a session
// language model). Built by Model::adapt, once, off the session's worker;
// immutable and shared by the streams that use it.
class Adaptation {
 public:
  virtual ~Adaptation() = default;
  struct Stats {
    size_t n_words = 0;          // distinct words in the texts
    size_t n_new_words = 0;      // of them, not in the recogniser's dictionary
    size_t n_unpronounced = 0;   // new words no pronunciation was found for (left out)
    size_t n_script_words = 0;   // words in the script
    size_t n_decoders = 0;       // decoders prepared with the words
    double build_ms = 0;         // wall time of Model::adapt
  };
  virtual Stats stats() const = 0;
};

class Stream {
 public:
  virtual ~Stream() = default;
  // Recognises with `adaptation` (from this stream's Model::adapt, or null
  // for none) from the next utterance on. An adaptation from another engine
  // is ignored.
  virtual void use(std::shared_ptr<const Adaptation> /*adaptation*/) {}
  // Starts an utterance. Fails when one is already open.
  virtual core::Status begin_utterance() = 0;
  // Feeds 16 kHz mono samples of the open utterance.
  virtual core::Status accept(std::span<const float> samples) = 0;
  // The best hypothesis so far; cheap enough to call every 100–200 ms.
  virtual core::Result<Hypothesis> partial() = 0;
  // Closes the utterance and returns the final hypothesis (text may be empty).
  virtual core::Result<Hypothesis> end_utterance() = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  // Normalised language codes this model recognises ("en").
  virtual std::vector<std::string> languages() const = 0;
  // The engine that recognises `language`: name() unless the model combines
  // several (stt/chain.h); empty when none does.
  virtual std::string engine_for(const std::string& /*language*/) const { return name(); }
  // Thread-safe; may take a second (loading acoustic models). Fails with
  // not_found for a language the model does not recognise.
  virtual core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const = 0;
  // The same, with `fallback` (another model for this language, or null)
  // to use when this one fails: remote engines use it; embedded ones have
  // nothing to fall back from.
  // Prepares `vocabulary` for `language`: seconds of CPU and tens of MB
  // for the embedded recogniser, so call it off the session's worker.
  // Thread-safe. Null (not an error) for an engine that cannot use one.
  virtual core::Result<std::shared_ptr<const Adaptation>> adapt(const std::string& /*language*/,
                                                                const Vocabulary& /*vocabulary*/) const {
    return std::shared_ptr<const Adaptation>{};
  }
  virtual core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(
      const std::string& language, std::shared_ptr<const Model> /*fallback*/) const {
    return open_stream(language);
  }
};

}  // namespace parley::engines::stt
