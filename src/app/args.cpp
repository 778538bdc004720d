// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/args.h"

#include <charconv>

namespace parley::app {

core::Result<Args> Args::parse(const std::vector<std::string>& argv, const ArgSpec& spec) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
        return core::invalid_argument("unknown option '" + arg + "' (options start with --)");
      }
      a.positionals_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (spec.flags.count(name) != 0) {
      if (inline_value) return core::invalid_argument("--" + name + " takes no value");
      a.flags_.insert(name);
    } else if (spec.valued.count(name) != 0) {
      if (inline_value) {
        a.values_[name] = *inline_value;
      } else if (i + 1 < argv.size()) {
        a.values_[name] = argv[++i];
      } else {
        return core::invalid_argument("--" + name + " needs a value");
      }
    } else {
      return core::invalid_argument("unknown option '--" + name + "'; see --help");
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

core::Result<int> Args::get_int(const std::string& name, int fallback, int lo, int hi) const {
  auto v = get(name);
  if (!v) return fallback;
  int out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size() || out < lo || out > hi) {
    return core::invalid_argument("--" + name + " must be a whole number from " +
                                  std::to_string(lo) + " to " + std::to_string(hi) + ", got '" +
                                  *v + "'");
  }
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto b = item.find_first_not_of(' ');
    auto e = item.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace parley::app
