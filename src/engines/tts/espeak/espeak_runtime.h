// SPDX-License-Identifier: GPL-3.0-or-later
// espeak-ng is one process-wide engine: every call into it, from speech
// synthesis or from pronunciation lookups (engines/stt/pocketsphinx), holds
// this mutex, and it is initialised once for both.
#pragma once

#include <mutex>

#include "core/status.h"

namespace parley::engines::tts {

std::mutex& espeak_mutex();

// Loads espeak-ng's data, once (synchronous output, phoneme events named in
// IPA). The caller holds espeak_mutex(). Returns the output sample rate;
// unavailable, naming the package, without the data.
core::Result<int> espeak_start_locked();

}  // namespace parley::engines::tts
