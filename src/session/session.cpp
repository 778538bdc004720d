// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <random>

namespace parley::session {

const char* state_name(State s) {
  switch (s) {
    case State::created: return "CREATED";
    case State::active: return "ACTIVE";
    case State::paused: return "PAUSED";
    case State::ended: return "ENDED";
  }
  return "ENDED";
}

std::optional<State> parse_state(std::string_view s) {
  for (State st : {State::created, State::active, State::paused, State::ended}) {
    if (s == state_name(st)) return st;
  }
  return std::nullopt;
}

const char* action_name(Action a) {
  switch (a) {
    case Action::start: return "start";
    case Action::pause: return "pause";
    case Action::resume: return "resume";
    case Action::end: return "end";
  }
  return "end";
}

std::optional<Action> parse_action(std::string_view s) {
  for (Action a : {Action::start, Action::pause, Action::resume, Action::end}) {
    if (s == action_name(a)) return a;
  }
  return std::nullopt;
}

core::Result<State> transition(State from, Action a) {
  auto refuse = [&](const char* hint) -> core::Result<State> {
    return core::failed_precondition(std::string("cannot ") + action_name(a) + " a session that is " +
                                     state_name(from) + hint);
  };
  switch (a) {
    case Action::start:
      if (from == State::created) return State::active;
      return refuse(from == State::paused ? "; resume it instead" : "");
    case Action::pause:
      if (from == State::active) return State::paused;
      return refuse("");
    case Action::resume:
      if (from == State::paused) return State::active;
      return refuse(from == State::created ? "; start it first" : "");
    case Action::end:
      if (from != State::ended) return State::ended;
      return refuse("");
  }
  return refuse("");
}

namespace {
void random_bytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::random_device rd;  // OpenSSL's generator failing is near impossible
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(rd());
  }
}
std::string to_hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}
}  // namespace

std::string random_code() {
  std::array<unsigned char, 8> b{};
  random_bytes(b.data(), b.size());
  uint64_t v = 0;
  for (auto x : b) v = (v << 8) | x;
  return std::to_string(100000 + v % 900000);
}

bool is_valid_code(std::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string random_token() {
  std::array<unsigned char, 32> b{};
  random_bytes(b.data(), b.size());
  return to_hex(b.data(), b.size());
}

std::string hash_token(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), md.data(), &len, EVP_sha256(), nullptr);
  return to_hex(md.data(), len);
}

bool digests_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace parley::session
