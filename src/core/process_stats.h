// SPDX-License-Identifier: GPL-3.0-or-later
// A process's CPU time, memory, threads and open files, read from /proc
// (Linux). Used by /metrics for this process and by parley-load for the
// server it measures.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace parley::core {

struct ProcessStats {
  bool ok = false;  // false when the process could not be read (gone, no /proc)
  double cpu_seconds = 0;  // user + system
  double system_seconds = 0;  // of which in the kernel
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double threads = 0;
  double open_fds = 0;
};

// pid 0: this process.
inline ProcessStats read_process_stats(int pid = 0) {
  ProcessStats p;
  const std::string dir = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) return p;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // Fields after the parenthesised command name start at field 3; utime and
  // stime are 14 and 15, threads 20, vsize 23, rss (pages) 24.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14 || i == 15) p.cpu_seconds += std::stod(field) / ticks;
    if (i == 15) p.system_seconds = std::stod(field) / ticks;
    if (i == 20) p.threads = std::stod(field);
    if (i == 23) p.virtual_bytes = std::stod(field);
    if (i == 24) p.resident_bytes = std::stod(field) * page;
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++p.open_fds;
  }
  p.ok = true;
  return p;
}

}  // namespace parley::core
