// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/mt/libretranslate/libretranslate_mt.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "core/log.h"
#include "engines/language.h"
#include "engines/remote/endpoint.h"

namespace parley::engines::mt {
namespace {

using nlohmann::json;
constexpr int kDefaultTimeoutMs = 3000;

class RemoteStream final : public Stream {
 public:
  RemoteStream(std::shared_ptr<remote::Endpoint> endpoint, Direction d, std::string from_code, std::string to_code,
               std::shared_ptr<const Model> fallback)
      : endpoint_(std::move(endpoint)), d_(std::move(d)), from_(std::move(from_code)), to_(std::move(to_code)),
        fallback_model_(std::move(fallback)) {}

  core::Result<std::string> translate(std::string_view text) override {
    core::Status why = core::unavailable("the translation server's circuit breaker is open");
    if (endpoint_->available()) {
      auto r = call(text);
      if (r) return r;
      why = r.status();
    }
    if (!fallback_model_) return why;
    if (!fallback_) {
      auto opened = fallback_model_->open_stream(d_);
      if (!opened) return why;
      fallback_ = std::move(*opened);
    }
    endpoint_->fell_back();
    return fallback_->translate(text);
  }

 private:
  core::Result<std::string> call(std::string_view text) {
    json body = {{"q", std::string(text)}, {"source", from_}, {"target", to_}, {"format", "text"}};
    const auto& key = endpoint_->config().api_key;
    if (!key.empty()) body["api_key"] = key;
    remote::HttpExchange x;
    x.path = "/translate";
    x.content_type = "application/json";
    x.accept = "application/json";
    x.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    x.bearer = key;
    auto answer = endpoint_->call(x);
    if (!answer) return answer.status();
    if (answer->status != 200) {
      return core::unavailable("translation server answered " + std::to_string(answer->status) + ": " +
                               answer->body.substr(0, 200));
    }
    auto j = json::parse(answer->body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("translatedText") || !j["translatedText"].is_string()) {
      endpoint_->bad_answer();
      return core::unavailable("translation server sent an answer without translatedText");
    }
    return j["translatedText"].get<std::string>();
  }

  std::shared_ptr<remote::Endpoint> endpoint_;
  Direction d_;
  std::string from_, to_;  // the server's own codes
  std::shared_ptr<const Model> fallback_model_;
  std::unique_ptr<Stream> fallback_;
};

class LibreTranslateModel final : public Model {
 public:
  LibreTranslateModel(std::shared_ptr<remote::Endpoint> endpoint, std::vector<Direction> directions,
                      std::map<std::string, std::string> codes)
      : endpoint_(std::move(endpoint)), directions_(std::move(directions)), codes_(std::move(codes)) {}

  std::string name() const override { return "libretranslate"; }
  std::vector<Direction> directions() const override { return directions_; }
  core::Result<std::unique_ptr<Stream>> open_stream(const Direction& d) const override {
    return open_stream_with_fallback(d, nullptr);
  }
  core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(const Direction& d,
                                                                  std::shared_ptr<const Model> fallback) const override {
    if (std::find(directions_.begin(), directions_.end(), d) == directions_.end()) {
      return core::not_found("libretranslate at " + endpoint_->config().url.text() + " has no " + d.from + "→" + d.to);
    }
    return std::unique_ptr<Stream>(
        std::make_unique<RemoteStream>(endpoint_, d, code(d.from), code(d.to), std::move(fallback)));
  }

 private:
  std::string code(const std::string& lang) const {
    auto it = codes_.find(lang);
    return it == codes_.end() ? lang : it->second;
  }
  std::shared_ptr<remote::Endpoint> endpoint_;
  std::vector<Direction> directions_;
  std::map<std::string, std::string> codes_;  // parley's code → the server's
};

}  // namespace

core::Result<std::shared_ptr<const Model>> make_libretranslate_mt(const Settings& settings) {
  auto config = remote::endpoint_config("mt", "libretranslate", settings, kDefaultTimeoutMs);
  if (!config) return config.status();
  auto endpoint = std::make_shared<remote::Endpoint>(*config);

  std::vector<Direction> directions;
  std::map<std::string, std::string> codes;
  remote::HttpExchange x;
  x.method = "GET";
  x.path = "/languages";
  x.accept = "application/json";
  x.bearer = config->api_key;
  auto answer = endpoint->call(x, std::min(config->timeout_ms, 5000));
  std::string why;
  if (!answer) {
    why = answer.status().message();
  } else if (answer->status != 200) {
    why = "GET /languages answered " + std::to_string(answer->status);
  } else {
    auto j = json::parse(answer->body, nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
      why = "GET /languages did not answer a JSON list";
    } else {
      for (const auto& lang : j) {
        if (!lang.is_object() || !lang.contains("code") || !lang["code"].is_string()) continue;
        auto from = normalize_language(lang["code"].get<std::string>());
        if (!from) continue;
        codes[*from] = lang["code"].get<std::string>();
        if (!lang.contains("targets") || !lang["targets"].is_array()) continue;
        for (const auto& t : lang["targets"]) {
          if (!t.is_string()) continue;
          auto to = normalize_language(t.get<std::string>());
          if (to && *to != *from) directions.push_back({*from, *to});
        }
      }
    }
  }
  const auto only = settings.languages();
  if (!why.empty()) {
    if (only.empty()) {
      return core::unavailable("libretranslate at " + config->url.text() + ": " + why +
                               " (give languages=a+b to start without asking the server)");
    }
    core::log_warn("engines", "libretranslate at " + config->url.text() + ": " + why +
                                  "; assuming every direction between the configured languages");
    for (const auto& a : only) {
      for (const auto& b : only) {
        if (a != b) directions.push_back({a, b});
      }
    }
  }
  if (directions.empty()) return core::not_found("libretranslate at " + config->url.text() + " offers no directions");
  return std::shared_ptr<const Model>(std::make_shared<LibreTranslateModel>(endpoint, std::move(directions), std::move(codes)));
}

}  // namespace parley::engines::mt
