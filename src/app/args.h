// SPDX-License-Identifier: GPL-3.0-or-later
// A small command-line parser: positionals, `--name value`, `--name=value`
// and boolean `--flag`s, checked against what a command declares.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace parley::app {

struct ArgSpec {
  std::set<std::string> valued;  // options that take a value
  std::set<std::string> flags;   // options that do not
};

class Args {
 public:
  // argv excludes the program and command names. invalid_argument for an
  // unknown option or a missing value, naming it.
  static core::Result<Args> parse(const std::vector<std::string>& argv, const ArgSpec& spec);

  const std::vector<std::string>& positionals() const { return positionals_; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  bool has(const std::string& flag) const { return flags_.count(flag) != 0; }
  // invalid_argument when present but not an integer in [lo, hi].
  core::Result<int> get_int(const std::string& name, int fallback, int lo, int hi) const;

 private:
  std::vector<std::string> positionals_;
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// "es, fr,pt" → {"es","fr","pt"}; empty items dropped.
std::vector<std::string> split_list(const std::string& s);

}  // namespace parley::app
