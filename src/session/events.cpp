// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/events.h"

#include "engines/language.h"

#include <cstring>
#include <limits>

namespace parley::session {

namespace {

// Byte 0: this version; byte 1: the event's index in the variant.
constexpr uint8_t kVersion = 1;
// One event is a caption or an utterance's speech: far below this.
constexpr size_t kMaxFieldBytes = 16u << 20;
constexpr size_t kMaxTimelineEntries = 1u << 20;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u64(uint64_t& v) {
    if (in_.size() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool i64(int64_t& v) {
    uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool u32(uint32_t& v) {
    uint64_t u = 0;
    if (!u64(u) || u > std::numeric_limits<uint32_t>::max()) return false;
    v = static_cast<uint32_t>(u);
    return true;
  }
  bool flag(bool& v) {
    uint8_t b = 0;
    if (!u8(b) || b > 1) return false;
    v = b == 1;
    return true;
  }
  bool str(std::string& s) {
    uint64_t n = 0;
    if (!u64(n) || n > kMaxFieldBytes || n > in_.size()) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

void put(Writer& w, const CaptionEvent& e) {
  w.i64(e.seq);
  w.u64(e.utterance_id);
  w.str(e.language);
  w.str(e.source);
  w.str(e.text);
  w.i64(e.start_ms);
  w.i64(e.end_ms);
  w.u8(e.from_script ? 1 : 0);
  w.u8(e.late ? 1 : 0);
  w.i64(e.since_end_ms);
}
bool get(Reader& r, CaptionEvent& e) {
  return r.i64(e.seq) && r.u64(e.utterance_id) && r.str(e.language) && r.str(e.source) && r.str(e.text) &&
         r.i64(e.start_ms) && r.i64(e.end_ms) && r.flag(e.from_script) && r.flag(e.late) && r.i64(e.since_end_ms);
}

void put(Writer& w, const PartialEvent& e) {
  w.u64(e.utterance_id);
  w.u64(e.revision);
  w.str(e.language);
  w.str(e.source);
  w.str(e.text);
}
bool get(Reader& r, PartialEvent& e) {
  return r.u64(e.utterance_id) && r.u32(e.revision) && r.str(e.language) && r.str(e.source) && r.str(e.text);
}

void put(Writer& w, const DiscardEvent& e) { w.u64(e.utterance_id); }
bool get(Reader& r, DiscardEvent& e) { return r.u64(e.utterance_id); }

void put(Writer& w, const SpeechEvent& e) {
  w.i64(e.seq);
  w.u64(e.utterance_id);
  w.str(e.language);
  w.i64(e.duration_ms);
  w.i64(e.since_end_ms);
  w.i64(e.timeline.sample_rate_hz);
  w.u64(e.timeline.entries.size());
  for (const auto& t : e.timeline.entries) {
    w.u8(static_cast<uint8_t>(t.viseme));
    w.i64(t.sample);
  }
  w.str(e.ogg_opus);
}
bool get(Reader& r, SpeechEvent& e) {
  int64_t rate = 0;
  uint64_t n = 0;
  if (!(r.i64(e.seq) && r.u64(e.utterance_id) && r.str(e.language) && r.i64(e.duration_ms) &&
        r.i64(e.since_end_ms) && r.i64(rate) && r.u64(n))) {
    return false;
  }
  // Each entry is 9 bytes: a count the message cannot hold is refused
  // before anything is allocated for it.
  if (rate < 0 || rate > 384000 || n > kMaxTimelineEntries || n > r.left() / 9) return false;
  e.timeline.sample_rate_hz = static_cast<int>(rate);
  e.timeline.entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint8_t v = 0;
    int64_t sample = 0;
    if (!r.u8(v) || v >= avatar::kVisemeCount || !r.i64(sample)) return false;
    e.timeline.entries.push_back({static_cast<avatar::Viseme>(v), sample});
  }
  return r.str(e.ogg_opus);
}

void put(Writer& w, const SpeechSkippedEvent& e) {
  w.i64(e.seq);
  w.str(e.language);
}
bool get(Reader& r, SpeechSkippedEvent& e) { return r.i64(e.seq) && r.str(e.language); }

void put(Writer& w, const StateEvent& e) { w.u8(static_cast<uint8_t>(e.state)); }
bool get(Reader& r, StateEvent& e) {
  uint8_t s = 0;
  if (!r.u8(s) || s > static_cast<uint8_t>(State::ended)) return false;
  e.state = static_cast<State>(s);
  return true;
}

void put(Writer& w, const EndEvent& e) { w.str(e.reason); }
bool get(Reader& r, EndEvent& e) { return r.str(e.reason); }

template <size_t I>
std::optional<Event> decode_as(size_t index, Reader& r) {
  if constexpr (I < std::variant_size_v<Event>) {
    if (index != I) return decode_as<I + 1>(index, r);
    std::variant_alternative_t<I, Event> e;
    if (!get(r, e) || !r.done()) return std::nullopt;
    return Event{std::move(e)};
  } else {
    return std::nullopt;
  }
}

}  // namespace

const std::string& event_language(const Event& e) {
  static const std::string kNone;
  return std::visit(
      [](const auto& v) -> const std::string& {
        if constexpr (requires { v.language; }) {
          return v.language;
        } else {
          return kNone;
        }
      },
      e);
}

std::string encode(const Event& e) {
  Writer w;
  w.u8(kVersion);
  w.u8(static_cast<uint8_t>(e.index()));
  std::visit([&](const auto& v) { put(w, v); }, e);
  return w.take();
}

bool is_kept(const Event& e) {
  return std::holds_alternative<CaptionEvent>(e) || std::holds_alternative<StateEvent>(e) ||
         std::holds_alternative<EndEvent>(e);
}

bool plausible(const Event& e) {
  constexpr int64_t kMaxSeq = int64_t{1} << 40;
  const bool seq_ok = std::visit(
      [](const auto& v) {
        if constexpr (requires { v.seq; }) {
          return v.seq >= 1 && v.seq <= kMaxSeq;
        } else {
          return true;
        }
      },
      e);
  const auto& language = event_language(e);
  if (language.empty()) return seq_ok;
  const auto normal = engines::normalize_language(language);
  return seq_ok && normal && *normal == language;
}

std::string encode_fenced(int64_t fence, const Event& e) {
  Writer w;
  w.i64(fence);
  return w.take() + encode(e);
}

std::optional<Fenced> split_fenced(std::string_view message) {
  Reader r(message.substr(0, 8));
  int64_t fence = 0;
  if (!r.i64(fence)) return std::nullopt;
  return Fenced{fence, message.substr(8)};
}

std::optional<Event> decode(std::string_view bytes) {
  Reader r(bytes);
  uint8_t version = 0, index = 0;
  if (!r.u8(version) || version != kVersion || !r.u8(index)) return std::nullopt;
  return decode_as<0>(index, r);
}

}  // namespace parley::session
