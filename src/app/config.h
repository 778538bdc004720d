// SPDX-License-Identifier: GPL-3.0-or-later
// Server configuration from, in rising precedence: built-in defaults, a
// config file (`key = value` lines, '#' comments), PARLEY_* environment
// variables (PARLEY_PORT, PARLEY_DB, …) and command-line flags (--port …).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace parley::app {

struct ConfigKey {
  std::string name;  // flag spelling: "idle-timeout-s"
  std::string fallback;
  std::string help;
};

class Config {
 public:
  explicit Config(std::vector<ConfigKey> keys);

  // argv without program and command names. invalid_argument for unknown
  // keys anywhere, naming where they came from.
  core::Status load(const std::vector<std::string>& argv, char** environ_ptr);

  std::string get(const std::string& name) const;
  core::Result<long> get_long(const std::string& name, long lo, long hi) const;
  bool help_requested() const { return help_; }
  std::string usage() const;

 private:
  core::Status set(const std::string& name, const std::string& value, const std::string& origin);
  std::vector<ConfigKey> keys_;
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

}  // namespace parley::app
