// SPDX-License-Identifier: GPL-3.0-or-later
// STT through pocketsphinx 0.8 (Debian's libpocketsphinx with pocketsphinx-en-us).
// Each stream owns one decoder (about 40 MB); decoders are not shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engines/stt/stt.h"

namespace parley::engines::stt {

struct PocketsphinxConfig {
  // Directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict.
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";
  std::string language = "en";
  // Further decoder options as pocketsphinx flags, e.g. {"-beam", "1e-40"};
  // later ones override the defaults set by parley.
  std::vector<std::string> extra_args;
};

// Fails with unavailable, naming the package to install, when model files are missing.
core::Result<std::shared_ptr<const Model>> make_pocketsphinx_stt(PocketsphinxConfig config = {});

}  // namespace parley::engines::stt
