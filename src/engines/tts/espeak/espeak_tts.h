// SPDX-License-Identifier: GPL-3.0-or-later
// TTS through espeak-ng's C API (Debian's libespeak-ng). espeak-ng keeps global
// state, so the library is initialised once per process and every synthesis
// holds one process-wide lock; at a real-time factor of ~0.001 that costs
// little. Phoneme events are reported in IPA.
#pragma once

#include <memory>

#include "core/status.h"
#include "engines/tts/tts.h"

namespace parley::engines::tts {

struct EspeakConfig {
  int rate_wpm = 165;  // espeak's default is 175; a little slower is easier to follow
  int pitch = 50;      // 0–100
};

// Fails with unavailable when espeak-ng's data cannot be loaded.
core::Result<std::shared_ptr<const Model>> make_espeak_tts(EspeakConfig config = {});

}  // namespace parley::engines::tts
