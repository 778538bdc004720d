// SPDX-License-Identifier: GPL-3.0-or-later
// A session's own words: its vocabulary (an agenda, names, related text),
// its glossary's source terms, and the script the speaker reads; what the
// recogniser made of them; and where the speaker is in the script.
//
// The recogniser's preparation (engines::stt::Model::adapt: a second or two
// of CPU and ~90 MB for the embedded engine) runs on the process's
// WordsBuilder thread, never on a network thread or the session's worker.
// When it is ready, the session's worker gets a WordsCommand and applies it
// between utterances. Every change carries a revision, so a worker that
// starts later (from snapshot()) skips the commands it already reflects.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/histogram.h"
#include "core/status.h"
#include "core/work_pool.h"
#include "engines/mt/glossary.h"
#include "engines/stt/stt.h"
#include "engines/tts/tts.h"
#include "words/script.h"

namespace parley::session {

// Builds every session's preparation, one at a time (they are CPU-heavy
// and the live sessions come first), and bounds how many sessions hold
// one at once (each holds its own decoder's memory). Process-wide.
class WordsBuilder {
 public:
  WordsBuilder(size_t max_waiting, size_t max_sessions);
  // False when `max_waiting` builds already wait.
  bool submit(std::function<void()> task) { return pool_.submit(std::move(task)); }
  // A session takes a place before its first build and gives it back when
  // its words are cleared or it ends. False when all places are taken.
  bool take_place();
  void give_place();
  size_t n_sessions() const { return n_sessions_.load(); }
  size_t max_sessions() const { return max_sessions_; }
  // For /metrics.
  core::Histogram build_seconds;
  std::atomic<uint64_t> builds_ok{0};
  std::atomic<uint64_t> builds_failed{0};
  std::atomic<uint64_t> builds_refused{0};  // queue full or no place
  // Stops taking builds and finishes those queued (before engines go).
  void stop() { pool_.stop(); }

 private:
  const size_t max_sessions_;
  std::atomic<size_t> n_sessions_{0};
  core::WorkPool pool_;
};

// What the worker applies, in the order they come: a new script (at once,
// when the speaker gives it), the recogniser's preparation (when it is
// built), a seek, a section pasted after the script.
struct WordsUpdate {
  // nullopt: unchanged; null: the generic model.
  std::optional<std::shared_ptr<const engines::stt::Adaptation>> adaptation;
  // nullopt: unchanged; an empty script ends script mode.
  std::optional<words::Script> script;
  // nullopt: unchanged; null: none.
  std::optional<std::shared_ptr<const engines::mt::Glossary>> glossary;
  // nullopt: unchanged; null: none.
  std::optional<std::shared_ptr<const engines::tts::Lexicon>> lexicon;
};
struct ScriptSeek {
  size_t sentence = 0;
};
struct ScriptAppend {
  std::string text;
};
struct WordsCommand {
  uint64_t revision = 0;
  std::variant<WordsUpdate, ScriptSeek, ScriptAppend> what;
};

// The names a session's speech says the source language's way in every
// language (tts::Lexicon): those of the vocabulary (words::names_in) and
// the glossary's terms kept as they are. Null when there are none.
std::shared_ptr<const engines::tts::Lexicon> names_lexicon(const std::string& vocabulary,
                                                          const engines::mt::Glossary* glossary,
                                                          const std::string& language);

class TalkWords {
 public:
  // `deliver` hands a command to the session's worker (it must not block).
  TalkWords(std::shared_ptr<WordsBuilder> builder, std::shared_ptr<const engines::stt::Model> stt,
            std::string language, std::function<void(WordsCommand)> deliver);
  ~TalkWords();
  TalkWords(const TalkWords&) = delete;
  TalkWords& operator=(const TalkWords&) = delete;

  // Replaces the vocabulary, the script and the glossary (any may be
  // empty; all empty: back to the generic model, and script mode ends).
  // The glossary (engines/mt/glossary.h) applies to translations at once,
  // and its source terms join the vocabulary. invalid_argument when a text
  // is larger than words::kMaxTextBytes or the glossary is malformed;
  // resource_exhausted when the builder is full or every place is taken
  // (retry later).
  core::Status set(std::string vocabulary, std::string script, std::string glossary = {});
  // Script mode only (failed_precondition otherwise): the speaker continues
  // from sentence `s`, or adds a section after the script, which is also
  // learnt by the recogniser (rebuilt in the background).
  core::Status seek(size_t sentence);
  core::Status append_script(std::string more);
  // The worker reports where the speaker is after each final.
  void note_position(int64_t sentence);
  // The session ended: its place goes back to the builder, a build in
  // flight is dropped, and set() is refused from now on.
  void release();

  struct Snapshot {
    // "none", "building", "ready" or "failed".
    std::string state = "none";
    std::string error;
    engines::stt::Adaptation::Stats stats;
    std::string vocabulary;
    std::string glossary;
    std::shared_ptr<const engines::mt::Glossary> parsed_glossary;
    std::shared_ptr<const engines::tts::Lexicon> lexicon;  // the names, said the source language's way
    std::string script;
    std::vector<std::string> sentences;  // the script's, as written
    int64_t position = -1;               // the sentence the speaker is at; -1 without a script
    uint64_t revision = 0;
    // For a worker that starts now: what to recognise with and follow.
    std::shared_ptr<const engines::stt::Adaptation> adaptation;
  };
  Snapshot snapshot() const;

 private:
  struct State;
  // Queues a build of the current texts; the caller holds the state's lock.
  core::Status build_locked();
  std::shared_ptr<WordsBuilder> builder_;
  std::shared_ptr<State> state_;
};

}  // namespace parley::session
