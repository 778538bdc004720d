// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/ws/ws_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "engines/language.h"
#include "session/wire.h"
#include "transport/ws/client_messages.h"

namespace parley::transport {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace {
// At most this many error messages a second to one client; the rest are counted.
constexpr uint64_t kErrorsPerSecond = 10;
// Superseded partials are dropped once this many messages wait.
constexpr size_t kPartialQueueLimit = 32;
// How long a close waits for the peer's close frame before the socket is cut.
constexpr auto kCloseHandshakeTimeout = std::chrono::seconds(5);
}  // namespace

template <class Stream>
WsSession<Stream>::WsSession(Stream stream, const Context& ctx, size_t lane, Client client,
                             std::shared_ptr<guard::Guard::Slot> slot)
    : ws_(std::move(stream)), join_timer_(ws_.get_executor()), ctx_(ctx), lane_(lane), client_(std::move(client)),
      slot_(std::move(slot)) {
  ++ctx_.api.metrics->ws_connections;
}

template <class Stream>
WsSession<Stream>::~WsSession() { --ctx_.api.metrics->ws_connections; }

template <class Stream>
void WsSession<Stream>::run(beast::http::request<beast::http::string_body> upgrade) {
  beast::error_code ec;
  auto& sock = socket_of(beast::get_lowest_layer(ws_));
  sock.set_option(net::socket_base::send_buffer_size(ctx_.limits.socket_send_buffer_bytes), ec);
  sock.set_option(net::ip::tcp::no_delay(true), ec);
  ws_.read_message_max(ctx_.limits.max_ws_message_bytes);
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(beast::http::field::server, "parley");
  }));
  join_timer_.expires_after(std::chrono::milliseconds(ctx_.limits.join_timeout_ms));
  join_timer_.async_wait([weak = this->weak_from_this()](beast::error_code timer_ec) {
    auto self = weak.lock();
    if (timer_ec || !self || self->role_ != Role::none) return;
    beast::error_code ignored;
    socket_of(beast::get_lowest_layer(self->ws_)).close(ignored);  // said nothing in time
  });
  ws_.async_accept(upgrade, beast::bind_front_handler(&WsSession<Stream>::on_accept, this->shared_from_this()));
}

template <class Stream>
void WsSession<Stream>::on_accept(beast::error_code ec) {
  if (ec) return;
  read();
}

template <class Stream>
void WsSession<Stream>::read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WsSession<Stream>::on_read, this->shared_from_this()));
}

template <class Stream>
void WsSession<Stream>::on_read(beast::error_code ec, size_t) {
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      ++ctx_.api.metrics->ws_bad_frames;
      core::log_info("ws", "closing a connection that sent an oversized message");
    }
    detach();
    return;
  }
  std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  if (ws_.got_text()) {
    handle_text(data);
  } else {
    handle_binary(data);
  }
  buffer_.consume(buffer_.size());
  if (!close_requested_) read();
}

template <class Stream>
void WsSession<Stream>::handle_text(std::string_view text) {
  if (role_ == Role::none) {
    handle_join(text);
    return;
  }
  const auto msg = ws::parse_message(text);
  if (const auto* bad = std::get_if<ws::Refusal>(&msg)) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error(bad->code, bad->message);
  } else if (std::holds_alternative<ws::Ping>(msg)) {
    enqueue(fanout::make_text(fanout::Kind::control, R"({"type":"pong"})"));
  } else if (role_ == Role::participant) {
    handle_participant_message(msg);
  } else if (const auto* mode = std::get_if<ws::SetSpeechMode>(&msg); mode && role_ == Role::listener) {
    speech_mode_ = mode->mode;  // from the next speech message on; what is queued goes as it is
    count_for_speech();
  } else if (const auto* report = std::get_if<ws::PlaybackReport>(&msg); report && role_ == Role::listener) {
    // One report a final, in order, from a listener who hears speech.
    if (report->seq > last_reported_seq_ && speech_mode_ != session::wire::SpeechMode::none &&
        listening_->report_playback(language_, report->seq, report->lag_ms, joined_us_)) {
      last_reported_seq_ = report->seq;
    }
  } else if (const auto* control = std::get_if<ws::Control>(&msg); control && role_ == Role::speaker) {
    auto r = speaking_->apply(control->action);
    if (!r) send_error(core::code_name(r.status().code()), r.status().message());
  } else if (const auto* typed = std::get_if<ws::TypedText>(&msg); typed && role_ == Role::speaker) {
    if (auto st = speaking_->push_text(typed->text); !st) {
      ++ctx_.api.metrics->ws_bad_frames;
      send_error(core::code_name(st.code()), st.message());
    }
  } else {
    send_error("bad_message", "this message is not for a " + std::string(role_ == Role::speaker ? "speaker" : "listener"));
  }
}

