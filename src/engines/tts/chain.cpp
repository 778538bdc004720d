// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/chain.h"

#include <algorithm>
#include <set>

namespace parley::engines::tts {
namespace {
bool allowed(const std::vector<std::string>& only, const std::string& language) {
  return only.empty() || std::find(only.begin(), only.end(), language) != only.end();
}
bool has_voice(const Model& m, const std::string& language) {
  for (const auto& v : m.voices()) {
    if (v.language == language) return true;
  }
  return false;
}
// The member is allowed `language` and has a voice for it.
bool serves(const Chain::Member& m, const std::string& language) {
  return allowed(m.languages, language) && has_voice(*m.model, language);
}
}  // namespace

Chain::Chain(std::vector<Member> members) : members_(std::move(members)) {}

std::string Chain::name() const {
  std::string n;
  for (const auto& m : members_) n += (n.empty() ? "" : ", ") + m.model->name();
  return n;
}

const Model* Chain::member_for(const std::string& language) const {
  for (const auto& m : members_) {
    if (serves(m, language)) return m.model.get();
  }
  return nullptr;
}

std::vector<Voice> Chain::voices() const {
  std::vector<Voice> out;
  std::set<std::string> seen;
  for (const auto& m : members_) {
    for (const auto& v : m.model->voices()) {
      if (allowed(m.languages, v.language) && seen.insert(v.language).second) out.push_back(v);
    }
  }
  return out;
}

std::string Chain::engine_for(const std::string& language) const {
  const Model* m = member_for(language);
  return m == nullptr ? std::string() : m->engine_for(language);
}

core::Result<std::unique_ptr<Stream>> Chain::open_stream(const std::string& language) const {
  const Model* m = member_for(language);
  if (m == nullptr) return core::not_found("no voice is configured for '" + language + "'");
  return m->open_stream_with_fallback(language, fallback_after(m, language));
}

std::shared_ptr<const Model> Chain::fallback_after(const Model* chosen, const std::string& language) const {
  bool after = false;
  for (const auto& m : members_) {
    if (m.model.get() == chosen) {
      after = true;
      continue;
    }
    if (after && serves(m, language)) return m.model;
  }
  return nullptr;
}

}  // namespace parley::engines::tts
