// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/conversation.h"

#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "core/utf8.h"
#include "engines/language.h"
#include "session/registry.h"
#include "session/wire.h"

namespace parley::session {

namespace {

// A participant's session tells the conversation when they talk.
class Watcher final : public UtteranceWatcher {
 public:
  Watcher(std::weak_ptr<Conversation> conversation, std::string id)
      : conversation_(std::move(conversation)), id_(std::move(id)) {}
  void on_utterance_open(uint64_t) override {
    if (auto c = conversation_.lock()) c->utterance_opened(id_);
  }
  void on_utterance_closed(uint64_t, bool) override {
    if (auto c = conversation_.lock()) c->utterance_closed(id_);
  }

 private:
  std::weak_ptr<Conversation> conversation_;
  const std::string id_;
};

// A display name: valid UTF-8 without control characters, trimmed, at most
// kMaxNameBytes (cut on a character boundary).
std::string clean_name(const std::string& raw) {
  std::string s = core::sanitize_utf8(raw);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    auto [cp, len] = core::utf8_decode(s, i);
    if (len == 0) break;
    if (cp >= 0x20 && cp != 0x7f) {
      if (out.size() + len > Conversation::kMaxNameBytes) break;
      out.append(s, i, len);
    }
    i += len;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

}  // namespace

Conversation::Conversation(std::string code, ConversationOptions options, Registry& sessions,
                           std::shared_ptr<ConversationCounters> counters)
    : code_(std::move(code)), options_(std::move(options)), created_at_ms_(wall_clock_ms()), sessions_(sessions),
      counters_(std::move(counters)), half_duplex_(options_.half_duplex), last_online_ms_(core::now_ms()) {}

Conversation::~Conversation() = default;

store::ConversationMember Conversation::stored(const Participant& p) const {
  store::ConversationMember row;
  row.session_id = p.session_id;
  row.code = code_;
  row.conversation_created_at_ms = created_at_ms_;
  row.title = options_.title;
  row.participant_id = p.info.id;
  row.name = p.info.name;
  row.language = p.info.language;
  row.token_hash = p.token_hash;
  row.typed = p.info.typed;
  row.joined_at_ms = p.info.joined_at_ms;
  row.left_at_ms = p.info.left_at_ms;
  return row;
}

void Conversation::save(const store::ConversationMember& row) {
  const auto& store = sessions_.store();
  if (!store || row.session_id == 0) return;
  // Queued (AsyncStore): never blocks a network thread. A refusal leaves the
  // conversation whole while it lives; its export after the end would miss
  // this participant, so it is logged.
  if (auto st = store->save_conversation_member(row); !st) {
    core::log_warn("conversation", "could not keep participant " + row.participant_id + " of " + code_ +
                                       " in the store: " + st.message());
  }
}

Conversation::Participant* Conversation::find(const std::string& id) {
  for (auto& p : participants_) {
    if (p.info.id == id) return &p;
  }
  return nullptr;
}

std::vector<std::shared_ptr<ConversationMember>> Conversation::members(const std::string& except) const {
  std::vector<std::shared_ptr<ConversationMember>> out;
  for (const auto& p : participants_) {
    if (p.info.id == except) continue;
    if (auto m = p.member.lock()) out.push_back(std::move(m));
  }
  return out;
}

void Conversation::broadcast(const std::vector<std::shared_ptr<ConversationMember>>& to, const fanout::MessagePtr& m) {
  for (const auto& member : to) member->on_conversation_event(m);
}

core::Result<Conversation::Joined> Conversation::join(const std::string& name_in, const std::string& language_in) {
  auto language = engines::normalize_language(language_in);
  if (!language) return core::invalid_argument("'" + language_in.substr(0, 40) + "' is not a language code");
  // A page offers the browser's own tag ("es-ES"): engines here are by language.
  language = language->substr(0, language->find('-'));
  const auto& engines = sessions_.engines();
  std::vector<std::string> others;
  {
    std::lock_guard lock(mu_);
    if (ended_) return core::failed_precondition("this conversation has ended");
    size_t present = 0;
    for (const auto& p : participants_) {
      if (p.info.left) continue;
      ++present;
      if (p.info.language != *language) others.push_back(p.info.language);
    }
    // Joins still making their session count too, and their languages.
    for (const auto& l : joining_) {
      if (l != *language) others.push_back(l);
    }
    if (present + joining_.size() >= kMaxParticipants) {
      return core::resource_exhausted("this conversation already has " + std::to_string(kMaxParticipants) +
                                      " participants");
    }
    if (participants_.size() + joining_.size() >= kMaxEverJoined) {
      return core::resource_exhausted(std::to_string(kMaxEverJoined) +
                                      " people have joined this conversation, the most one holds; start a new one");
    }
    joining_.push_back(*language);  // the place is held while the session is made, outside the lock
  }
  auto unreserve = [this, lang = *language] {
    std::lock_guard lock(mu_);
    joining_.erase(std::find(joining_.begin(), joining_.end(), lang));
  };
  // Everyone must be translatable into the newcomer's language and back; the
  // first one's language into something at least.
  if (others.empty() && engines.router->targets_from(*language).empty()) {
    unreserve();
    return core::invalid_argument("this server cannot translate " + engines::language_name(*language) +
                                  " into any language, so nobody could understand it here");
  }
  for (const auto& other : others) {
    for (const auto& [from, to] : {std::pair{other, *language}, std::pair{*language, other}}) {
      if (auto r = engines.router->route(from, to); !r) {
        unreserve();
        return core::invalid_argument("this server cannot translate " + engines::language_name(from) + " into " +
                                      engines::language_name(to) + ", so " + engines::language_name(*language) +
                                      " cannot join this conversation: " + r.status().message());
      }
    }
  }
  const auto recognisable = engines.stt ? engines.stt->languages() : std::vector<std::string>{};
  SessionSpec spec;
  std::string name = clean_name(name_in);
  spec.source_language = *language;
  spec.typed = std::find(recognisable.begin(), recognisable.end(), *language) == recognisable.end();
  spec.conversation = code_;
  ParticipantInfo info;
  info.id = random_token().substr(0, 8);
  info.language = *language;
  info.typed = spec.typed;
  info.joined_at_ms = wall_clock_ms();
  if (name.empty()) name = engines::language_name(*language) + " speaker";
  info.name = name;
  spec.name = (options_.title.empty() ? "Conversation " + code_ : options_.title) + " · " + name;
  auto created = sessions_.create(spec);  // may write the store: callers are off the network threads
  if (!created) {
    unreserve();
    return created.status();
  }
  auto session = created->session;
  if (auto st = session->apply(Action::start); !st) {
    unreserve();
    session->end("could not start");
    return st.status();
  }
  Participant p;
  p.info = info;
  const std::string token = random_token();
  p.token_hash = hash_token(token);
  p.session = session;
  p.session_id = session->info().id;
  const auto row = stored(p);
  p.watcher = std::make_shared<Watcher>(weak_from_this(), info.id);
  session->watch_utterances(p.watcher);
  std::vector<std::shared_ptr<ConversationMember>> told;
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    joining_.erase(std::find(joining_.begin(), joining_.end(), info.language));
    ended = ended_;
    if (!ended) {
      participants_.push_back(std::move(p));
      told = members(info.id);
    }
  }
  if (ended) {
    session->end("the conversation ended");
    return core::failed_precondition("this conversation has ended");
  }
  save(row);
  counters_->participants_joined.fetch_add(1, std::memory_order_relaxed);
  // Everyone is told at once (a newcomer is seen even before their page
  // connects), and listens to the newcomer from now on.
  broadcast(told, wire::partner_joined(info, false));
  for (const auto& m : told) m->on_participant(info, session);
  return Joined{info, token, session};
}

core::Result<Conversation::Joined> Conversation::rejoin(const std::string& id, const std::string& token) {
  std::lock_guard lock(mu_);
  if (ended_) return core::failed_precondition("this conversation has ended");
  Participant* p = find(id);
  if (!p || !digests_equal(p->token_hash, hash_token(token))) {
    return core::permission_denied("this participant token is not one of conversation " + code_);
  }
  if (p->info.left) return core::failed_precondition("you left this conversation; join again as someone new");
  return Joined{p->info, "", p->session};
}

Conversation::Roster Conversation::connect(const std::string& id, std::shared_ptr<ConversationMember> member) {
  Roster roster;
  std::shared_ptr<ConversationMember> replaced;
  std::vector<std::shared_ptr<ConversationMember>> told;
  ParticipantInfo info;
  bool returning = false;
  {
    std::lock_guard lock(mu_);
    Participant* p = find(id);
    if (!p) return roster;
    replaced = p->member.lock();
    returning = p->joined_before;
    p->joined_before = true;
    p->member = member;
    p->member_ptr = member.get();
    p->info.online = true;
    ever_online_ = true;
    p->playing = false;  // a new page plays nothing yet
    p->sent_until_ms = 0;
    p->echo_tail_ms = 0;
    last_online_ms_ = core::now_ms();
    info = p->info;
    expire_floor(core::now_ms());
    for (const auto& q : participants_) {
      roster.participants.push_back(q.info);
      if (q.info.id != id) roster.sessions[q.info.id] = q.session;
    }
    roster.floor = floor_;
    if (!replaced) told = members(id);
  }
  if (replaced && replaced != member) {
    replaced->on_replaced();
  }
  broadcast(told, wire::partner_joined(info, returning));
  return roster;
}

bool Conversation::go_offline(Participant& p) {
  p.member.reset();
  p.member_ptr = nullptr;
  p.info.online = false;
  p.talking = false;
  const bool freed = floor_ == p.info.id;
  if (freed) floor_.clear();
  return freed;
}

void Conversation::tell_gone(const std::vector<std::shared_ptr<ConversationMember>>& to, const ParticipantInfo& info,
                             bool for_good, bool floor_freed) {
  broadcast(to, wire::partner_left(info, for_good));
  if (floor_freed) broadcast(to, wire::floor("", half_duplex()));
}

void Conversation::disconnect(const std::string& id, const ConversationMember* member) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  ParticipantInfo info;
  bool freed = false;
  {
    std::lock_guard lock(mu_);
    Participant* p = find(id);
    if (!p || p->member_ptr != member) return;  // replaced meanwhile: the new one stays
    freed = go_offline(*p);
    p->playing = false;
    p->sent_until_ms = 0;
    last_online_ms_ = core::now_ms();
    info = p->info;
    told = members(id);
  }
  tell_gone(told, info, /*for_good=*/false, freed);
}

