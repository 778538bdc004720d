// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/talk_words.h"

#include <algorithm>

#include "core/clock.h"
#include "words/spoken.h"

namespace parley::session {

WordsBuilder::WordsBuilder(size_t max_waiting, size_t max_sessions)
    : max_sessions_(max_sessions), pool_(1, max_waiting) {}

bool WordsBuilder::take_place() {
  size_t n = n_sessions_.load();
  while (n < max_sessions_) {
    if (n_sessions_.compare_exchange_weak(n, n + 1)) return true;
  }
  return false;
}

void WordsBuilder::give_place() { n_sessions_.fetch_sub(1); }

struct TalkWords::State {
  std::shared_ptr<const engines::stt::Model> stt;
  std::string language;
  std::function<void(WordsCommand)> deliver;

  mutable std::mutex mu;
  std::string vocabulary;                                 // guarded by mu
  std::string glossary_text;                              // guarded by mu
  std::shared_ptr<const engines::mt::Glossary> glossary;  // guarded by mu
  std::shared_ptr<const engines::tts::Lexicon> lexicon;   // guarded by mu
  std::optional<words::Script> script;                    // guarded by mu
  std::string state = "none";                             // guarded by mu
  std::string error;                                      // guarded by mu
  engines::stt::Adaptation::Stats stats;                  // guarded by mu
  std::shared_ptr<const engines::stt::Adaptation> adaptation;  // guarded by mu: the latest built
  uint64_t revision = 0;                                  // guarded by mu
  uint64_t latest_build = 0;                              // guarded by mu
  int64_t position = -1;                                  // guarded by mu
  bool has_place = false;                                 // guarded by mu
  bool released = false;                                  // guarded by mu

  // Hands a command to the worker with the next revision; under mu, so
  // revisions reach the worker in order.
  void send_locked(std::variant<WordsUpdate, ScriptSeek, ScriptAppend> what) {
    deliver(WordsCommand{++revision, std::move(what)});
  }
};

TalkWords::TalkWords(std::shared_ptr<WordsBuilder> builder, std::shared_ptr<const engines::stt::Model> stt,
                     std::string language, std::function<void(WordsCommand)> deliver)
    : builder_(std::move(builder)), state_(std::make_shared<State>()) {
  state_->stt = std::move(stt);
  state_->language = std::move(language);
  state_->deliver = std::move(deliver);
}

TalkWords::~TalkWords() {
  std::lock_guard lock(state_->mu);
  if (state_->has_place) builder_->give_place();
  state_->has_place = false;
  state_->deliver = [](WordsCommand) {};  // a build finishing later reaches no one
}

core::Status TalkWords::set(std::string vocabulary, std::string script, std::string glossary) {
  for (const auto* t : {&vocabulary, &script, &glossary}) {
    if (t->size() > words::kMaxTextBytes) {
      return core::invalid_argument("a vocabulary or script holds at most " +
                                    std::to_string(words::kMaxTextBytes / 1024) + " KB of text; this one has " +
                                    std::to_string(t->size() / 1024) + " KB");
    }
  }
  std::shared_ptr<const engines::mt::Glossary> parsed;
  if (!words::spoken_tokens(glossary).empty()) {
    auto g = engines::mt::Glossary::parse(glossary, "the glossary");
    if (!g) return g.status();
    if (!g->empty()) parsed = std::make_shared<const engines::mt::Glossary>(std::move(*g));
  }
  // The texts are read once, before the lock (the worker takes it after
  // every final).
  words::Script new_script(std::move(script));
  auto lexicon = names_lexicon(vocabulary, parsed.get(), state_->language);
  const bool clear = words::spoken_tokens(vocabulary).empty() && new_script.tokens().empty() && !parsed;
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.released) return core::failed_precondition("the session has ended");
  if (clear) {
    s.vocabulary.clear();
    s.glossary_text.clear();
    s.glossary.reset();
    s.lexicon.reset();
    s.script.reset();
    s.state = "none";
    s.error.clear();
    s.stats = {};
    s.adaptation.reset();
    s.position = -1;
    ++s.latest_build;  // any build in flight is stale
    s.send_locked(WordsUpdate{std::shared_ptr<const engines::stt::Adaptation>{}, words::Script(""),
                              std::shared_ptr<const engines::mt::Glossary>{},
                              std::shared_ptr<const engines::tts::Lexicon>{}});
    if (s.has_place) builder_->give_place();
    s.has_place = false;
    return {};
  }
  if (!s.has_place) {
    if (!builder_->take_place()) {
      builder_->builds_refused.fetch_add(1);
      return core::resource_exhausted("this server already holds vocabularies for " +
                                      std::to_string(builder_->max_sessions()) +
                                      " sessions; clear one or try again later");
    }
    s.has_place = true;
  }
  s.vocabulary = std::move(vocabulary);
  if (!(parsed && s.glossary && glossary == s.glossary_text)) {  // unchanged: the same one (no reopening)
    s.glossary_text = parsed ? std::move(glossary) : std::string();
    s.glossary = parsed;
  }
  s.script.emplace(std::move(new_script));
  s.position = s.script->tokens().empty() ? -1 : 0;
  s.lexicon = std::move(lexicon);
  // The script is followed, the glossary used and the names said at once;
  // the recogniser learns the words when they are built.
  s.send_locked(WordsUpdate{std::nullopt, *s.script, s.glossary, s.lexicon});
  return build_locked();
}

