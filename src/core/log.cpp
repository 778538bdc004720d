// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace parley::core {
namespace {
std::atomic<LogLevel> g_level{LogLevel::warn};
std::mutex g_mu;
const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "?";
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }

LogLevel parse_log_level(std::string_view name, LogLevel fallback) {
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error, LogLevel::off}) {
    if (name == level_name(l)) return l;
  }
  return fallback;
}
LogLevel log_level() { return g_level; }

void log(LogLevel level, std::string_view component, std::string_view message) {
  if (level < g_level.load()) return;
  std::lock_guard lock(g_mu);
  std::fprintf(stderr, "parley %s [%.*s] %.*s\n", level_name(level),
               static_cast<int>(component.size()), component.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace parley::core
