// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/openai/openai_stt.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

#include "audio/pcm.h"
#include "audio/wav_io.h"
#include "core/log.h"
#include "core/work_pool.h"
#include "engines/remote/endpoint.h"

namespace parley::engines::stt {
namespace {

using nlohmann::json;
constexpr int kDefaultTimeoutMs = 8000;
constexpr size_t kMaxUtteranceSamples = 16000 * 120;  // what one request may carry
constexpr int kSlowAnswersToGiveUp = 3;

struct Shared {
  std::shared_ptr<remote::Endpoint> endpoint;
  std::string model;
  int partial_interval_ms = 1000;
  std::unique_ptr<core::WorkPool> partials;  // background re-transcriptions; full: skipped
};

std::string boundary() { return "----parley-stt-5c1e2b"; }

// The multipart body of one transcription request.
std::string form(const std::vector<float>& samples, const std::string& model, const std::string& language,
                 bool verbose, const std::string& prompt) {
  const std::string b = boundary();
  std::string body;
  auto field = [&](const std::string& name, const std::string& value) {
    body += "--" + b + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  };
  field("model", model);
  field("language", language);
  field("response_format", verbose ? "verbose_json" : "json");
  if (!prompt.empty()) field("prompt", prompt);
  if (verbose) field("timestamp_granularities[]", "word");
  body += "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"utterance.wav\"\r\n"
          "Content-Type: audio/wav\r\n\r\n";
  body += audio::encode_wav16({samples, audio::kPipelineRateHz});
  body += "\r\n--" + b + "--\r\n";
  return body;
}

// Words of a verbose_json answer, or none.
std::vector<Word> words_of(const json& j) {
  std::vector<Word> out;
  if (!j.contains("words") || !j["words"].is_array()) return out;
  for (const auto& w : j["words"]) {
    if (!w.is_object() || !w.contains("word") || !w["word"].is_string()) continue;
    const double start = w.value("start", 0.0);
    const double end = w.value("end", start);
    out.push_back({w["word"].get<std::string>(), std::llround(start * 1000), std::llround(end * 1000)});
  }
  return out;
}

// One whole request; the answer's text (single spaces) and words.
core::Result<Hypothesis> transcribe(remote::Endpoint& endpoint, const std::string& model,
                                    const std::vector<float>& samples, const std::string& language, bool verbose,
                                    const std::string& prompt) {
  remote::HttpExchange x;
  x.path = "/audio/transcriptions";
  x.content_type = "multipart/form-data; boundary=" + boundary();
  x.accept = "application/json";
  x.bearer = endpoint.config().api_key;
  x.body = form(samples, model, language, verbose, prompt);
  auto answer = endpoint.call(x);
  if (!answer) return answer.status();
  if (answer->status != 200) {
    return core::unavailable("speech recognition server answered " + std::to_string(answer->status) + ": " +
                             answer->body.substr(0, 200));
  }
  auto j = json::parse(answer->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string()) {
    endpoint.bad_answer();
    return core::unavailable("speech recognition server sent an answer without text");
  }
  Hypothesis h;
  std::string text = j["text"].get<std::string>();
  // Single spaces, no leading or trailing ones (whisper answers " Hello.").
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (h.text.empty() || h.text.back() == ' ')) continue;
    h.text.push_back(space ? ' ' : c);
  }
  while (!h.text.empty() && h.text.back() == ' ') h.text.pop_back();
  if (verbose) h.words = words_of(j);
  return h;
}

// A session's words as an OpenAI-compatible server takes them: the
// `prompt` field, which Whisper-class decoders read as the text before the
// audio. They keep only its last 224 tokens, so it is trimmed here, to
// kMaxPromptChars (about 200 tokens of English) at a word's end: glossary
// terms and vocabulary first (names are what a prompt helps most), then the
// script's opening.
class PromptAdaptation final : public Adaptation {
 public:
  static constexpr size_t kMaxPromptChars = 800;
  explicit PromptAdaptation(const Vocabulary& v) {
    std::string all = v.text + "\n" + v.script;
    for (char c : all) {
      const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
      if (space && (prompt_.empty() || prompt_.back() == ' ')) continue;
      prompt_.push_back(space ? ' ' : c);
    }
    if (prompt_.size() > kMaxPromptChars) {
      size_t cut = prompt_.rfind(' ', kMaxPromptChars);
      prompt_.resize(cut == std::string::npos ? kMaxPromptChars : cut);
      while (!prompt_.empty() && (static_cast<unsigned char>(prompt_.back()) & 0xC0) == 0x80) prompt_.pop_back();
      if (!prompt_.empty() && static_cast<unsigned char>(prompt_.back()) >= 0xC0) prompt_.pop_back();
    }
    while (!prompt_.empty() && prompt_.back() == ' ') prompt_.pop_back();
    stats_.n_words = static_cast<size_t>(std::count(prompt_.begin(), prompt_.end(), ' ')) + (prompt_.empty() ? 0 : 1);
  }
  const std::string& prompt() const { return prompt_; }
  Stats stats() const override { return stats_; }

