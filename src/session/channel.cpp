// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/channel.h"

#include <algorithm>
#include <vector>

#include "core/clock.h"
#include "session/wire.h"

namespace parley::session {

Channel::Channel(std::string language, size_t finals_kept, std::shared_ptr<fanout::Dispatcher> dispatcher)
    : language_(std::move(language)), finals_kept_(std::max<size_t>(1, finals_kept)) {
  listeners_.set_dispatcher(dispatcher);
  streams_.set_dispatcher(std::move(dispatcher));
}

core::Result<size_t> Channel::join(std::shared_ptr<fanout::Subscriber> listener, int64_t after_seq,
                                   size_t max_replay_bytes, const WelcomeFn& welcome) {
  std::lock_guard lock(mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  // Registered before anything is sent: a listener that the replay itself
  // overwhelms is evicted and leaves like any other, instead of being added
  // after it was closed.
  auto* raw = listener.get();
  const size_t n = listeners_.add(language_, std::move(listener));
  // The newest finals after `after_seq` that fit the budget, newest first.
  std::vector<const fanout::MessagePtr*> replay;
  size_t replay_bytes = 0;
  int64_t replay_from_seq = floor_seq_;
  for (auto it = finals_.rbegin(); it != finals_.rend() && it->seq > after_seq; ++it) {
    if (replay_bytes + it->replay->bytes.size() > max_replay_bytes) {
      replay_from_seq = it->seq + 1;
      break;
    }
    replay_bytes += it->replay->bytes.size();
    replay.push_back(&it->replay);
  }
  raw->deliver(welcome(replay_from_seq > after_seq + 1 ? replay_from_seq : 0));
  for (auto it = replay.rbegin(); it != replay.rend(); ++it) raw->deliver(**it);
  return n;
}

size_t Channel::leave(const fanout::Subscriber* listener) { return listeners_.remove(language_, listener); }

core::Result<size_t> Channel::add_stream(std::shared_ptr<fanout::Subscriber> stream) {
  std::lock_guard lock(mu_);
  if (closed_) return core::failed_precondition("the session has ended");
  return streams_.add(language_, std::move(stream));
}

size_t Channel::remove_stream(const fanout::Subscriber* stream) { return streams_.remove(language_, stream); }

fanout::MessagePtr Channel::publish(const CaptionEvent& e) {
  auto live = wire::final_caption(e, e.late);
  auto replay = e.late ? live : wire::final_caption(e, true);
  std::lock_guard lock(mu_);
  if (closed_) return live;
  // What this channel holds starts at the first final it gets: a channel
  // made for a language mid-session (filled by late translations of the
  // finals still kept), or a view reading a log that was trimmed, names
  // the finals before it as ones to read over REST.
  if (!seen_any_) {
    seen_any_ = true;
    floor_seq_ = std::max(floor_seq_, e.seq);
  }
  // Late translations (a language's first listener) may come after newer
  // finals: kept in seq order, once.
  auto at = finals_.end();
  while (at != finals_.begin() && std::prev(at)->seq >= e.seq) --at;
  if (at != finals_.end() && at->seq == e.seq) return live;
  if (e.seq >= floor_seq_) finals_.insert(at, {e.seq, std::move(replay)});
  while (finals_.size() > finals_kept_) {
    floor_seq_ = finals_.front().seq + 1;
    finals_.pop_front();
  }
  listeners_.broadcast(language_, live);
  return live;
}

fanout::MessagePtr Channel::publish(const PartialEvent& e) {
  if (listeners_.count(language_) == 0) return nullptr;
  auto m = wire::partial(e.utterance_id, e.revision, e.language, e.source, e.text);
  listeners_.broadcast(language_, m);
  return m;
}

void Channel::publish(const SpeechEvent& e) {
  {
    std::lock_guard lock(spoken_mu_);
    const int64_t now = core::now_us();
    spoken_.push_back({e.seq, now, e.since_end_ms < 0 ? now : now - e.since_end_ms * 1000});
    if (spoken_.size() > kSpokenKept) spoken_.pop_front();
  }
  if (listeners_.count(language_) != 0) {
    listeners_.broadcast(language_, wire::speech(e.seq, e.utterance_id, e.duration_ms, e.timeline, e.ogg_opus));
  }
  if (streams_.count(language_) != 0) {
    streams_.broadcast(language_, fanout::make_binary(fanout::Kind::audio, e.ogg_opus));
  }
}

void Channel::publish(const SpeechSkippedEvent& e) {
  if (listeners_.count(language_) == 0) return;
  listeners_.broadcast(language_, wire::speech_skipped(e.seq, e.language));
}

void Channel::broadcast(const fanout::MessagePtr& m) { listeners_.broadcast(language_, m); }

void Channel::close(const fanout::MessagePtr& goodbye, const std::string& reason) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (goodbye) listeners_.broadcast(language_, goodbye);
  listeners_.close_all(reason);
  streams_.close_all(reason);
  listeners_.clear();
  streams_.clear();
}

bool Channel::heard_plausibly(int64_t seq, int64_t lag_ms, int64_t joined_us) const {
  std::lock_guard lock(spoken_mu_);
  auto s = std::find_if(spoken_.begin(), spoken_.end(), [&](const Spoken& x) { return x.seq == seq; });
  if (s == spoken_.end() || s->sent_us < joined_us) return false;
  return lag_ms <= (core::now_us() - s->source_end_us) / 1000 + kReportSlackMs;
}

int64_t Channel::last_seq() const {
  std::lock_guard lock(mu_);
  return finals_.empty() ? 0 : finals_.back().seq;
}

}  // namespace parley::session