void Conversation::leave(const std::string& id) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  ParticipantInfo info;
  store::ConversationMember row;
  bool freed = false;
  {
    std::lock_guard lock(mu_);
    Participant* p = find(id);
    if (!p || p->info.left) return;
    p->info.left = true;
    p->info.left_at_ms = wall_clock_ms();
    freed = go_offline(*p);
    info = p->info;
    row = stored(*p);
    told = members(id);
  }
  save(row);  // who left cannot read the conversation after its end either
  tell_gone(told, info, /*for_good=*/true, freed);
  // Their session ends, and the conversation when nobody is left, on the
  // reaper's thread (Conversations::reap): ending writes the store.
}

std::vector<std::shared_ptr<LiveSession>> Conversation::sessions_of_the_departed() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LiveSession>> out;
  for (const auto& p : participants_) {
    if (p.info.left && !p.session->has_ended()) out.push_back(p.session);
  }
  return out;
}

bool Conversation::everyone_left() const {
  std::lock_guard lock(mu_);
  return !participants_.empty() && std::all_of(participants_.begin(), participants_.end(),
                                               [](const Participant& p) { return p.info.left; });
}

void Conversation::playback(const std::string& id, bool playing, const ConversationMember* from) {
  std::lock_guard lock(mu_);
  Participant* p = find(id);
  if (!p || (from != nullptr && p->member_ptr != from)) return;  // a replaced page's late word
  const int64_t now = core::now_ms();
  if (playing) {
    p->playing = true;
    p->playing_since_ms = now;
    p->echo_tail_ms = 0;
  } else if (p->playing || p->sent_until_ms > 0) {
    p->playing = false;
    // Speech sent in the last moment may have crossed this "stopped" on the
    // way: it is still to be played, so its gate stays.
    if (now - p->last_sent_ms > kSentCrossingMs) p->sent_until_ms = 0;
    p->echo_tail_ms = static_cast<double>(kEchoMarginMs);
  }
}

