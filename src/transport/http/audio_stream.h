// SPDX-License-Identifier: GPL-3.0-or-later
// GET /listen/<code>/<lang>.ogg: a language's translated speech as one
// endless chained Ogg Opus stream for players without JavaScript (VLC, mpv,
// radios). Each utterance is the same Ogg link that WebSocket listeners get;
// between utterances the stream is kept at real time with shared, pre-encoded
// links of silence. A player that falls behind loses links (counted), never
// memory; one whose write has not finished within the slow-listener time is
// disconnected (counted as an eviction).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "fanout/message.h"
#include "session/links.h"
#include "transport/context.h"
#include "transport/stream.h"

namespace parley::transport {

// Seconds of audio in one Ogg Opus link, from its last granule position.
double ogg_link_duration_s(std::string_view ogg);

template <class Stream>
class AudioStreamSession final : public fanout::Subscriber,
                                 public std::enable_shared_from_this<AudioStreamSession<Stream>> {
 public:
  AudioStreamSession(Stream stream, const Context& ctx, std::shared_ptr<session::ListenerLink> live,
                     std::string language, std::shared_ptr<guard::Guard::Slot> slot);
  ~AudioStreamSession() override;
  void run();
  void deliver(fanout::MessagePtr message) override;
  void close(const std::string& reason) override;

 private:
  void enqueue(fanout::MessagePtr m);
  void write_next();
  void tick();
  void stop();

  Stream stream_;
  const Context& ctx_;
  std::shared_ptr<session::ListenerLink> live_;
  std::string language_;
  std::shared_ptr<guard::Guard::Slot> slot_;  // the connection's place in its address's cap
  boost::asio::steady_timer timer_;
  std::deque<fanout::MessagePtr> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point write_started_;  // of the write in flight: a player that stops reading is evicted
  double audio_sent_s_ = 0;  // stream time handed to the socket
  int silence_index_ = 0;
};

extern template class AudioStreamSession<PlainStream>;
extern template class AudioStreamSession<TlsStream>;

}  // namespace parley::transport
