// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/clock.h"

namespace parley::app {

Progress::Progress(std::string label, double total, bool quiet)
    : label_(std::move(label)), total_(total), quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

void Progress::update(double done, const std::string& detail) {
  if (quiet_ || total_ <= 0) return;
  double frac = std::clamp(done / total_, 0.0, 1.0);
  if (tty_) {
    double now_s = static_cast<double>(core::now_us()) / 1e6;
    if (now_s - last_draw_s_ < 0.1 && frac < 1.0) return;
    last_draw_s_ = now_s;
    constexpr int kWidth = 30;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '-');
    std::fprintf(stderr, "\r%s [%s] %3d%%  %.1f/%.1f s  %s\033[K", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), done, total_, detail.c_str());
  } else {
    int decile = static_cast<int>(frac * 10);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%%  %.1f/%.1f s  %s\n", label_.c_str(), decile * 10, done, total_,
                 detail.c_str());
  }
}

void Progress::finish(const std::string& detail) {
  if (quiet_) return;
  update(total_, detail);
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace parley::app