void Conversation::speech_sent(const std::string& id, int64_t duration_ms) {
  std::lock_guard lock(mu_);
  Participant* p = find(id);
  if (!p) return;
  const int64_t now = core::now_ms();
  const int64_t until = now + std::clamp<int64_t>(duration_ms, 0, kMaxPlaybackMs) + kSentSpeechSlackMs;
  p->sent_until_ms = std::max(p->sent_until_ms, until);
  p->last_sent_ms = now;
  if (p->playing) p->playing_since_ms = now;  // a long run of clips is one "playing": it lasts while they come
}

void Conversation::gate(const std::string& id, std::span<int16_t> pcm, int rate_hz) {
  if (pcm.empty() || rate_hz <= 0) return;
  const double frame_ms = 1000.0 * static_cast<double>(pcm.size()) / rate_hz;
  std::lock_guard lock(mu_);
  Participant* p = find(id);
  if (!p) return;
  const int64_t now = core::now_ms();
  if (p->playing && now - p->playing_since_ms > kMaxPlaybackMs) p->playing = false;  // an "end" never came
  if (p->sent_until_ms > 0 && now >= p->sent_until_ms) p->sent_until_ms = 0;
  if (p->playing || p->sent_until_ms > 0) {
    std::fill(pcm.begin(), pcm.end(), int16_t{0});
    counters_->echo_muted_ms.fetch_add(static_cast<uint64_t>(frame_ms), std::memory_order_relaxed);
    return;
  }
  if (p->echo_tail_ms > 0) {
    // The margin counts audio, not arrival time: frames that arrive bunched
    // after a network stall are still the ones the room's echo is in.
    const auto n = std::min(pcm.size(), static_cast<size_t>(p->echo_tail_ms * rate_hz / 1000.0 + 0.5));
    std::fill(pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(n), int16_t{0});
    p->echo_tail_ms = std::max(0.0, p->echo_tail_ms - frame_ms);
    counters_->echo_muted_ms.fetch_add(static_cast<uint64_t>(1000.0 * static_cast<double>(n) / rate_hz),
                                       std::memory_order_relaxed);
    if (n == pcm.size()) return;
  }
  if (!half_duplex_) return;
  expire_floor(now);
  if (!floor_.empty() && floor_ != id) {
    std::fill(pcm.begin(), pcm.end(), int16_t{0});
    counters_->floor_muted_ms.fetch_add(static_cast<uint64_t>(frame_ms), std::memory_order_relaxed);
  }
}

