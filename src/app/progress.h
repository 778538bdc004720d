// SPDX-License-Identifier: GPL-3.0-or-later
// Progress for long work on stderr: a bar redrawn in place on a terminal,
// a line every 10 % otherwise (logs, CI).
#pragma once

#include <string>

namespace parley::app {

class Progress {
 public:
  Progress(std::string label, double total, bool quiet);
  // `done` in the same unit as total; `detail` is appended ("3 utterances").
  void update(double done, const std::string& detail);
  void finish(const std::string& detail);

 private:
  std::string label_;
  double total_;
  bool quiet_;
  bool tty_;
  int last_decile_ = -1;
  double last_draw_s_ = -1;
};

}  // namespace parley::app
