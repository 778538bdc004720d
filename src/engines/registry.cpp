// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/registry.h"

#include <charconv>

#include "engines/language.h"

namespace parley::engines {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> Settings::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Settings::get_or(const std::string& key, const std::string& fallback) const {
  return get(key).value_or(fallback);
}

core::Result<long> Settings::get_long(const std::string& key, long fallback, long lo, long hi) const {
  auto v = get(key);
  if (!v) return fallback;
  long n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < lo || n > hi) {
    return core::invalid_argument("engine setting " + key + "=" + *v + " must be a whole number from " +
                                  std::to_string(lo) + " to " + std::to_string(hi));
  }
  return n;
}

std::vector<std::string> Settings::languages() const {
  std::vector<std::string> out;
  auto v = get("languages");
  if (!v) return out;
  std::string_view rest = *v;
  while (!rest.empty()) {
    auto plus = rest.find('+');
    auto code = normalize_language(trim(rest.substr(0, plus)));
    if (code) out.push_back(*code);
    rest = plus == std::string_view::npos ? std::string_view{} : rest.substr(plus + 1);
  }
  return out;
}

core::Result<std::vector<EngineSpec>> parse_engine_list(std::string_view text) {
  std::vector<EngineSpec> out;
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view rest = text;
  while (true) {
    rest = trim(rest);
    if (rest.empty()) break;
    auto stop = rest.find_first_of(",(");
    EngineSpec spec;
    std::string_view name = trim(rest.substr(0, stop));
    if (!valid_name(name)) {
      return core::invalid_argument("engine list " + quoted + ": expected an engine name (a-z, 0-9, -), found '" +
                                    std::string(name) + "'");
    }
    spec.name = std::string(name);
    rest = stop == std::string_view::npos ? std::string_view{} : rest.substr(stop);
    if (!rest.empty() && rest.front() == '(') {
      auto close = rest.find(')');
      if (close == std::string_view::npos) {
        return core::invalid_argument("engine list " + quoted + ": '(' without ')' after " + spec.name);
      }
      std::string_view body = rest.substr(1, close - 1);
      if (body.find('(') != std::string_view::npos) {
        return core::invalid_argument("engine list " + quoted + ": '(' inside the settings of " + spec.name);
      }
      std::map<std::string, std::string> values;
      while (!trim(body).empty()) {
        auto comma = body.find(',');
        std::string_view item = trim(body.substr(0, comma));
        auto eq = item.find('=');
        if (eq == std::string_view::npos || !valid_name(trim(item.substr(0, eq)))) {
          return core::invalid_argument("engine list " + quoted + ": expected key=value in the settings of " +
                                        spec.name + ", found '" + std::string(item) + "'");
        }
        std::string key(trim(item.substr(0, eq)));
        if (values.count(key) != 0) {
          return core::invalid_argument("engine list " + quoted + ": " + spec.name + " sets '" + key + "' twice");
        }
        values[key] = std::string(trim(item.substr(eq + 1)));
        body = comma == std::string_view::npos ? std::string_view{} : body.substr(comma + 1);
      }
      spec.settings = Settings(std::move(values));
      rest = trim(rest.substr(close + 1));
    }
    out.push_back(std::move(spec));
    if (rest.empty()) break;
    if (rest.front() != ',') {
      return core::invalid_argument("engine list " + quoted + ": expected ',' after " + out.back().name);
    }
    rest.remove_prefix(1);
    if (trim(rest).empty()) return core::invalid_argument("engine list " + quoted + ": ends with ','");
  }
  if (out.empty()) return core::invalid_argument("engine list is empty; name at least one engine");
  return out;
}

}  // namespace parley::engines