template <class Stream>
void WsSession<Stream>::handle_join(std::string_view text) {
  const auto join = ws::parse_join(text);
  if (const auto* bad = std::get_if<ws::Refusal>(&join)) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error(bad->code, bad->message);
    close_with(websocket::close_code::policy_error, bad->close_reason);
    return;
  }
  if (const auto* participant = std::get_if<ws::ParticipantJoin>(&join)) {
    join_conversation(*participant);
    return;
  }
  const auto* speaker_join = std::get_if<ws::SpeakerJoin>(&join);
  const std::string code = speaker_join ? speaker_join->code : std::get<ws::ListenerJoin>(join).code;
  if (auto st = take(ctx_.api, client_, guard::Action::join); !st) return refuse_rate_limited(st);
  auto found = find_live(ctx_.api, client_, code);
  if (!found) {
    if (found.status().code() == core::Code::resource_exhausted) return refuse_rate_limited(found.status());
    send_error("not_found", found.status().message());
    close_with(static_cast<websocket::close_code>(4404), "no such session");
    return;
  }
  auto live = std::move(*found);
  // The join timer runs on until the join succeeds: a refused join closes
  // through close_with, whose own deadline then applies.
  if (const auto* speaker = speaker_join) {
    if (auto st = peek(ctx_.api, client_, guard::Action::bad_credential); !st) return refuse_rate_limited(st);
    if (!live->token_matches(speaker->token)) {
      if (auto st = take(ctx_.api, client_, guard::Action::bad_credential); !st) return refuse_rate_limited(st);
      send_error("permission_denied", "this token does not control session " + code);
      close_with(static_cast<websocket::close_code>(4403), "wrong token");
      return;
    }
    sample_rate_hz_ = speaker->sample_rate_hz;
    if (auto st = live->attach_speaker(this->shared_from_this(), speaker->takeover, speaker->resume); !st) {
      // unavailable: the session is moving to this node (several nodes);
      // permission_denied: another page took over since this one's generation.
      send_error(st.code() == core::Code::unavailable           ? "unavailable"
                 : st.code() == core::Code::permission_denied ? "replaced"
                                                              : "speaker_connected",
                 st.message());
      close_with(websocket::close_code::policy_error, "another speaker is connected");
      return;
    }
    role_ = Role::speaker;
    speaking_ = live;
    join_timer_.cancel();
    return;
  }
  const auto& listener = std::get<ws::ListenerJoin>(join);
  if (listener.speech) speech_mode_ = *listener.speech;
  role_ = Role::listener;
  listening_ = live;
  language_ = listener.language;
  join_timer_.cancel();
  // The replay stays well inside the queue's bounds, so a joining listener
  // is never evicted by its own history.
  const size_t replay_bytes = std::min(session::ListenerLink::kDefaultReplayBytes, ctx_.limits.queue_hard_bytes / 4);
  // Finals replayed from history come without speech: only speech sent
  // after the join can have been heard.
  joined_us_ = core::now_us();
  if (auto st = listening_->add_listener(this->shared_from_this(), language_, listener.since, replay_bytes); !st) {
    role_ = Role::none;
    listening_.reset();
    send_error(core::code_name(st.code()), st.message());
    close_with(websocket::close_code::policy_error, "cannot listen");
    return;
  }
  count_for_speech();
}

template <class Stream>
void WsSession<Stream>::join_conversation(const ws::ParticipantJoin& join) {
  if (auto st = take(ctx_.api, client_, guard::Action::join); !st) return refuse_rate_limited(st);
  if (auto st = peek(ctx_.api, client_, guard::Action::unknown_code); !st) return refuse_rate_limited(st);
  auto conversation = ctx_.api.conversations ? ctx_.api.conversations->find(join.code) : nullptr;
  if (!conversation || conversation->has_ended()) {
    if (auto st = take(ctx_.api, client_, guard::Action::unknown_code); !st) return refuse_rate_limited(st);
    send_error("not_found", "no conversation with code " + join.code.substr(0, 16) + "; check the code");
    close_with(static_cast<websocket::close_code>(4404), "no such conversation");
    return;
  }
  if (auto st = peek(ctx_.api, client_, guard::Action::bad_credential); !st) return refuse_rate_limited(st);
  auto joined = conversation->rejoin(join.participant, join.token);
  if (!joined) {
    const bool wrong = joined.status().code() == core::Code::permission_denied;
    if (wrong) {
      if (auto st = take(ctx_.api, client_, guard::Action::bad_credential); !st) return refuse_rate_limited(st);
    }
    send_error(core::code_name(joined.status().code()), joined.status().message());
    close_with(wrong ? static_cast<websocket::close_code>(4403) : websocket::close_code::policy_error,
               wrong ? "wrong token" : "cannot join");
    return;
  }
  sample_rate_hz_ = join.sample_rate_hz;
  ws::ParticipantConnection::Options options;
  options.sample_rate_hz = join.sample_rate_hz;
  options.since = join.since;
  options.max_replay_bytes = std::min(2 * session::ListenerLink::kDefaultReplayBytes, ctx_.limits.queue_hard_bytes / 4);
  role_ = Role::participant;
  join_timer_.cancel();
  auto connected = ws::ParticipantConnection::connect(conversation, *joined, this->weak_from_this(), options);
  if (!connected) {
    role_ = Role::none;
    send_error(core::code_name(connected.status().code()), connected.status().message());
    close_with(websocket::close_code::policy_error, "cannot join");
    return;
  }
  participant_ = std::move(*connected);
}

