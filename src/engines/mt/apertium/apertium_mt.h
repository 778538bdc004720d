// SPDX-License-Identifier: GPL-3.0-or-later
// MT through Apertium's installed language pairs (Debian's apertium-* packages).
//
// Every direction runs as a persistent pipeline of Apertium's tools in
// null-flush mode: a sentence goes in terminated by NUL and its translation
// comes out terminated by NUL, so a sentence costs milliseconds instead of a
// process start (~200 ms). Pipelines start on first use and are shared: each
// direction keeps a small pool, and a stream borrows one per sentence. A
// pipeline that dies or stops answering is killed and replaced.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"
#include "engines/mt/mt.h"

namespace parley::engines::mt {

struct ApertiumConfig {
  std::string modes_dir = "/usr/share/apertium/modes";
  // Pipelines per direction; more serve more concurrent sessions.
  int pipelines_per_direction = 2;
  // A sentence that takes longer than this kills its pipeline (a new
  // pipeline's first gets 10 s more, to start and load its dictionaries).
  std::chrono::milliseconds timeout{5000};
};

// Scans modes_dir. Fails with unavailable (naming the packages) when no pair is installed.
core::Result<std::shared_ptr<const Model>> make_apertium_mt(ApertiumConfig config = {});

// Exposed for tests: Apertium's stream escaping and its inverse.
std::string apertium_escape(std::string_view text);
std::string apertium_clean_output(std::string_view raw);

}  // namespace parley::engines::mt
