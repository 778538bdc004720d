// SPDX-License-Identifier: GPL-3.0-or-later
// Choosing engines by configuration.
//
// An engine choice is written as a list in priority order, each entry an
// engine name with optional settings in parentheses:
//
//   stt = pocketsphinx
//   stt = pocketsphinx(decoders=4), other-engine(url=http://gpu:8080, languages=es+fr)
//
// For a language, the first entry that serves it is used; a `languages=`
// setting (codes joined by '+') limits an entry to those languages. Every
// kind has a table of {name, summary, settings it accepts, factory}; an
// unknown engine or setting is an error that names what exists. Parsing and
// the tables are pure: nothing is loaded until a factory runs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::engines {

// One entry's settings: key → value, as written.
class Settings {
 public:
  Settings() = default;
  explicit Settings(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  // invalid_argument naming the key when the value is not a whole number in [lo, hi].
  core::Result<long> get_long(const std::string& key, long fallback, long lo, long hi) const;
  // The `languages=` filter, normalised; empty when the entry serves all it can.
  std::vector<std::string> languages() const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

struct EngineSpec {
  std::string name;
  Settings settings;
};

// Parses "a, b(k=v, k2=v2)". invalid_argument, quoting the text, on a
// syntax error. Values may not hold ',', '(' or ')'.
core::Result<std::vector<EngineSpec>> parse_engine_list(std::string_view text);

// One registered engine of model type M.
template <class M>
struct Factory {
  std::string name;
  std::string summary;                    // for --help and `parley engines`
  std::vector<std::string> setting_keys;  // accepted besides `languages`
  std::function<core::Result<std::shared_ptr<const M>>(const Settings&)> make;
};

// Finds each spec's factory, checks its settings and builds the models, in
// order. invalid_argument for an unknown engine or setting; a factory's own
// error (a missing package, an unreachable server) is passed on.
template <class M>
core::Result<std::vector<std::pair<std::shared_ptr<const M>, Settings>>> build(
    const std::vector<Factory<M>>& table, const std::vector<EngineSpec>& specs, const std::string& kind) {
  std::vector<std::pair<std::shared_ptr<const M>, Settings>> out;
  for (const auto& spec : specs) {
    const Factory<M>* f = nullptr;
    for (const auto& candidate : table) {
      if (candidate.name == spec.name) f = &candidate;
    }
    if (f == nullptr) {
      std::string known;
      for (const auto& c : table) known += (known.empty() ? "" : ", ") + c.name;
      return core::invalid_argument("unknown " + kind + " engine '" + spec.name + "' (available: " + known + ")");
    }
    for (const auto& [key, value] : spec.settings.values()) {
      bool ok = key == "languages";
      for (const auto& k : f->setting_keys) ok = ok || k == key;
      if (!ok) {
        std::string known = "languages";
        for (const auto& k : f->setting_keys) known += ", " + k;
        return core::invalid_argument(kind + " engine '" + spec.name + "' has no setting '" + key +
                                      "' (settings: " + known + ")");
      }
    }
    auto model = f->make(spec.settings);
    if (!model) return model.status();
    out.emplace_back(std::move(*model), spec.settings);
  }
  return out;
}

}  // namespace parley::engines