template <class Stream>
void WsSession<Stream>::handle_participant_message(const ws::Message& msg) {
  if (const auto* typed = std::get_if<ws::TypedText>(&msg)) {
    if (auto st = participant_->text(typed->text); !st) {
      ++ctx_.api.metrics->ws_bad_frames;
      send_error(core::code_name(st.code()), st.message());
    }
  } else if (const auto* playing = std::get_if<ws::Playing>(&msg)) {
    participant_->playing(playing->on);
  } else if (const auto* report = std::get_if<ws::PlaybackReport>(&msg)) {
    participant_->played(report->from, report->seq, report->lag_ms);
  } else if (const auto* mode = std::get_if<ws::SetSpeechMode>(&msg)) {
    participant_->set_hearing(mode->mode != session::wire::SpeechMode::none);
  } else if (const auto* half = std::get_if<ws::HalfDuplex>(&msg)) {
    participant_->set_half_duplex(half->on);
  } else if (std::holds_alternative<ws::Leave>(msg)) {
    participant_->leave();  // detaches it too
    close_with(websocket::close_code::normal, "left the conversation");
  } else {
    send_error("bad_message", "this message is not for a conversation's participant");
  }
}

template <class Stream>
void WsSession<Stream>::refuse_rate_limited(const core::Status& st) {
  ++ctx_.api.metrics->ws_bad_frames;
  enqueue(session::wire::error("rate_limited", st.message(), st.retry_after_s()));
  close_with(websocket::close_code::try_again_later, "rate limited");
}

template <class Stream>
void WsSession<Stream>::handle_binary(std::string_view bytes) {
  if (role_ == Role::none) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error("bad_message", "the first message must be {\"type\":\"join\", …}");
    close_with(websocket::close_code::policy_error, "join first");
    return;
  }
  if (role_ != Role::speaker && role_ != Role::participant) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error("bad_frame", "only a joined speaker sends audio");
    return;
  }
  if (auto bad = ws::parse_audio_frame(bytes, frame_)) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error(bad->code, bad->message);
    return;
  }
  if (role_ == Role::participant) {
    if (auto st = participant_->audio(frame_.seq, frame_.pcm, this); !st) {
      ++ctx_.api.metrics->ws_bad_frames;
      send_error("bad_frame", st.message());
    }
    return;
  }
  if (auto st = speaking_->push_audio(frame_.seq, frame_.pcm, sample_rate_hz_, static_cast<const fanout::Subscriber*>(this)); !st) {
    ++ctx_.api.metrics->ws_bad_frames;
    send_error("bad_frame", st.message());
  }
}

template <class Stream>
void WsSession<Stream>::send_error(const std::string& code, const std::string& message) {
  auto now = std::chrono::steady_clock::now();
  if (now - error_window_start_ > std::chrono::seconds(1)) {
    error_window_start_ = now;
    n_errors_sent_ = 0;
  }
  if (++n_errors_sent_ > kErrorsPerSecond) return;  // counted in metrics by the caller
  enqueue(session::wire::error(code, message));
}

template <class Stream>
void WsSession<Stream>::deliver(fanout::MessagePtr message) {
  // A broadcast runs on this connection's lane (Hub shards by lane()): no hand-off.
  using Lane = net::io_context::executor_type;
  if (const auto* lane = ws_.get_executor().template target<Lane>(); lane && lane->running_in_this_thread()) {
    enqueue(std::move(message));
    return;
  }
  net::post(ws_.get_executor(), [self = this->shared_from_this(), m = std::move(message)]() mutable {
    self->enqueue(std::move(m));
  });
}

template <class Stream>
void WsSession<Stream>::close(const std::string& reason) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(), reason] {
    self->close_with(websocket::close_code::going_away, reason);
  });
}

