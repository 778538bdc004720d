// SPDX-License-Identifier: GPL-3.0-or-later
#include "engines/tts/espeak/espeak_runtime.h"

#include <espeak-ng/speak_lib.h>

namespace parley::engines::tts {

std::mutex& espeak_mutex() {
  static std::mutex mu;
  return mu;
}

core::Result<int> espeak_start_locked() {
  static int rate_hz = 0;
  if (rate_hz > 0) return rate_hz;
  const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nullptr,
                                     espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA |
                                         espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) return core::unavailable("espeak-ng could not load its data; apt-get install espeak-ng-data");
  rate_hz = rate;
  return rate_hz;
}

}  // namespace parley::engines::tts