void Conversation::expire_floor(int64_t now_ms) {
  if (floor_.empty()) return;
  if ((floor_until_ms_ > 0 && now_ms >= floor_until_ms_) || now_ms - floor_since_ms_ > kMaxFloorMs) floor_.clear();
}

void Conversation::set_half_duplex(bool on) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  {
    std::lock_guard lock(mu_);
    if (half_duplex_ == on) return;
    half_duplex_ = on;
    floor_.clear();
    told = members();
  }
  broadcast(told, wire::floor("", on));
}

bool Conversation::half_duplex() const {
  std::lock_guard lock(mu_);
  return half_duplex_;
}

void Conversation::utterance_opened(const std::string& id) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  bool took_floor = false;
  {
    std::lock_guard lock(mu_);
    Participant* p = find(id);
    if (!p || p->talking) return;
    p->talking = true;
    const int64_t now = core::now_ms();
    if (half_duplex_) {
      expire_floor(now);
      if (floor_.empty() || floor_ == id) {
        took_floor = floor_.empty();
        floor_ = id;
        floor_since_ms_ = took_floor ? now : floor_since_ms_;
        floor_until_ms_ = 0;
      }
    }
    told = members();
  }
  broadcast(told, wire::speaking(id, true));
  if (took_floor) broadcast(told, wire::floor(id, true));
}

void Conversation::utterance_closed(const std::string& id) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  bool released = false;
  {
    std::lock_guard lock(mu_);
    Participant* p = find(id);
    if (!p || !p->talking) return;  // a typed caption: nobody was talking
    p->talking = false;
    if (floor_ == id) {
      // The others stay muted a moment longer (the end of this speech may
      // still be sounding on their devices); the pages see it free now.
      floor_until_ms_ = core::now_ms() + kFloorMarginMs;
      released = true;
    }
    told = members();
  }
  broadcast(told, wire::speaking(id, false));
  if (released) broadcast(told, wire::floor("", true));
}