 private:
  std::string prompt_;
  Stats stats_;
};

// What the background re-transcriptions left for partial().
struct PartialState {
  std::mutex mu;
  Hypothesis latest;
  bool in_flight = false;
  uint64_t utterance = 0;  // a result for an older utterance is dropped
};

class RemoteStream final : public Stream {
 public:
  RemoteStream(std::shared_ptr<Shared> shared, std::string language, std::shared_ptr<const Model> fallback)
      : shared_(std::move(shared)), language_(std::move(language)), fallback_model_(std::move(fallback)),
        partial_(std::make_shared<PartialState>()), partials_on_(shared_->partial_interval_ms > 0) {}

  void use(std::shared_ptr<const Adaptation> adaptation) override {
    const auto* own = dynamic_cast<const PromptAdaptation*>(adaptation.get());
    if (adaptation == nullptr || own != nullptr) prompt_ = own != nullptr ? own->prompt() : std::string();
  }

  core::Status begin_utterance() override {
    if (open_) return core::failed_precondition("an utterance is already open");
    open_ = true;
    samples_.clear();
    asked_at_samples_ = 0;
    {
      std::lock_guard lock(partial_->mu);
      partial_->latest = {};
      ++partial_->utterance;
    }
    // While the server is known to be down, the whole utterance goes to the
    // fallback as it arrives (its partials too).
    local_ = !shared_->endpoint->available() && open_fallback();
    if (local_) return fallback_->begin_utterance();
    return {};
  }

  core::Status accept(std::span<const float> samples) override {
    if (!open_) return core::failed_precondition("no utterance is open");
    if (samples_.size() < kMaxUtteranceSamples) {
      samples_.insert(samples_.end(), samples.begin(),
                      samples.begin() + static_cast<std::ptrdiff_t>(std::min(samples.size(), kMaxUtteranceSamples - samples_.size())));
    }
    if (local_) return fallback_->accept(samples);
    return {};
  }

  core::Result<Hypothesis> partial() override {
    if (local_) return fallback_->partial();
    if (partials_on_) maybe_ask();
    std::lock_guard lock(partial_->mu);
    return partial_->latest;
  }

  core::Result<Hypothesis> end_utterance() override {
    if (!open_) return core::failed_precondition("no utterance is open");
    open_ = false;
    if (local_) {
      shared_->endpoint->fell_back();
      return fallback_->end_utterance();
    }
    if (samples_.empty()) return Hypothesis{};
    auto h = transcribe(*shared_->endpoint, shared_->model, samples_, language_, true, prompt_);
    if (h) return h;
    if (!open_fallback()) return h.status();
    // The same audio, decoded here.
    shared_->endpoint->fell_back();
    if (auto st = fallback_->begin_utterance(); !st) return st;
    if (auto st = fallback_->accept(samples_); !st) return st;
    return fallback_->end_utterance();
  }

 private:
  bool open_fallback() {
    if (fallback_) return true;
    if (!fallback_model_) return false;
    auto opened = fallback_model_->open_stream(language_);
    if (!opened) return false;
    fallback_ = std::move(*opened);
    return true;
  }