template <class Stream>
void WsSession<Stream>::enqueue(fanout::MessagePtr m) {
  if (closing_) return;
  auto* metrics = ctx_.api.metrics;
  const auto now = std::chrono::steady_clock::now();
  if (m->kind == fanout::Kind::audio && speech_mode_ != session::wire::SpeechMode::full) {
    if (speech_mode_ == session::wire::SpeechMode::none) return;
    m = m->without_audio;  // built once, beside the full message
    if (!m) return;
  }
  if (m->kind == fanout::Kind::audio && queued_bytes_ > ctx_.limits.queue_soft_bytes) {
    ++metrics->ws_audio_dropped;
    return;
  }
  if (m->kind == fanout::Kind::partial && queue_.size() > kPartialQueueLimit) {
    ++metrics->ws_partials_dropped;
    return;
  }
  const bool stuck = !queue_.empty() &&
                     now - queue_.front().at > std::chrono::milliseconds(ctx_.limits.slow_listener_ms);
  if (stuck || queued_bytes_ + m->bytes.size() > ctx_.limits.queue_hard_bytes) {
    ++metrics->ws_evictions;
    core::log_info("ws", "disconnecting a listener that stopped reading");
    // The close frame cannot pass a full socket; drop the connection, and
    // its queue now (a write in flight keeps the message it is writing).
    closing_ = true;
    detach();
    queue_.erase(writing_ ? queue_.begin() + 1 : queue_.begin(), queue_.end());
    queued_bytes_ = queue_.empty() ? 0 : queue_.front().message->bytes.size();
    beast::error_code ec;
    socket_of(beast::get_lowest_layer(ws_)).shutdown(net::ip::tcp::socket::shutdown_both, ec);
    socket_of(beast::get_lowest_layer(ws_)).close(ec);
    return;
  }
  queued_bytes_ += m->bytes.size();
  queue_.push_back({std::move(m), now});
  if (!writing_) write_next();
}

template <class Stream>
void WsSession<Stream>::write_next() {
  if (queue_.empty() || closing_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const auto& m = queue_.front().message;
  ws_.binary(m->binary);
  ws_.async_write(net::buffer(m->bytes), beast::bind_front_handler(&WsSession<Stream>::on_write, this->shared_from_this()));
}

template <class Stream>
void WsSession<Stream>::on_write(beast::error_code ec, size_t) {
  if (ec) {
    writing_ = false;
    detach();
    return;
  }
  ++ctx_.api.metrics->ws_messages_sent;
  queued_bytes_ -= queue_.front().message->bytes.size();
  queue_.pop_front();
  write_next();
}

template <class Stream>
void WsSession<Stream>::close_with(websocket::close_code code, const std::string& reason) {
  if (closing_ || close_requested_) return;
  close_requested_ = true;
  detach();
  // Let queued messages (the error, the goodbye) go first, then close.
  auto self = this->shared_from_this();
  auto do_close = [self, code, reason] {
    self->closing_ = true;
    // A peer that never answers the close frame is cut off after a while.
    self->join_timer_.expires_after(kCloseHandshakeTimeout);
    self->join_timer_.async_wait([weak = self->weak_from_this()](beast::error_code ec) {
      auto me = weak.lock();
      if (ec || !me) return;
      beast::error_code ignored;
      socket_of(beast::get_lowest_layer(me->ws_)).close(ignored);
    });
    self->ws_.async_close(websocket::close_reason(code, reason.substr(0, 120)), [self](beast::error_code) {
      self->join_timer_.cancel();
    });
  };
  if (!writing_ && queue_.empty()) {
    do_close();
    return;
  }
  // Poll until the queue drains (bounded by the slow-listener timeout).
  auto timer = std::make_shared<net::steady_timer>(ws_.get_executor());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx_.limits.slow_listener_ms);
  auto check = std::make_shared<std::function<void()>>();
  *check = [self, timer, deadline, do_close, check] {
    if ((!self->writing_ && self->queue_.empty()) || std::chrono::steady_clock::now() > deadline) {
      do_close();
      *check = nullptr;  // break the self-reference
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([check](beast::error_code) {
      if (*check) (*check)();
    });
  };
  (*check)();
}

template <class Stream>
void WsSession<Stream>::detach() {
  if (speaking_) speaking_->detach_speaker(this);
  if (listening_) {
    if (counted_for_speech_) listening_->count_speech_listener(language_, -1);
    counted_for_speech_ = false;
    listening_->remove_listener(language_, this);
  }
  if (participant_) participant_->detach();
  speaking_.reset();
  listening_.reset();
  participant_.reset();
  role_ = Role::none;
}

template <class Stream>
void WsSession<Stream>::count_for_speech() {
  const bool wants = speech_mode_ != session::wire::SpeechMode::none;
  if (!listening_ || wants == counted_for_speech_) return;
  listening_->count_speech_listener(language_, wants ? 1 : -1);
  counted_for_speech_ = wants;
}

template class WsSession<PlainSocket>;
template class WsSession<TlsStream>;

}  // namespace parley::transport
