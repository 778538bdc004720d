// SPDX-License-Identifier: GPL-3.0-or-later
// Several recognisers as one Model: each language goes to the first member
// that recognises it and is allowed it (a member's `languages`, empty for
// all it has). Built by the engine registry from a configured list.
// Immutable; thread-safe as its members are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engines/stt/stt.h"

namespace parley::engines::stt {

class Chain final : public Model {
 public:
  struct Member {
    std::shared_ptr<const Model> model;
    std::vector<std::string> languages;  // empty: every language the model has
  };
  explicit Chain(std::vector<Member> members);

  // The members' names, in order, joined by ", ".
  std::string name() const override;
  std::vector<std::string> languages() const override;
  std::string engine_for(const std::string& language) const override;
  core::Result<std::unique_ptr<Stream>> open_stream(const std::string& language) const override;
  // By the member that serves `language` (its streams are the ones opened).
  core::Result<std::shared_ptr<const Adaptation>> adapt(const std::string& language,
                                                        const Vocabulary& vocabulary) const override;

 private:
  const Model* member_for(const std::string& language) const;
  // The member after `chosen` that also serves `language`: it takes over
  // when `chosen` fails (a remote engine that is down). Null when none.
  std::shared_ptr<const Model> fallback_after(const Model* chosen, const std::string& language) const;
  std::vector<Member> members_;
};

}  // namespace parley::engines::stt
