// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/openai/openai_tts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "audio/resampler.h"
#include "audio/wav_io.h"
#include "engines/language.h"
#include "engines/remote/endpoint.h"
#include "engines/tts/alignment.h"
#include "engines/tts/espeak/espeak_tts.h"

namespace parley::engines::tts {
namespace {

using nlohmann::json;
constexpr int kDefaultTimeoutMs = 8000;

struct Shared {
  std::shared_ptr<remote::Endpoint> endpoint;
  std::shared_ptr<const Model> espeak;  // phoneme timings for the avatar
  std::string model;
  int rate_hz = 22050;
};

core::Result<audio::MonoPcm> at_rate(audio::MonoPcm pcm, int rate_hz) {
  if (pcm.sample_rate_hz == rate_hz) return pcm;
  return audio::resample(pcm, rate_hz);
}

void deliver(const Speech& speech, const std::function<void(const SpeechChunk&)>& on_chunk) {
  on_chunk({speech.audio.samples, speech.phonemes, speech.words});
}

class RemoteStream final : public Stream {
 public:
  RemoteStream(std::shared_ptr<const Shared> shared, std::string language, std::string voice,
               std::shared_ptr<const Model> fallback)
      : shared_(std::move(shared)), language_(std::move(language)), voice_(std::move(voice)),
        fallback_model_(std::move(fallback)) {}

  int sample_rate_hz() const override { return shared_->rate_hz; }

  bool set_rate(double factor) override {
    speed_ = std::clamp(factor, 0.25, 4.0);  // the API's range for `speed`
    if (fallback_) fallback_->set_rate(factor);
    return true;
  }

  core::Status synthesize(std::string_view text, const std::function<void(const SpeechChunk&)>& on_chunk) override {
    core::Status why = core::unavailable("the speech server's circuit breaker is open");
    if (shared_->endpoint->available()) {
      auto speech = call(text);
      if (speech) {
        deliver(*speech, on_chunk);
        return {};
      }
      why = speech.status();
    }
    if (!fallback_model_) return why;
    if (!fallback_) {
      auto opened = fallback_model_->open_stream(language_);
      if (!opened) return why;
      fallback_ = std::move(*opened);
      fallback_->set_rate(speed_);
    }
    shared_->endpoint->fell_back();
    if (fallback_->sample_rate_hz() == shared_->rate_hz) return fallback_->synthesize(text, on_chunk);
    auto whole = synthesize_all(*fallback_, text);
    if (!whole) return whole.status();
    auto pcm = at_rate(std::move(whole->audio), shared_->rate_hz);
    if (!pcm) return pcm.status();
    const double scale = static_cast<double>(shared_->rate_hz) / fallback_->sample_rate_hz();
    for (auto& p : whole->phonemes) p.sample = static_cast<int64_t>(static_cast<double>(p.sample) * scale);
    for (auto& w : whole->words) w.sample = static_cast<int64_t>(static_cast<double>(w.sample) * scale);
    whole->audio = std::move(*pcm);
    deliver(*whole, on_chunk);
    return {};
  }

 private:
  core::Result<Speech> call(std::string_view text) {
    auto& endpoint = *shared_->endpoint;
    remote::HttpExchange x;
    x.path = "/audio/speech";
    x.content_type = "application/json";
    x.bearer = endpoint.config().api_key;
    json request{{"model", shared_->model}, {"input", std::string(text)}, {"voice", voice_}, {"response_format", "wav"}};
    if (speed_ != 1.0) request["speed"] = speed_;
    x.body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    auto answer = endpoint.call(x);
    if (!answer) return answer.status();
    if (answer->status != 200) {
      return core::unavailable("speech server answered " + std::to_string(answer->status) + ": " +
                               answer->body.substr(0, 200));
    }
    auto pcm = audio::decode_audio(answer->body, "the speech server's answer");
    if (!pcm) {
      endpoint.bad_answer();
      return pcm.status();
    }
    auto delivered = at_rate(std::move(*pcm), shared_->rate_hz);
    if (!delivered) return delivered.status();
    // The avatar's timings: espeak-ng's phonemes of the same text, fitted.
    if (!espeak_) {
      auto opened = shared_->espeak->open_stream(language_);
      if (opened) espeak_ = std::move(*opened);
    }
    if (espeak_) espeak_->set_rate(speed_);
    if (espeak_) {
      if (auto guide = synthesize_all(*espeak_, text)) return fit_timings(*guide, std::move(*delivered));
    }
    Speech plain;
    plain.audio = std::move(*delivered);
    return plain;
  }

