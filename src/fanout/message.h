// SPDX-License-Identifier: GPL-3.0-or-later
// An outgoing message, serialised once and shared by every recipient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::fanout {

enum class Kind {
  control,  // state changes, welcome, errors, listener counts: never dropped
  partial,  // a partial caption: a newer revision supersedes it
  final,    // a final caption: never dropped
  audio,    // translated speech: dropped first when a listener falls behind
};

struct Message {
  Kind kind = Kind::control;
  bool binary = false;
  std::string bytes;
};

using MessagePtr = std::shared_ptr<const Message>;

inline MessagePtr make_text(Kind kind, std::string json) {
  return std::make_shared<const Message>(Message{kind, false, std::move(json)});
}
inline MessagePtr make_binary(Kind kind, std::string bytes) {
  return std::make_shared<const Message>(Message{kind, true, std::move(bytes)});
}

// A connection that receives messages: a WebSocket, an HTTP audio stream.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Thread-safe and non-blocking: queues the message under the subscriber's
  // overflow policy and returns.
  virtual void deliver(MessagePtr message) = 0;
  // Sends nothing more and closes after what is queued, with a reason.
  virtual void close(const std::string& reason) = 0;
  // The Dispatcher lane this subscriber lives on, if any. Its deliveries
  // then run on that lane (the Hub shards by it), so a subscriber whose own
  // work runs there too can take them without a hand-off.
  static constexpr size_t kAnyLane = SIZE_MAX;
  virtual size_t lane() const { return kAnyLane; }
};

}  // namespace parley::fanout
