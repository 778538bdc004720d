// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/audio_stream.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "audio/opus_ogg.h"

namespace parley::transport {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr size_t kMaxQueuedBytes = 256 * 1024;
constexpr double kLeadS = 0.5;  // keep the player this far ahead of real time

// Two links of one second of silence with distinct serial numbers: a chain
// must not repeat a serial in consecutive links.
const fanout::MessagePtr& silence(int index) {
  static const auto links = [] {
    std::array<fanout::MessagePtr, 2> out;
    audio::MonoPcm pcm{std::vector<float>(24000, 0.0F), 24000};
    for (uint32_t i = 0; i < 2; ++i) {
      auto ogg = audio::encode_ogg_opus(pcm, 0xFFFFFF00U + i);
      out[i] = fanout::make_binary(fanout::Kind::audio, ogg ? *ogg : std::string());
    }
    return out;
  }();
  return links[static_cast<size_t>(index % 2)];
}

}  // namespace

double ogg_link_duration_s(std::string_view ogg) {
  size_t last = ogg.rfind("OggS");
  if (last == std::string_view::npos || last + 27 > ogg.size()) return 0;
  uint64_t granule = 0;
  for (int i = 7; i >= 0; --i) granule = (granule << 8) | static_cast<unsigned char>(ogg[last + 6 + static_cast<size_t>(i)]);
  // Pre-skip from OpusHead (bytes 10–11 of the first packet, after the 28-byte first page header).
  uint16_t pre_skip = 0;
  size_t head = ogg.find("OpusHead");
  if (head != std::string_view::npos && head + 12 <= ogg.size()) {
    pre_skip = static_cast<uint16_t>(static_cast<unsigned char>(ogg[head + 10]) |
                                     (static_cast<unsigned char>(ogg[head + 11]) << 8));
  }
  return granule > pre_skip ? static_cast<double>(granule - pre_skip) / 48000.0 : 0.0;
}

template <class Stream>
AudioStreamSession<Stream>::AudioStreamSession(Stream stream, const Context& ctx,
                                               std::shared_ptr<session::ListenerLink> live, std::string language,
                                               std::shared_ptr<guard::Guard::Slot> slot)
    : stream_(std::move(stream)), ctx_(ctx), live_(std::move(live)), language_(std::move(language)),
      slot_(std::move(slot)), timer_(stream_.get_executor()) {
  ++ctx_.api.metrics->audio_streams;
}

template <class Stream>
AudioStreamSession<Stream>::~AudioStreamSession() { --ctx_.api.metrics->audio_streams; }

template <class Stream>
void AudioStreamSession<Stream>::run() {
  static const std::string kHeader =
      "HTTP/1.1 200 OK\r\nServer: parley\r\nContent-Type: audio/ogg\r\nCache-Control: no-store\r\n"
      "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n";
  started_ = std::chrono::steady_clock::now();
  beast::error_code ec;
  beast::get_lowest_layer(stream_).socket().set_option(
      net::socket_base::send_buffer_size(ctx_.limits.socket_send_buffer_bytes), ec);
  enqueue(fanout::make_binary(fanout::Kind::control, kHeader));
  if (auto st = live_->add_audio_stream(this->shared_from_this(), language_); !st) {
    stop();
    return;
  }
  tick();
}

template <class Stream>
void AudioStreamSession<Stream>::deliver(fanout::MessagePtr message) {
  net::post(stream_.get_executor(), [self = this->shared_from_this(), m = std::move(message)]() mutable {
    self->enqueue(std::move(m));
  });
}

template <class Stream>
void AudioStreamSession<Stream>::close(const std::string&) {
  net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->stop(); });
}

template <class Stream>
void AudioStreamSession<Stream>::enqueue(fanout::MessagePtr m) {
  if (stopped_) return;
  if (m->kind == fanout::Kind::audio) {
    if (queued_bytes_ + m->bytes.size() > kMaxQueuedBytes) {
      ++ctx_.api.metrics->ws_audio_dropped;
      return;
    }
    audio_sent_s_ += ogg_link_duration_s(m->bytes);
  }
  queued_bytes_ += m->bytes.size();
  queue_.push_back(std::move(m));
  if (!writing_) write_next();
}

template <class Stream>
void AudioStreamSession<Stream>::write_next() {
  if (queue_.empty() || stopped_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  write_started_ = std::chrono::steady_clock::now();
  net::async_write(stream_, net::buffer(queue_.front()->bytes),
                   [self = this->shared_from_this()](beast::error_code ec, size_t) {
                     if (ec) {
                       self->stop();
                       return;
                     }
                     self->queued_bytes_ -= self->queue_.front()->bytes.size();
                     self->queue_.pop_front();
                     self->write_next();
                   });
}

template <class Stream>
void AudioStreamSession<Stream>::tick() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  if (writing_ && now - write_started_ > std::chrono::milliseconds(ctx_.limits.slow_listener_ms)) {
    ++ctx_.api.metrics->ws_evictions;  // a player that stopped reading holds a socket and a session
    stop();
    return;
  }
  const double wall_s = std::chrono::duration<double>(now - started_).count();
  if (audio_sent_s_ < wall_s + kLeadS) enqueue(silence(silence_index_++));
  timer_.expires_after(std::chrono::milliseconds(250));
  timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
    if (!ec) self->tick();
  });
}

template <class Stream>
void AudioStreamSession<Stream>::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  live_->remove_audio_stream(language_, this);
  beast::error_code ec;
  beast::get_lowest_layer(stream_).socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(stream_).close();
}

template class AudioStreamSession<PlainStream>;
template class AudioStreamSession<TlsStream>;

}  // namespace parley::transport
