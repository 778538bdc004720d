// SPDX-License-Identifier: GPL-3.0-or-later
// Minimal leveled logging to stderr. Thread-safe; one line per call.
#pragma once

#include <string_view>

namespace parley::core {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void set_log_level(LogLevel level);
// "debug", "info", "warn", "error", "off"; `fallback` for anything else.
LogLevel parse_log_level(std::string_view name, LogLevel fallback);
LogLevel log_level();
void log(LogLevel level, std::string_view component, std::string_view message);

inline void log_debug(std::string_view c, std::string_view m) { log(LogLevel::debug, c, m); }
inline void log_info(std::string_view c, std::string_view m) { log(LogLevel::info, c, m); }
inline void log_warn(std::string_view c, std::string_view m) { log(LogLevel::warn, c, m); }
inline void log_error(std::string_view c, std::string_view m) { log(LogLevel::error, c, m); }

}  // namespace parley::core
