// SPDX-License-Identifier: GPL-3.0-or-later
// VAD from the WebRTC audio processing module (Debian's
// libwebrtc-audio-processing). Each stream owns one AudioProcessing instance.
#pragma once

#include <memory>

#include "engines/vad/vad.h"

namespace parley::engines::vad {

struct WebrtcVadConfig {
  // 0 = very low likelihood of declaring voice (fewest false alarms) … 3 = high.
  // Measured here: 0 plus a hangover keeps recall ~85 % with no alarms in gaps.
  int likelihood = 0;
};

std::shared_ptr<const Model> make_webrtc_vad(WebrtcVadConfig config = {});

}  // namespace parley::engines::vad
