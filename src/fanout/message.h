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

struct Message;
using MessagePtr = std::shared_ptr<const Message>;

struct Message {
  Kind kind = Kind::control;
  bool binary = false;
  std::string bytes;
  // Speech: the same message without its audio (the header and the avatar's
  // timeline), built once beside it for listeners that hear the audio some
  // other way. Null for every other message.
  MessagePtr without_audio;
};

inline MessagePtr make_text(Kind kind, std::string json) {
  return std::make_shared<const Message>(Message{kind, false, std::move(json), nullptr});
}
inline MessagePtr make_binary(Kind kind, std::string bytes, MessagePtr without_audio = nullptr) {
  return std::make_shared<const Message>(Message{kind, true, std::move(bytes), std::move(without_audio)});
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
