// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/stt/chain.h"

#include <algorithm>

namespace parley::engines::stt {
namespace {
bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
// The member is allowed `language` and its model recognises it.
bool serves(const Chain::Member& m, const std::string& language) {
  return (m.languages.empty() || has(m.languages, language)) && has(m.model->languages(), language);
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

std::vector<std::string> Chain::languages() const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    for (const auto& l : m.model->languages()) {
      if ((m.languages.empty() || has(m.languages, l)) && !has(out, l)) out.push_back(l);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Chain::engine_for(const std::string& language) const {
  const Model* m = member_for(language);
  return m == nullptr ? std::string() : m->engine_for(language);
}

core::Result<std::shared_ptr<const Adaptation>> Chain::adapt(const std::string& language,
                                                             const Vocabulary& vocabulary) const {
  const Model* m = member_for(language);
  if (m == nullptr) return core::not_found("no speech recogniser is configured for '" + language + "'");
  return m->adapt(language, vocabulary);
}

core::Result<std::unique_ptr<Stream>> Chain::open_stream(const std::string& language) const {
  const Model* m = member_for(language);
  if (m == nullptr) {
    std::string have;
    for (const auto& l : languages()) have += (have.empty() ? "" : ", ") + l;
    return core::not_found("no speech recogniser is configured for '" + language + "' (configured: " + have + ")");
  }
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

}  // namespace parley::engines::stt
