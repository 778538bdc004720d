// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/ws/participant.h"

#include "core/clock.h"
#include "session/wire.h"

namespace parley::transport::ws {

fanout::MessagePtr tag_from(const fanout::Message& m, const std::string& participant) {
  if (m.binary) {
    std::string bytes;
    bytes.reserve(4 + participant.size() + m.bytes.size());
    bytes += 'P';
    bytes += static_cast<char>(kFromBinaryKind);
    bytes += static_cast<char>(1);
    bytes += static_cast<char>(static_cast<uint8_t>(participant.size()));
    bytes += participant;
    bytes += m.bytes;
    return fanout::make_binary(m.kind, std::move(bytes));
  }
  // Every text message is one JSON object: "from" goes in first. Ids are
  // hex digits, so nothing needs escaping.
  if (m.bytes.empty() || m.bytes.front() != '{') return std::make_shared<const fanout::Message>(m);
  std::string bytes = "{\"from\":\"" + participant + "\"";
  if (m.bytes.size() > 2) bytes += ',';
  bytes.append(m.bytes, 1, std::string::npos);
  return fanout::make_text(m.kind, std::move(bytes));
}

// What one session sends this participant: passed on, tagged with whose it is.
class ParticipantConnection::Feed final : public fanout::Subscriber {
 public:
  Feed(std::weak_ptr<ParticipantConnection> owner, std::string from)
      : owner_(std::move(owner)), from_(std::move(from)) {}
  void deliver(fanout::MessagePtr message) override {
    if (auto o = owner_.lock()) o->forward(from_, message);
  }
  void close(const std::string& reason) override {
    if (auto o = owner_.lock()) o->feed_closed(from_, reason);
  }