  std::shared_ptr<const Shared> shared_;
  std::string language_, voice_;
  std::shared_ptr<const Model> fallback_model_;
  std::unique_ptr<Stream> fallback_;
  std::unique_ptr<Stream> espeak_;
  double speed_ = 1.0;
};

class OpenAiTtsModel final : public Model {
 public:
  OpenAiTtsModel(std::shared_ptr<const Shared> shared, std::vector<Voice> voices)
      : shared_(std::move(shared)), voices_(std::move(voices)) {}
  std::string name() const override { return "openai-tts"; }
  std::vector<Voice> voices() const override { return voices_; }
  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override {
    return open_stream_with_fallback(language, nullptr);
  }
  core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(const std::string& language,
                                                                  std::shared_ptr<const Model> fallback) const override {
    for (const auto& v : voices_) {
      if (v.language == language) {
        return std::unique_ptr<Stream>(std::make_unique<RemoteStream>(shared_, language, v.name, std::move(fallback)));
      }
    }
    return core::not_found("openai-tts at " + shared_->endpoint->config().url.text() + " is not configured for '" +
                           language + "'");
  }

 private:
  std::shared_ptr<const Shared> shared_;
  std::vector<Voice> voices_;
};

}  // namespace

core::Result<std::shared_ptr<const Model>> make_openai_tts(const Settings& settings) {
  auto config = remote::endpoint_config("tts", "openai-tts", settings, kDefaultTimeoutMs);
  if (!config) return config.status();
  const auto languages = settings.languages();
  if (languages.empty()) {
    return core::invalid_argument("tts engine 'openai-tts' needs languages=…: the languages its server speaks");
  }
  std::map<std::string, std::string> voice_of;
  if (auto pairs = settings.get("voices")) {
    std::string_view rest = *pairs;
    while (!rest.empty()) {
      const auto plus = rest.find('+');
      const auto pair = rest.substr(0, plus);
      const auto colon = pair.find(':');
      auto lang = normalize_language(pair.substr(0, colon));
      if (colon == std::string_view::npos || !lang || colon + 1 >= pair.size()) {
        return core::invalid_argument("openai-tts voices= takes language:voice pairs joined by '+', not '" +
                                      std::string(pair) + "'");
      }
      voice_of[*lang] = std::string(pair.substr(colon + 1));
      rest = plus == std::string_view::npos ? std::string_view{} : rest.substr(plus + 1);
    }
  }
  auto rate = settings.get_long("rate-hz", 22050, 8000, 48000);
  if (!rate) return rate.status();
  auto espeak = make_espeak_tts();
  if (!espeak) return espeak.status();
  auto shared = std::make_shared<Shared>();
  shared->endpoint = std::make_shared<remote::Endpoint>(*config);
  shared->espeak = *espeak;
  shared->model = settings.get_or("model", "tts-1");
  shared->rate_hz = static_cast<int>(*rate);
  std::vector<Voice> voices;
  for (const auto& l : languages) voices.push_back({l, voice_of.count(l) ? voice_of[l] : l});
  return std::shared_ptr<const Model>(std::make_shared<OpenAiTtsModel>(std::move(shared), std::move(voices)));
}

}  // namespace parley::engines::tts
