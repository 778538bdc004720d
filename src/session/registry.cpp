// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/registry.h"

#include <algorithm>

#include "engines/language.h"

namespace parley::session {

Registry::Registry(pipeline::Engines engines, std::shared_ptr<store::Store> store, LiveConfig config,
                   size_t max_sessions)
    : engines_(std::move(engines)), store_(std::move(store)), config_(std::move(config)),
      max_sessions_(max_sessions) {
  if (!config_.telemetry) config_.telemetry = std::make_shared<Telemetry>();
  if (!config_.words_builder) config_.words_builder = std::make_shared<WordsBuilder>(16, 8);
}

core::Result<Created> Registry::create(SessionSpec spec) {
  auto src = engines::normalize_language(spec.source_language);
  if (!src) return core::invalid_argument("'" + spec.source_language + "' is not a language code");
  spec.source_language = *src;
  auto langs = engines_.stt ? engines_.stt->languages() : std::vector<std::string>{};
  if (std::find(langs.begin(), langs.end(), *src) == langs.end()) {
    std::string have;
    for (const auto& l : langs) have += (have.empty() ? "" : ", ") + l;
    return core::invalid_argument("speech in '" + *src + "' cannot be recognised here (recognisable: " + have + ")");
  }
  std::vector<std::string> targets;
  for (const auto& t : spec.default_targets) {
    auto n = engines::normalize_language(t);
    if (!n) return core::invalid_argument("'" + t + "' is not a language code");
    if (*n == *src) continue;
    if (auto r = engines_.router->route(*src, *n); !r) return core::invalid_argument(r.status().message());
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
    } while (by_code_.count(info.code) != 0);
    by_code_[info.code] = nullptr;  // reserved: the store is written outside the lock
  }
  auto unreserve = [&] {
    std::lock_guard lock(mu_);
    by_code_.erase(info.code);
  };
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
    s = LiveSession::create(info, token_hash, engines_, store_, config_);
  } catch (...) {
    unreserve();  // the code's place must not be held for ever
    throw;
  }
  std::lock_guard lock(mu_);
  by_code_[info.code] = s;
  return Created{s, token, listener_key};
}

std::shared_ptr<LiveSession> Registry::find(const std::string& code) const {
  std::lock_guard lock(mu_);
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : it->second;
}

size_t Registry::reap(int64_t idle_ms) {
  std::vector<std::shared_ptr<LiveSession>> idle, gone;
  {
    std::lock_guard lock(mu_);
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
      if (idle_ms > 0 && it->second->idle_ms() > idle_ms) idle.push_back(it->second);
      ++it;
    }
  }
  for (auto& s : idle) s->end("ended after being idle");
  return idle.size();
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