 private:
  std::weak_ptr<ParticipantConnection> owner_;
  const std::string from_;
};

ParticipantConnection::ParticipantConnection(std::shared_ptr<session::Conversation> conversation,
                                             session::ParticipantInfo me, std::shared_ptr<session::LiveSession> own,
                                             std::weak_ptr<fanout::Subscriber> connection, Options options)
    : conversation_(std::move(conversation)), me_(std::move(me)), own_(std::move(own)),
      connection_(std::move(connection)), options_(std::move(options)), joined_us_(core::now_us()) {}

ParticipantConnection::~ParticipantConnection() = default;

core::Result<std::shared_ptr<ParticipantConnection>> ParticipantConnection::connect(
    std::shared_ptr<session::Conversation> conversation, const session::Conversation::Joined& joined,
    std::weak_ptr<fanout::Subscriber> connection, Options options) {
  auto conn = connection.lock();
  if (!conn) return core::unavailable("the connection went away");
  auto self = std::shared_ptr<ParticipantConnection>(
      new ParticipantConnection(conversation, joined.participant, joined.session, connection, std::move(options)));
  // The conversation's welcome first on the socket, then the own session
  // (as its speaker), then everyone's histories.
  auto roster = conversation->connect(self->me_.id, self);
  session::wire::ConversationWelcome w;
  w.code = conversation->code();
  w.title = conversation->options().title;
  w.you = self->me_;
  w.you.online = true;
  w.token = joined.token;
  w.participants = roster.participants;
  w.half_duplex = conversation->half_duplex();
  w.floor = roster.floor;
  conn->deliver(session::wire::conversation_welcome(w));
  // A session that refuses its speaker (it ended) refuses the whole join.
  auto speaker_feed = std::make_shared<Feed>(self->weak_from_this(), self->me_.id);
  if (auto st = self->own_->attach_speaker(speaker_feed, /*takeover=*/true); !st) {
    self->detach();  // and any listening a newcomer started meanwhile
    return st;
  }
  {
    std::lock_guard lock(self->mu_);
    self->speaker_feed_ = speaker_feed;
  }
  // One replay budget for the whole conversation, shared by its sessions,
  // so joining never overfills the socket's queue.
  self->replay_bytes_ = std::max<size_t>(16 * 1024, self->options_.max_replay_bytes / (roster.sessions.size() + 1));
  auto since = [&](const std::string& id) {
    auto it = self->options_.since.find(id);
    return it == self->options_.since.end() ? int64_t{0} : it->second;
  };
  self->listen_to(self->me_.id, self->own_, since(self->me_.id));
  for (const auto& [id, s] : roster.sessions) self->listen_to(id, s, since(id));
  return self;
}

void ParticipantConnection::listen_to(const std::string& from, const std::shared_ptr<session::LiveSession>& s,
                                      int64_t since) {
  auto feed = std::make_shared<Feed>(weak_from_this(), from);
  {
    std::lock_guard lock(mu_);
    if (detached_ || listening_.count(from) != 0) return;
    listening_[from] = Listening{s, feed, false, 0};
  }
  // Outside the lock: the replay comes back through forward().
  if (auto st = s->add_listener(feed, me_.language, since, replay_bytes_); !st) {
    {
      std::lock_guard lock(mu_);
      listening_.erase(from);
    }
    // Someone who left: their session has ended and has nothing more to
    // say (what they said is in the export). Not this page's error.
    if (from != me_.id && st.code() == core::Code::failed_precondition) return;
    if (auto c = connection()) {
      c->deliver(tag_from(*session::wire::error(core::code_name(st.code()), st.message()), from));
    }
    return;
  }
  // The own session is read in its own words, never spoken back.
  std::lock_guard counting(hearing_mu_);
  const bool hears = from != me_.id && hearing_;
  if (hears) s->count_speech_listener(me_.language, 1);
  bool kept = false;
  {
    std::lock_guard lock(mu_);
    auto it = listening_.find(from);
    kept = !detached_ && it != listening_.end() && it->second.feed == feed;
    if (kept) it->second.hears = hears;
  }
  if (!kept) {  // detached meanwhile: undone here, since detach() did not count it
    if (hears) s->count_speech_listener(me_.language, -1);
    s->remove_listener(me_.language, feed.get());
  }
}

void ParticipantConnection::set_hearing(bool on) {
  std::lock_guard counting(hearing_mu_);
  if (hearing_ == on) return;
  hearing_ = on;
  std::vector<std::shared_ptr<session::LiveSession>> changed;
  {
    std::lock_guard lock(mu_);
    if (detached_) return;
    for (auto& [from, l] : listening_) {
      if (from == me_.id || l.hears == on) continue;
      l.hears = on;
      changed.push_back(l.session);
    }
  }
  for (const auto& s : changed) s->count_speech_listener(me_.language, on ? 1 : -1);
}

void ParticipantConnection::forward(const std::string& from, const fanout::MessagePtr& m) {
  auto c = connection();
  if (!c) return;
  if (m->binary) {
    if (from == me_.id || !hearing_) return;  // a page that plays no speech gets none
    // A partner's translated speech: this page is about to play it.
    if (auto speech = session::wire::parse_speech(m->bytes); speech && !speech->ogg.empty()) {
      conversation_->speech_sent(me_.id, speech->duration_ms);
    }
  }
  c->deliver(tag_from(*m, from));
}

void ParticipantConnection::feed_closed(const std::string& from, const std::string& reason) {
  if (from == me_.id) {
    // The own session ended, or another connection of this participant
    // took it over: this connection is done.
    if (auto c = connection()) c->close(reason);
    return;
  }
  Listening gone;
  {
    std::lock_guard lock(mu_);
    auto it = listening_.find(from);
    if (it == listening_.end()) return;
    gone = std::move(it->second);
    listening_.erase(it);
  }
  if (gone.hears) gone.session->count_speech_listener(me_.language, -1);
}

core::Status ParticipantConnection::audio(uint32_t seq, std::span<int16_t> pcm, const fanout::Subscriber*) {
  conversation_->gate(me_.id, pcm, options_.sample_rate_hz);
  std::shared_ptr<Feed> feed;
  {
    std::lock_guard lock(mu_);
    feed = speaker_feed_;
  }
  if (!feed) return core::failed_precondition("this connection no longer speaks in the conversation");
  return own_->push_audio(seq, pcm, options_.sample_rate_hz, feed.get());
}

core::Status ParticipantConnection::text(std::string t) { return own_->push_text(std::move(t)); }

void ParticipantConnection::playing(bool on) { conversation_->playback(me_.id, on, this); }

void ParticipantConnection::played(const std::string& from, int64_t seq, int64_t lag_ms) {
  std::shared_ptr<session::LiveSession> s;
  {
    std::lock_guard lock(mu_);
    auto it = listening_.find(from);
    if (it == listening_.end() || !it->second.hears || seq <= it->second.last_reported_seq) return;
    it->second.last_reported_seq = seq;  // one report a final, in order
    s = it->second.session;
  }
  s->report_playback(me_.language, seq, lag_ms, joined_us_);
}

void ParticipantConnection::set_half_duplex(bool on) { conversation_->set_half_duplex(on); }

void ParticipantConnection::leave() {
  conversation_->leave(me_.id);  // first: the others hear "left for good", not "disconnected"
  detach();
}

void ParticipantConnection::detach() {
  std::lock_guard counting(hearing_mu_);
  std::shared_ptr<Feed> speaker;
  std::map<std::string, Listening> listening;
  {
    std::lock_guard lock(mu_);
    if (detached_) return;
    detached_ = true;
    speaker = std::move(speaker_feed_);
    listening.swap(listening_);
  }
  if (speaker) own_->detach_speaker(speaker.get());
  for (auto& [from, l] : listening) {
    if (l.hears) l.session->count_speech_listener(me_.language, -1);
    l.session->remove_listener(me_.language, l.feed.get());
  }
  conversation_->disconnect(me_.id, this);
}

void ParticipantConnection::on_participant(const session::ParticipantInfo& p,
                                           std::shared_ptr<session::LiveSession> s) {
  if (p.id == me_.id) return;
  listen_to(p.id, s, 0);
}

void ParticipantConnection::on_conversation_event(fanout::MessagePtr event) {
  if (auto c = connection()) c->deliver(std::move(event));
}

void ParticipantConnection::on_conversation_end(const std::string& reason) {
  if (auto c = connection()) {
    c->deliver(session::wire::conversation_ended(reason));
    c->close(reason);
  }
}

void ParticipantConnection::on_replaced() {
  if (auto c = connection()) {
    c->deliver(session::wire::error("replaced", "you joined this conversation again from another page or tab"));
    c->close("replaced by another connection");
  }
}

}  // namespace parley::transport::ws