core::Status TalkWords::seek(size_t sentence) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.released) return core::failed_precondition("the session has ended");
  if (!s.script || s.script->tokens().empty()) {
    return core::failed_precondition("this session has no script; load one first");
  }
  if (sentence >= s.script->n_sentences()) {
    return core::invalid_argument("the script has " + std::to_string(s.script->n_sentences()) +
                                  " sentences, numbered from 0");
  }
  s.position = static_cast<int64_t>(sentence);
  s.send_locked(ScriptSeek{sentence});
  return {};
}

core::Status TalkWords::append_script(std::string more) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.released) return core::failed_precondition("the session has ended");
  if (!s.script || s.script->tokens().empty()) {
    return core::failed_precondition("this session has no script; load one first");
  }
  if (words::spoken_tokens(more).empty()) return core::invalid_argument("the section has no words");
  if (s.script->text().size() + more.size() + 2 > words::kMaxTextBytes) {
    return core::invalid_argument("the script would grow past " + std::to_string(words::kMaxTextBytes / 1024) +
                                  " KB");
  }
  s.script.emplace(s.script->followed_by(more));  // as the worker's follower appends it
  s.send_locked(ScriptAppend{std::move(more)});
  return build_locked();
}

void TalkWords::release() {
  std::lock_guard lock(state_->mu);
  state_->released = true;
  ++state_->latest_build;
  state_->adaptation.reset();  // the worker's copy goes with the pipeline
  if (state_->has_place) builder_->give_place();
  state_->has_place = false;
}

void TalkWords::note_position(int64_t sentence) {
  std::lock_guard lock(state_->mu);
  if (state_->script) state_->position = sentence;
}

core::Status TalkWords::build_locked() {
  State& s = *state_;
  const uint64_t id = ++s.latest_build;
  s.state = "building";
  s.error.clear();
  engines::stt::Vocabulary v{s.vocabulary, s.script ? s.script->text() : std::string()};
  if (s.glossary) {
    for (const auto& term : s.glossary->source_terms(s.language)) v.text += "\n" + term;
  }
  std::weak_ptr<State> weak = state_;
  // A raw pointer: the task runs on the builder's own thread, which the
  // builder joins before it goes (a shared_ptr here could be the last one,
  // and the thread would have to join itself).
  WordsBuilder* builder = builder_.get();
  const bool queued = builder_->submit([weak, builder, id, v = std::move(v)] {
    auto st = weak.lock();
    if (!st || st->stt == nullptr) return;
    {
      std::lock_guard lock(st->mu);
      if (id != st->latest_build) return;  // a newer build is queued
    }
    const int64_t t0 = core::now_us();
    core::Result<std::shared_ptr<const engines::stt::Adaptation>> adapted = core::internal_error("not built");
    try {
      adapted = st->stt->adapt(st->language, v);
    } catch (const std::exception& e) {  // a pool task must not throw (out of memory, say)
      adapted = core::internal_error(std::string("learning the words failed: ") + e.what());
    }
    const double seconds = static_cast<double>(core::now_us() - t0) / 1e6;
    std::lock_guard lock(st->mu);
    if (id != st->latest_build) return;  // superseded while it was built
    if (!adapted) {
      builder->builds_failed.fetch_add(1);
      st->state = "failed";
      st->error = adapted.status().message();
      return;
    }
    builder->builds_ok.fetch_add(1);
    builder->build_seconds.observe(seconds);
    st->adaptation = *adapted;
    st->stats = *adapted ? (*adapted)->stats() : engines::stt::Adaptation::Stats{};
    st->stats.build_ms = seconds * 1000.0;
    if (st->script) st->stats.n_script_words = st->script->tokens().size();
    st->state = "ready";
    st->send_locked(WordsUpdate{st->adaptation, std::nullopt, std::nullopt, std::nullopt});
  });
  if (!queued) {
    // The texts are taken (the script is followed, the glossary used); only
    // the recogniser's learning waits for another try, which the speaker
    // makes by sending them again. Not an error: a retry must not paste a
    // section twice.
    builder_->builds_refused.fetch_add(1);
    s.state = "failed";
    s.error = "the server is busy learning other sessions' words; send them again in a moment";
  }
  return {};
}

std::shared_ptr<const engines::tts::Lexicon> names_lexicon(const std::string& vocabulary,
                                                          const engines::mt::Glossary* glossary,
                                                          const std::string& language) {
  auto lexicon = std::make_shared<engines::tts::Lexicon>();
  std::vector<std::string> names = words::names_in(vocabulary);
  if (glossary != nullptr) {
    for (const auto& term : glossary->kept_terms(language)) {
      for (const auto& w : words::spoken_tokens(term)) {
        std::string written = term.substr(w.begin, w.end - w.begin);
        if (!written.empty() && written[0] >= 'A' && written[0] <= 'Z' &&
            std::find(names.begin(), names.end(), written) == names.end()) {
          names.push_back(std::move(written));
        }
      }
    }
  }
  for (auto& n : names) lexicon->entries.push_back({std::move(n), language});
  if (lexicon->empty()) return nullptr;
  return lexicon;
}

TalkWords::Snapshot TalkWords::snapshot() const {
  const State& s = *state_;
  std::lock_guard lock(s.mu);
  Snapshot out;
  out.state = s.state;
  out.error = s.error;
  out.stats = s.stats;
  out.vocabulary = s.vocabulary;
  out.glossary = s.glossary_text;
  out.parsed_glossary = s.glossary;
  out.lexicon = s.lexicon;
  if (s.script && !s.script->tokens().empty()) {
    out.script = s.script->text();
    for (size_t i = 0; i < s.script->n_sentences(); ++i) out.sentences.emplace_back(s.script->sentence_text(i));
  }
  out.position = s.position;
  out.revision = s.revision;
  out.adaptation = s.adaptation;
  return out;
}

}  // namespace parley::session
