// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the real `parley` binary (path from $PARLEY_BIN) and captures its output.
#pragma once

#include <string>
#include <vector>

namespace parley::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Arguments are passed without a shell. `stdin_text` is written to its stdin.
RunResult run_parley(const std::vector<std::string>& args, const std::string& stdin_text = "");
// The same for any program (a path, not looked up in PATH).
RunResult run_program(const char* bin, const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace parley::testing
