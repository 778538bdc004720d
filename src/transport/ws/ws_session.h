// SPDX-License-Identifier: GPL-3.0-or-later
// One WebSocket connection: a speaker streaming audio, a listener
// receiving captions and speech, or a conversation's participant, who does
// both (protocol: docs/protocol.md).
//
// Threads: all socket work runs on the connection's lane (one network
// thread's I/O context). deliver() may be called from any thread; it posts to
// the lane unless it is already running there. One write is in flight at a
// time; the outgoing queue applies the overflow policy of fanout::Kind
// (speech dropped first, superseded partials next, finals and control never)
// and disconnects a listener that stops reading.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <memory>

#include "fanout/message.h"
#include "session/live_session.h"
#include "session/wire.h"
#include "transport/context.h"
#include "transport/stream.h"
#include "transport/ws/client_messages.h"
#include "transport/ws/participant.h"

namespace parley::transport {

template <class Stream>
class WsSession final : public fanout::Subscriber, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream stream, const Context& ctx, size_t lane = kAnyLane, Client client = {},
            std::shared_ptr<guard::Guard::Slot> slot = nullptr);
  ~WsSession() override;
  // Takes over after the HTTP upgrade request was read.
  void run(boost::beast::http::request<boost::beast::http::string_body> upgrade);

  void deliver(fanout::MessagePtr message) override;
  void close(const std::string& reason) override;
  size_t lane() const override { return lane_; }

 private:
  enum class Role { none, speaker, listener, participant };
  struct Queued {
    fanout::MessagePtr message;
    std::chrono::steady_clock::time_point at;
  };

  void on_accept(boost::beast::error_code ec);
  void read();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void handle_text(std::string_view text);
  void handle_join(std::string_view text);
  // A conversation's participant (participant.h).
  void join_conversation(const ws::ParticipantJoin& join);
  void handle_participant_message(const ws::Message& msg);
  void handle_binary(std::string_view bytes);
  void send_error(const std::string& code, const std::string& message);
  // Says why (with retryAfterS) and closes with 1013 (try again later).
  void refuse_rate_limited(const core::Status& st);
  void enqueue(fanout::MessagePtr m);
  void write_next();
  void on_write(boost::beast::error_code ec, size_t bytes);
  void close_with(boost::beast::websocket::close_code code, const std::string& reason);
  void detach();

  boost::beast::websocket::stream<Stream> ws_;
  boost::asio::steady_timer join_timer_;  // a connection must join in time, and finish a close in time
  boost::beast::flat_buffer buffer_;
  const Context& ctx_;
  const size_t lane_;
  const Client client_;
  std::shared_ptr<guard::Guard::Slot> slot_;  // the connection's place in its address's cap
  Role role_ = Role::none;
  // The session, as the role this connection joined in (one of them, or neither).
  std::shared_ptr<session::SpeakerLink> speaking_;
  std::shared_ptr<session::ListenerLink> listening_;
  std::shared_ptr<ws::ParticipantConnection> participant_;
  std::string language_;
  session::wire::SpeechMode speech_mode_ = session::wire::SpeechMode::full;
  int64_t last_reported_seq_ = 0;  // the newest final whose playback this listener reported
  int64_t joined_us_ = 0;          // when it joined: speech sent before was not heard here
  bool counted_for_speech_ = false;  // in the session's count of listeners wanting speech
  void count_for_speech();
  int sample_rate_hz_ = 16000;
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;          // the close is under way: nothing more is sent
  bool close_requested_ = false;  // no more input is handled
  uint64_t n_errors_sent_ = 0;
  std::chrono::steady_clock::time_point error_window_start_{};
  ws::AudioFrame frame_;  // reused for every binary frame
};

extern template class WsSession<PlainSocket>;
extern template class WsSession<TlsStream>;

}  // namespace parley::transport