std::optional<int64_t> Conversation::token_left_at(const std::string& token) const {
  const std::string hash = hash_token(token);
  std::lock_guard lock(mu_);
  std::optional<int64_t> left_at;
  for (const auto& p : participants_) {
    if (digests_equal(p.token_hash, hash)) left_at = p.info.left_at_ms;
  }
  return left_at;
}

std::vector<ParticipantInfo> Conversation::participants() const {
  std::lock_guard lock(mu_);
  std::vector<ParticipantInfo> out;
  for (const auto& p : participants_) out.push_back(p.info);
  return out;
}

std::shared_ptr<LiveSession> Conversation::session_of(const std::string& id) const {
  std::lock_guard lock(mu_);
  for (const auto& p : participants_) {
    if (p.info.id == id) return p.session;
  }
  return nullptr;
}

size_t Conversation::n_online() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(participants_.begin(), participants_.end(),
                                           [](const Participant& p) { return p.info.online; }));
}

int64_t Conversation::idle_ms() const {
  std::lock_guard lock(mu_);
  for (const auto& p : participants_) {
    if (p.info.online) return 0;
  }
  return core::now_ms() - last_online_ms_;
}

bool Conversation::never_used() const {
  std::lock_guard lock(mu_);
  return !ever_online_;
}

bool Conversation::has_ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

void Conversation::end(const std::string& reason) {
  std::vector<std::shared_ptr<ConversationMember>> told;
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = true;
    told = members();
    for (auto& p : participants_) {
      sessions.push_back(p.session);
      p.member.reset();
      p.member_ptr = nullptr;
      p.info.online = false;
    }
  }
  for (const auto& m : told) m->on_conversation_end(reason);
  for (const auto& s : sessions) s->end("the conversation ended");
  core::log_info("conversation", code_ + " ended: " + reason);
}

// ---- Conversations ----

Conversations::Conversations(Registry& sessions, size_t max_conversations)
    : sessions_(sessions), max_(max_conversations) {}

core::Result<std::shared_ptr<Conversation>> Conversations::create(ConversationOptions options) {
  options.title = clean_name(options.title.substr(0, 400));
  std::lock_guard lock(mu_);
  if (by_code_.size() >= max_) {
    return core::resource_exhausted("this server already holds " + std::to_string(max_) +
                                    " conversations; try again later or raise --max-conversations")
        .with_retry_after(30);
  }
  std::string code;
  do {
    code = random_code();
  } while (by_code_.count(code) != 0);
  auto c = std::make_shared<Conversation>(code, std::move(options), sessions_, counters_);
  by_code_[code] = c;
  counters_->created.fetch_add(1, std::memory_order_relaxed);
  return c;
}

std::shared_ptr<Conversation> Conversations::find(const std::string& code) const {
  std::lock_guard lock(mu_);
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : it->second;
}

size_t Conversations::reap(int64_t idle_ms) {
  std::vector<std::shared_ptr<Conversation>> idle;
  {
    std::lock_guard lock(mu_);
    for (auto it = by_code_.begin(); it != by_code_.end();) {
      if (it->second->has_ended()) {
        it = by_code_.erase(it);
      } else if (it->second->everyone_left() || (idle_ms > 0 && it->second->idle_ms() > idle_ms) ||
                 (it->second->never_used() && it->second->idle_ms() > Conversation::kUnusedMs)) {
        idle.push_back(it->second);
        it = by_code_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& c : idle) {
    c->end(c->everyone_left() ? "everyone left the conversation" : "ended after nobody was connected for a while");
  }
  for (const auto& c : all()) {
    for (const auto& s : c->sessions_of_the_departed()) s->end("left the conversation");
  }
  return idle.size();
}

void Conversations::end_all(const std::string& reason) {
  for (const auto& c : all()) c->end(reason);
  std::lock_guard lock(mu_);
  by_code_.clear();
}

size_t Conversations::size() const {
  std::lock_guard lock(mu_);
  return by_code_.size();
}

std::vector<std::shared_ptr<Conversation>> Conversations::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Conversation>> out;
  for (const auto& [code, c] : by_code_) out.push_back(c);
  return out;
}

}  // namespace parley::session
