// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/registry.h"

#include <algorithm>
#include <chrono>
#include <future>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "engines/language.h"

namespace parley::session {

Registry::Registry(pipeline::Engines engines, std::shared_ptr<store::Store> store,
                   LiveConfig config, size_t max_sessions)
    : engines_(std::move(engines)),
      store_(std::move(store)),
      config_(std::move(config)),
      max_sessions_(max_sessions) {
  if (!config_.telemetry) config_.telemetry = std::make_shared<Telemetry>();
  if (!config_.words_builder) config_.words_builder = std::make_shared<WordsBuilder>(16, 8);
  if (config_.bus) {
    if (config_.node_id.empty()) config_.node_id = random_token().substr(0, 12);
    directory_watch_ = config_.bus->watch(
        kDirectory, [this](const std::string& code, const std::optional<std::string>& value) {
          std::lock_guard lock(mu_);
          if (!value) {
            directory_.erase(code);
            return;
          }
          if (auto listed = parse_listing(*value)) directory_[code] = std::move(*listed);
        });
  }
}

Registry::~Registry() {
  directory_watch_.reset();
}

std::string Registry::listing(const SessionInfo& info, const std::string& token_hash) {
  nlohmann::json j = {{"id", info.id},
                      {"code", info.code},
                      {"name", info.spec.name},
                      {"source", info.spec.source_language},
                      {"avatar", info.spec.avatar},
                      {"targets", info.spec.default_targets},
                      {"hideStrongWords", info.spec.hide_strong_words},
                      {"typed", info.spec.typed},
                      {"conversation", info.spec.conversation},
                      {"createdAtMs", info.created_at_ms},
                      {"listenerKeyHash", info.listener_key_hash},
                      {"public", info.transcript_public},
                      {"tokenHash", token_hash},
                      {"listedAtMs", wall_clock_ms()}};
  return j.dump();
}

std::optional<Registry::Listed> Registry::parse_listing(const std::string& value) {
  try {
    auto j = nlohmann::json::parse(value);
    Listed l;
    l.info.id = j.at("id").get<int64_t>();
    l.info.code = j.at("code").get<std::string>();
    l.info.spec.name = j.at("name").get<std::string>();
    l.info.spec.source_language = j.at("source").get<std::string>();
    l.info.spec.avatar = j.at("avatar").get<std::string>();
    l.info.spec.default_targets = j.at("targets").get<std::vector<std::string>>();
    l.info.spec.hide_strong_words = j.at("hideStrongWords").get<bool>();
    // Absent from an older node's listing: a talk.
    l.info.spec.typed = j.value("typed", false);
    l.info.spec.conversation = j.value("conversation", std::string());
    l.info.created_at_ms = j.at("createdAtMs").get<int64_t>();
    l.info.listener_key_hash = j.at("listenerKeyHash").get<std::string>();
    l.info.transcript_public = j.at("public").get<bool>();
    l.token_hash = j.at("tokenHash").get<std::string>();
    // 0: listed by a node that does not list again (an older version, in a
    // rolling upgrade): never taken for stale.
    l.listed_at_ms = j.value("listedAtMs", int64_t{0});
    if (!is_valid_code(l.info.code)) return std::nullopt;
    return l;
  } catch (const std::exception& e) {
    core::log_warn("registry",
                   std::string("a directory entry this node cannot read was skipped: ") + e.what());
    return std::nullopt;
  }
}

core::Result<Created> Registry::create(SessionSpec spec) {
  auto src = engines::normalize_language(spec.source_language);
  if (!src) return core::invalid_argument("'" + spec.source_language + "' is not a language code");
  spec.source_language = *src;
  auto langs = engines_.stt ? engines_.stt->languages() : std::vector<std::string>{};
  if (!spec.typed && std::find(langs.begin(), langs.end(), *src) == langs.end()) {
    std::string have;
    for (const auto& l : langs) have += (have.empty() ? "" : ", ") + l;
    return core::invalid_argument("speech in '" + *src +
                                  "' cannot be recognised here (recognisable: " + have + ")");
  }
  std::vector<std::string> targets;
  for (const auto& t : spec.default_targets) {
    auto n = engines::normalize_language(t);
    if (!n) return core::invalid_argument("'" + t + "' is not a language code");
    if (*n == *src) continue;
    if (auto r = engines_.router->route(*src, *n); !r)
      return core::invalid_argument(r.status().message());
    if (std::find(targets.begin(), targets.end(), *n) == targets.end()) targets.push_back(*n);
  }
  spec.default_targets = targets;
  if (spec.name.size() > 200) spec.name.resize(200);

  SessionInfo info;
  info.spec = std::move(spec);
  info.state = State::created;
  info.created_at_ms = wall_clock_ms();
  std::string token = random_token();
  std::string token_hash = hash_token(token);
  // Short enough for a QR code, long enough not to be guessed (128 bits).
  std::string listener_key = random_token().substr(0, 32);
  info.listener_key_hash = hash_token(listener_key);
  {
    std::lock_guard lock(mu_);
    if (by_code_.size() >= max_sessions_) {
      return core::resource_exhausted("this server already runs " + std::to_string(max_sessions_) +
                                      " live sessions; end one or raise --max-sessions")
          .with_retry_after(30);
    }
    do {
      info.code = random_code();
    } while (by_code_.count(info.code) != 0 || directory_.count(info.code) != 0);
    by_code_[info.code] = nullptr;  // reserved: the store is written outside the lock
  }
  auto unreserve = [&] {
    std::lock_guard lock(mu_);
    by_code_.erase(info.code);
  };
  int64_t fence = 0;
  if (config_.bus) {
    // The lease on the code makes it this node's alone, among every node.
    auto taken = take_lease(info.code);
    if (!taken) {
      unreserve();
      return taken.status();
    }
    auto f = *taken;
    if (!f) {
      unreserve();
      return core::unavailable("that session code was just taken on another node; try again")
          .with_retry_after(1);
    }
    fence = *f;
    // An ended session with this code may have left its log (kept an hour
    // for late joiners): it is not this one's. Gone before this session
    // publishes anything (the bus keeps the order).
    config_.bus->retire(LiveSession::events_topic(info.code), 0);
  }
  if (store_) {
    auto id = store_->create_session(info, token_hash);
    if (!id) {
      unreserve();
      return id.status();
    }
    info.id = *id;
  }
  std::shared_ptr<LiveSession> s;
  try {
    s = LiveSession::create(info, token_hash, engines_, store_, config_, fence);
  } catch (...) {
    unreserve();  // the code's place must not be held for ever
    throw;
  }
  {
    std::lock_guard lock(mu_);
    by_code_[info.code] = s;
  }
  if (config_.bus) config_.bus->put(kDirectory, info.code, listing(info, token_hash));
  return Created{s, token, listener_key};
}

std::shared_ptr<LiveSession> Registry::find(const std::string& code) {
  Listed listed;
  {
    std::lock_guard lock(mu_);
    auto it = by_code_.find(code);
    if (it != by_code_.end()) {
      // One this node let go (it moved, or this node lost its lease) is
      // seen as a view again from now on; the old one is reaped.
      if (!it->second || !it->second->left_to_others()) return it->second;
      departed_.push_back(std::move(it->second));
      by_code_.erase(it);
    }
    auto d = directory_.find(code);
    if (d == directory_.end()) return nullptr;
    listed = d->second;
  }
  // Another node runs it: seen here through the bus. Made outside the lock
  // (subscribing reads the session's log); the first one in stays.
  auto view = LiveSession::create_view(listed.info, listed.token_hash, engines_,
                                       config_.store_is_shared ? store_ : nullptr, config_);
  std::lock_guard lock(mu_);
  auto [it, added] = by_code_.emplace(code, view);
  return it->second;
}

void Registry::tick() {
  const auto sessions = all();
  for (auto& s : sessions) s->tick();
  std::vector<std::shared_ptr<LiveSession>> departed;
  {
    std::lock_guard lock(mu_);
    departed = departed_;
  }
  for (auto& s : departed) s->tick();  // renewing their leases until their last final is out
  if (!config_.bus) return;
  // Redis came back without its data, or it is time: this node lists its
  // sessions again.
  const int64_t now = wall_clock_ms();
  if (const auto n = config_.bus->stats().reconnects; n != bus_reconnects_ || now - listed_at_ms_ >= kDirectoryRefreshMs) {
    bus_reconnects_ = n;
    listed_at_ms_ = now;
    for (const auto& s : sessions) {
      if (!s->is_view() && !s->has_ended())
        config_.bus->put(kDirectory, s->code(), listing(s->info(), s->token_hash()));
    }
  }
}

size_t Registry::reap(int64_t idle_ms) {
  std::vector<std::shared_ptr<LiveSession>> idle, gone, unused;
  {
    std::lock_guard lock(mu_);
    std::erase_if(departed_, [&](const std::shared_ptr<LiveSession>& s) {
      if (!s->worker_exited()) return false;
      gone.push_back(s);  // destroyed outside the lock
      return true;
    });
    for (auto it = by_code_.begin(); it != by_code_.end();) {
      if (!it->second) {  // being created
        ++it;
        continue;
      }
      // Forgotten once its worker has said goodbye and exited, so whoever
      // drops the last reference later (a network thread) joins nothing.
      if (it->second->has_ended() && it->second->worker_exited()) {
        gone.push_back(it->second);  // destroyed outside the lock
        it = by_code_.erase(it);
        continue;
      }
      // A view's session ends on its own node; a view nobody here has used
      // for a while is let go (made again at the next lookup), so views of
      // sessions whose node died and nobody took over do not pile up.
      if (it->second->is_view() && it->second->n_audience() == 0 && it->second->idle_ms() > kViewIdleMs) {
        unused.push_back(it->second);  // let go outside the lock
        it = by_code_.erase(it);
        continue;
      }
      // A conversation's sessions live as long as it does (conversation.h).
      if (idle_ms > 0 && !it->second->is_view() && !it->second->in_conversation() &&
          it->second->idle_ms() > idle_ms)
        idle.push_back(it->second);
      ++it;
    }
  }
  for (auto& s : idle) s->end("ended after being idle");
  for (auto& s : unused) s->end("not listened to here");
  if (config_.bus) {
    forget_stale_listings();
    for (const auto& s : gone) {
      // Views end where their session runs; a session left to the other
      // nodes goes on there.
      if (s->is_view() || s->left_to_others()) continue;
      config_.bus->erase(kDirectory, s->code());
      config_.bus->release(LiveSession::lease_name(s->code()), config_.node_id);
      // Late joiners elsewhere still read the goodbye for a while.
      config_.bus->retire(LiveSession::events_topic(s->code()), 3600 * 1000);
    }
  }
  return idle.size();
}

void Registry::forget_stale_listings() {
  const int64_t now = wall_clock_ms();
  std::vector<Listed> stale;
  {
    std::lock_guard lock(mu_);
    for (const auto& [code, listed] : directory_) {
      auto it = by_code_.find(code);
      const bool runs_here = it != by_code_.end() && (!it->second || !it->second->is_view());
      if (!runs_here && listed.listed_at_ms > 0 && now - listed.listed_at_ms > kDirectoryStaleMs)
        stale.push_back(listed);
    }
  }
  for (const auto& listed : stale) {
    // Only one nobody holds: its lease is taken (so no node can start
    // running it meanwhile), the entry removed, the lease let go. A node
    // that still runs it holds the lease, whatever its listing says.
    auto taken = take_lease(listed.info.code);
    if (!taken || !*taken) continue;
    core::log_info("registry", "session " + listed.info.code +
                                   " has not been listed by any node for 10 minutes (its node stopped and its "
                                   "speaker did not come back): it is ended");
    config_.bus->erase(kDirectory, listed.info.code);
    if (config_.store_is_shared && store_) {
      if (auto st = store_->set_state(listed.info.id, State::ended, now); !st)
        core::log_error("registry", st.message());
    }
    config_.bus->release(LiveSession::lease_name(listed.info.code), config_.node_id);
  }
}

core::Result<std::optional<int64_t>> Registry::take_lease(const std::string& code) {
  auto got = std::make_shared<std::promise<std::optional<int64_t>>>();
  auto taken = got->get_future();
  config_.bus->acquire(LiveSession::lease_name(code), config_.node_id, LiveSession::kLeaseTtlMs,
                       [got](std::optional<int64_t> f) { got->set_value(f); });
  if (taken.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    return core::unavailable("the bus between this service's nodes does not answer; try again shortly")
        .with_retry_after(5);
  }
  return taken.get();
}

void Registry::leave_all(const std::string& reason) {
  for (auto& s : all()) s->leave(reason);
}

void Registry::end_all(const std::string& reason) {
  for (auto& s : all()) s->end(reason);
}

size_t Registry::size() const {
  std::lock_guard lock(mu_);
  return by_code_.size();
}

std::vector<std::shared_ptr<LiveSession>> Registry::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<LiveSession>> out;
  for (const auto& [code, s] : by_code_) {
    if (s) out.push_back(s);
  }
  return out;
}

}  // namespace parley::session
