// SPDX-License-Identifier: GPL-3.0-or-later
// The `parley` subcommands. Each takes its arguments (without the program and
// command names), prints to stdout/stderr and returns the process exit code:
// 0 on success, 1 when the work failed, 2 for a usage error.
#pragma once

#include <string>
#include <vector>

namespace parley::app {

int run_translate(const std::vector<std::string>& args);
int run_translate_text(const std::vector<std::string>& args);
int run_languages(const std::vector<std::string>& args);
int run_engines(const std::vector<std::string>& args);
int run_serve(const std::vector<std::string>& args);

// One line on stderr, prefixed "parley: ".
void print_error(const std::string& message);

}  // namespace parley::app
