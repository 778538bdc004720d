// SPDX-License-Identifier: GPL-3.0-or-later
// Voice activity detection: the engine contract.
//
// A Model is created once, is immutable and may be shared by any number of
// threads. A Stream holds one audio stream's state; it is driven by exactly one
// thread at a time and never blocks on I/O. New engines live in their own
// folder beside webrtc/ and implement these two classes; the pipeline only
// sees this header.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace parley::engines::vad {

class Stream {
 public:
  virtual ~Stream() = default;
  // Classifies one frame of exactly Model::frame_samples() samples at 16 kHz.
  // Fails with invalid_argument on a wrong frame size; the stream stays usable.
  virtual core::Result<bool> is_speech(std::span<const float> frame) = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  // Samples per frame at 16 kHz (160 for 10 ms frames).
  virtual int frame_samples() const = 0;
  // Thread-safe. Fails with unavailable when the engine cannot start.
  virtual core::Result<std::unique_ptr<Stream>> open_stream() const = 0;
};

}  // namespace parley::engines::vad
