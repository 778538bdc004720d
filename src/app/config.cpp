// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>

namespace parley::app {

namespace {
std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
std::string env_name(const std::string& key) {
  std::string n = "PARLEY_";
  for (char c : key) n += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}
}  // namespace

Config::Config(std::vector<ConfigKey> keys) : keys_(std::move(keys)) {
  for (const auto& k : keys_) values_[k.name] = k.fallback;
}

core::Status Config::set(const std::string& name, const std::string& value, const std::string& origin) {
  if (values_.count(name) == 0) {
    return core::invalid_argument("unknown setting '" + name + "' in " + origin + "; see: parley serve --help");
  }
  values_[name] = value;
  return {};
}

core::Status Config::load(const std::vector<std::string>& argv, char** env) {
  // Flags are parsed first (to find --config) but applied last.
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_file;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return core::invalid_argument("unexpected argument '" + a + "'; see --help");
    std::string name = a.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      return core::invalid_argument("--" + name + " needs a value");
    }
    if (name == "config") {
      config_file = value;
    } else {
      flags.emplace_back(name, value);
    }
  }
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    if (!in) return core::not_found("cannot open config file '" + config_file + "'");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      auto eq = line.find('=');
      if (eq == std::string::npos) {
        return core::invalid_argument(config_file + ":" + std::to_string(n) + ": expected 'key = value'");
      }
      if (auto st = set(trim(line.substr(0, eq)), trim(line.substr(eq + 1)),
                        config_file + ":" + std::to_string(n));
          !st) {
        return st;
      }
    }
  }
  for (const auto& k : keys_) {
    std::string var = env_name(k.name);
    for (char** e = env; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, var.c_str(), var.size()) == 0 && (*e)[var.size()] == '=') {
        values_[k.name] = std::string(*e + var.size() + 1);
      }
    }
  }
  for (const auto& [name, value] : flags) {
    if (auto st = set(name, value, "--" + name); !st) return st;
  }
  return {};
}

std::string Config::get(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string() : it->second;
}

core::Result<long> Config::get_long(const std::string& name, long lo, long hi) const {
  std::string v = get(name);
  long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi) {
    return core::invalid_argument(name + " must be a whole number from " + std::to_string(lo) + " to " +
                                  std::to_string(hi) + ", got '" + v + "'");
  }
  return out;
}

std::string Config::usage() const {
  std::string s;
  for (const auto& k : keys_) {
    std::string flag = "  --" + k.name + " VALUE";
    flag.resize(std::max<size_t>(flag.size() + 1, 30), ' ');
    s += flag + k.help + (k.fallback.empty() ? "" : " (default: " + k.fallback + ")") + "\n";
    s += std::string(30, ' ') + "env " + env_name(k.name) + "\n";
  }
  return s;
}

}  // namespace parley::app