  // Starts a background re-transcription of the utterance so far when the
  // last one is done and the utterance grew by an interval.
  void maybe_ask() {
    const auto interval = static_cast<size_t>(shared_->partial_interval_ms) * audio::kPipelineRateHz / 1000;
    if (samples_.size() < asked_at_samples_ + interval) return;
    uint64_t utterance = 0;
    {
      std::lock_guard lock(partial_->mu);
      if (partial_->in_flight) return;
      partial_->in_flight = true;
      utterance = partial_->utterance;
    }
    asked_at_samples_ = samples_.size();
    // The task holds the endpoint, not the model's shared state: the pool
    // it runs on belongs to that state and must never be destroyed from it.
    const auto budget_ms = shared_->partial_interval_ms;
    const bool queued = shared_->partials->submit([state = partial_, endpoint = shared_->endpoint, model = shared_->model,
                                                   samples = samples_, language = language_, utterance, budget_ms,
                                                   slow = slow_, prompt = prompt_] {
      const auto t0 = std::chrono::steady_clock::now();
      auto h = transcribe(*endpoint, model, samples, language, false, prompt);
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      std::lock_guard lock(state->mu);
      state->in_flight = false;
      if (h && state->utterance == utterance) state->latest = std::move(*h);
      // Three answers in a row slower than the interval: the server cannot keep up.
      if (took.count() > budget_ms) {
        ++*slow;
      } else {
        *slow = 0;
      }
    });
    if (!queued) {
      std::lock_guard lock(partial_->mu);
      partial_->in_flight = false;
    }
    if (slow_->load() >= kSlowAnswersToGiveUp && partials_on_) {
      partials_on_ = false;
      ++shared_->endpoint->stats().partials_disabled;
      core::log_warn("engines", "openai-stt at " + shared_->endpoint->config().url.text() +
                                    " answered slower than partial-interval-ms=" + std::to_string(budget_ms) +
                                    " three times in a row: this speaker gets finals only");
    }
  }

  std::shared_ptr<Shared> shared_;
  std::string language_;
  std::shared_ptr<const Model> fallback_model_;
  std::unique_ptr<Stream> fallback_;
  std::shared_ptr<PartialState> partial_;
  std::shared_ptr<std::atomic<int>> slow_ = std::make_shared<std::atomic<int>>(0);  // slow answers in a row
  bool partials_on_;
  bool open_ = false;
  bool local_ = false;  // this utterance goes to the fallback
  std::vector<float> samples_;
  size_t asked_at_samples_ = 0;
  std::string prompt_;  // the session's words, for the server's decoder
};

class OpenAiSttModel final : public Model {
 public:
  OpenAiSttModel(std::shared_ptr<Shared> shared, std::vector<std::string> languages)
      : shared_(std::move(shared)), languages_(std::move(languages)) {}
  std::string name() const override { return "openai-stt"; }
  core::Result<std::shared_ptr<const Adaptation>> adapt(const std::string& /*language*/,
                                                        const Vocabulary& vocabulary) const override {
    if (vocabulary.empty()) return std::shared_ptr<const Adaptation>{};
    return std::shared_ptr<const Adaptation>(std::make_shared<PromptAdaptation>(vocabulary));
  }
  std::vector<std::string> languages() const override { return languages_; }
  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override {
    return open_stream_with_fallback(language, nullptr);
  }
  core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(const std::string& language,
                                                                  std::shared_ptr<const Model> fallback) const override {
    if (std::find(languages_.begin(), languages_.end(), language) == languages_.end()) {
      return core::not_found("openai-stt at " + shared_->endpoint->config().url.text() + " is not configured for '" +
                             language + "'");
    }
    return std::unique_ptr<Stream>(std::make_unique<RemoteStream>(shared_, language, std::move(fallback)));
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::vector<std::string> languages_;
};

}  // namespace

core::Result<std::shared_ptr<const Model>> make_openai_stt(const Settings& settings) {
  auto config = remote::endpoint_config("stt", "openai-stt", settings, kDefaultTimeoutMs);
  if (!config) return config.status();
  auto languages = settings.languages();
  if (languages.empty()) {
    return core::invalid_argument("stt engine 'openai-stt' needs languages=…: the languages its server recognises");
  }
  auto interval = settings.get_long("partial-interval-ms", 1000, 0, 60000);
  if (!interval) return interval.status();
  auto shared = std::make_shared<Shared>();
  shared->endpoint = std::make_shared<remote::Endpoint>(*config);
  shared->model = settings.get_or("model", "whisper-1");
  shared->partial_interval_ms = static_cast<int>(*interval);
  shared->partials = std::make_unique<core::WorkPool>(config->workers, config->workers * 2);
  return std::shared_ptr<const Model>(std::make_shared<OpenAiSttModel>(std::move(shared), std::move(languages)));
}

}  // namespace parley::engines::stt
