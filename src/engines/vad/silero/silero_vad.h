// SPDX-License-Identifier: GPL-3.0-or-later
// Silero VAD: a small learned voice activity detector (an STFT, four
// convolutions and an LSTM; about 310 k weights) that tells a voice from steady
// noise, street and crowd far better than WebRTC's detector or a level
// threshold (docs/benchmarks.md, "Keeping pace").
//
// parley runs the network itself (silero_vad.cpp, plain C++): the model file
// gives only the weights, read with onnx_constants.h. The weights are Silero's
// (MIT), as npm's @ricky0123/vad-web ships them; scripts/install-deps.sh puts
// the file at kSileroDefaultModel and checks its SHA-256.
//
// A stream takes parley's 10 ms frames, runs the network on every 512 samples
// (32 ms, with the 64 samples before them as context, as Silero's own wrapper
// does), and answers each frame with the latest decision: speech from a
// probability of `threshold` up, until it falls under `threshold` − 0.15.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "engines/vad/vad.h"

namespace parley::engines::vad {

inline constexpr const char* kSileroDefaultModel = "/usr/local/share/parley/silero_vad.onnx";

struct SileroVadConfig {
  std::string model_path = kSileroDefaultModel;
  double threshold = 0.5;  // Silero's own default
};

// Fails with unavailable (saying how to install it) when the model file is
// missing, and invalid_argument when it is not a Silero v5/v6 16 kHz model.
core::Result<std::shared_ptr<const Model>> make_silero_vad(const SileroVadConfig& config = {});

// For tests and benchmarks: the speech probability of each 512-sample window
// of a 16 kHz signal, in order, from a fresh stream.
class SileroProbe {
 public:
  virtual ~SileroProbe() = default;
  virtual float next(const float* window512) = 0;
};
core::Result<std::unique_ptr<SileroProbe>> open_silero_probe(const Model& model);

}  // namespace parley::engines::vad
