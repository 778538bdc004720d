// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/requests.h"

#include "words/spoken.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

namespace parley::transport {

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Target::query(const std::string& key, const std::string& fallback) const {
  size_t i = 0;
  while (i <= raw_query.size()) {
    size_t amp = raw_query.find('&', i);
    if (amp == std::string::npos) amp = raw_query.size();
    std::string_view kv(raw_query.data() + i, amp - i);
    size_t eq = kv.find('=');
    if (url_decode(kv.substr(0, eq)) == key) {
      return eq == std::string_view::npos ? "" : url_decode(kv.substr(eq + 1));
    }
    i = amp + 1;
  }
  return fallback;
}

Target parse_target(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  t.path = url_decode(target.substr(0, q));
  if (q != std::string_view::npos) t.raw_query = std::string(target.substr(q + 1));
  return t;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::optional<std::string> bearer(const Request& req) {
  auto h = req[http::field::authorization];
  // The scheme is case-insensitive (RFC 7235): "bearer" is "Bearer".
  constexpr std::string_view kPrefix = "bearer ";
  if (h.size() <= kPrefix.size()) return std::nullopt;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kPrefix[i]) return std::nullopt;
  }
  return std::string(h.substr(kPrefix.size()));
}

core::Result<session::SessionSpec> parse_session_spec(std::string_view text) {
  using nlohmann::json;
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return core::invalid_argument("the body must be a JSON object");
  session::SessionSpec spec;
  auto str = [&](const char* key, const std::string& fallback) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : fallback;
  };
  spec.name = str("name", "Untitled session");
  spec.source_language = str("sourceLanguage", "en");
  spec.avatar = str("avatar", "ada");
  if (spec.avatar.size() > 32) return core::invalid_argument("avatar name too long");
  if (auto p = body.find("profanity"); p != body.end()) {
    if (!p->is_string() || (*p != "mask" && *p != "off")) {
      return core::invalid_argument("profanity must be \"mask\" (strong language masked in captions, left out of "
                                    "speech) or \"off\" (as said, the default)");
    }
    spec.hide_strong_words = *p == "mask";
  }
  if (auto t = body.find("targets"); t != body.end()) {
    if (!t->is_array() || t->size() > 32) return core::invalid_argument("targets must be an array of language codes");
    for (const auto& x : *t) {
      if (!x.is_string()) return core::invalid_argument("targets must be strings");
      spec.default_targets.push_back(x.get<std::string>());
    }
  }
  return spec;
}

core::Result<WordsBody> parse_words_body(std::string_view text) {
  using nlohmann::json;
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return core::invalid_argument("the body must be a JSON object");
  WordsBody out;
  for (auto [key, field] : {std::pair{"vocabulary", &out.vocabulary}, std::pair{"script", &out.script},
                            std::pair{"glossary", &out.glossary}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_string()) return core::invalid_argument(std::string(key) + " must be a string of text");
    *field = it->get<std::string>();
    if (field->size() > words::kMaxTextBytes) {
      return core::invalid_argument(std::string(key) + " holds " + std::to_string(field->size() / 1024) +
                                    " KB; at most " + std::to_string(words::kMaxTextBytes / 1024) + " KB is taken");
    }
  }
  return out;
}

core::Result<ScriptBody> parse_script_body(std::string_view text) {
  using nlohmann::json;
  const json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return core::invalid_argument("the body must be a JSON object");
  ScriptBody out;
  if (auto it = body.find("sentence"); it != body.end()) {
    if (!it->is_number_unsigned()) return core::invalid_argument("sentence must be a sentence number, from 0");
    out.sentence = it->get<size_t>();
  }
  if (auto it = body.find("append"); it != body.end()) {
    if (!it->is_string()) return core::invalid_argument("append must be a string of text");
    out.append = it->get<std::string>();
    if (out.append->size() > words::kMaxTextBytes) return core::invalid_argument("the section is too long");
  }
  if (out.sentence.has_value() == out.append.has_value()) {
    return core::invalid_argument("send either {\"sentence\": N} or {\"append\": \"text\"}");
  }
  return out;
}

bool is_words_target(const std::string& path) {
  const auto parts = split_path(path);
  return parts.size() == 4 && parts[0] == "api" && parts[1] == "sessions" &&
         (parts[3] == "words" || parts[3] == "script");
}

}  // namespace parley::transport
