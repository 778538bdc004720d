// SPDX-License-Identifier: GPL-3.0-or-later
// Machine translation: the engine contract.
//
// A Model is created once and shared by every session and thread; it lists the
// direct directions it can translate. A Stream translates one direction for one
// caller: it is driven by one thread at a time and may keep context between
// sentences. translate() blocks for the engine's compute time (Apertium: a few
// milliseconds a sentence) and fails with unavailable when the engine died;
// a later call may succeed once the engine has been restarted. Neural engines
// implement the same classes in their own folder; routing through pivot
// languages, caching and glossaries are layered on top (router.h,
// translator.h) and work for every engine.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::engines::mt {

struct Direction {
  std::string from;  // normalised language codes
  std::string to;
  bool operator==(const Direction&) const = default;
};

class Stream {
 public:
  virtual ~Stream() = default;
  // One sentence or a short paragraph of plain text, without markup.
  virtual core::Result<std::string> translate(std::string_view text) = 0;
  // Loads whatever the engine loads lazily, so the first sentence does not
  // pay for it. Optional; blocks up to the engine's start-up time.
  virtual core::Status prepare() { return {}; }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Direction> directions() const = 0;
  // Thread-safe. not_found for a direction the model does not have.
  virtual core::Result<std::unique_ptr<Stream>> open_stream(const Direction& direction) const = 0;
  // The same, with `fallback` (another model with this direction, or null)
  // to translate with when this one fails: remote engines use it, embedded
  // ones have nothing to fall back from.
  virtual core::Result<std::unique_ptr<Stream>> open_stream_with_fallback(
      const Direction& direction, std::shared_ptr<const Model> /*fallback*/) const {
    return open_stream(direction);
  }
};

}  // namespace parley::engines::mt
