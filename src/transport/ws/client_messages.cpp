// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/ws/client_messages.h"

#include <nlohmann/json.hpp>

#include "engines/language.h"

namespace parley::transport::ws {

namespace {

using nlohmann::json;
namespace wire = session::wire;

// Speaker frames: uint32 little-endian sequence number, then PCM16 LE samples.
constexpr size_t kFrameHeaderBytes = 4;

// obj[key] as a string, or "" when absent or not a string.
std::string string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// obj[key] as a speech mode: nullopt when it is not one of the names.
std::optional<wire::SpeechMode> speech_mode_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return wire::parse_speech_mode(it->get<std::string>());
}

}  // namespace

Join parse_join(std::string_view text) {
  const json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || string_at(msg, "type") != "join") {
    return Refusal{"bad_message", "the first message must be {\"type\":\"join\", …}", "join first"};
  }
  if (auto p = msg.find("protocol"); p != msg.end() && *p != wire::kProtocolVersion) {
    return Refusal{"protocol", "this server speaks protocol version 1", "unsupported protocol"};
  }
  const std::string code = string_at(msg, "code");
  const std::string role = string_at(msg, "role");
  // The rate of a speaker's or participant's audio (listeners send none).
  int rate_hz = 16000;
  if (auto r = msg.find("sampleRate"); r != msg.end() && (role == "speaker" || role == "participant")) {
    if (!r->is_number_integer()) {
      // A speaker at an unknown rate would be recognised as noise: refused.
      return Refusal{"bad_sample_rate", "sampleRate must be an integer number of Hz, e.g. 16000", "bad sample rate"};
    }
    const auto rate = r->get<int64_t>();
    if (rate < 8000 || rate > 48000) {
      return Refusal{"bad_sample_rate",
                     "sampleRate " + std::to_string(rate) +
                         " Hz is not supported; send 16000 Hz mono PCM16 (8000–48000 accepted)",
                     "bad sample rate"};
    }
    rate_hz = static_cast<int>(rate);
  }
  if (role == "speaker") {
    SpeakerJoin j{code, string_at(msg, "token")};
    j.sample_rate_hz = rate_hz;
    if (auto t = msg.find("takeover"); t != msg.end() && t->is_boolean()) j.takeover = t->get<bool>();
    if (auto r = msg.find("resume"); r != msg.end()) {
      if (!r->is_number_unsigned()) {
        return Refusal{"bad_message", "resume is the speakerGeneration of an earlier welcome", "bad resume"};
      }
      j.resume = r->get<uint64_t>();
    }
    return j;
  }
  if (role == "participant") {
    ParticipantJoin j{code, string_at(msg, "participant"), string_at(msg, "token"), rate_hz, {}};
    if (j.participant.empty() || j.token.empty()) {
      return Refusal{"bad_message",
                     "a participant joins with the \"participant\" id and \"token\" that POST "
                     "/api/conversations/<code>/participants returned",
                     "bad join"};
    }
    if (auto s = msg.find("since"); s != msg.end() && s->is_object()) {
      for (const auto& [id, seq] : s->items()) {
        if (j.since.size() >= 32) break;  // a conversation has at most 32 participants, ever
        if (seq.is_number_integer() && id.size() <= 16) j.since[id] = std::max<int64_t>(0, seq.get<int64_t>());
      }
    }
    return j;
  }
  if (role == "listener") {
    auto lang = engines::normalize_language(string_at(msg, "language"));
    if (!lang) return Refusal{"bad_language", "choose a language code, e.g. \"es\"", "bad language"};
    ListenerJoin j{code, *lang, 0, std::nullopt};
    if (auto s = msg.find("since"); s != msg.end() && s->is_number_integer()) {
      j.since = std::max<int64_t>(0, s->get<int64_t>());
    }
    if (msg.contains("speech")) {
      j.speech = speech_mode_at(msg, "speech");
      if (!j.speech) return Refusal{"bad_message", "speech must be \"full\", \"timeline\" or \"none\"", "bad join"};
    }
    return j;
  }
  return Refusal{"bad_message", "role must be \"speaker\", \"listener\" or \"participant\"", "bad role"};
}

Message parse_message(std::string_view text) {
  const json msg = json::parse(text, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
    return Refusal{"bad_message", "messages must be JSON objects with a \"type\"", ""};
  }
  const std::string type = msg["type"].get<std::string>();
  if (type == "ping") return Ping{};
  if (type == "speech") {
    auto mode = speech_mode_at(msg, "mode");
    if (!mode) return Refusal{"bad_message", "{\"type\":\"speech\",\"mode\":…} takes \"full\", \"timeline\" or \"none\"", ""};
    return SetSpeechMode{*mode};
  }
  if (type == "control") {
    auto action = session::parse_action(string_at(msg, "action"));
    if (!action) return Refusal{"bad_message", "control needs an action: start, pause, resume or end", ""};
    return Control{*action};
  }
  if (type == "text") {
    auto t = msg.find("text");
    if (t == msg.end() || !t->is_string()) {
      return Refusal{"bad_message", "a typed caption is {\"type\":\"text\",\"text\":\"…\"}", ""};
    }
    return TypedText{t->get<std::string>()};
  }
  if (type == "playback") {
    auto seq = msg.find("seq");
    auto lag = msg.find("lagMs");
    if (seq == msg.end() || lag == msg.end() || !seq->is_number_integer() || !lag->is_number_integer()) {
      return Refusal{"bad_message", "a playback report is {\"type\":\"playback\",\"seq\":N,\"lagMs\":N}", ""};
    }
    return PlaybackReport{seq->get<int64_t>(), lag->get<int64_t>(), string_at(msg, "from")};
  }
  if (type == "playing" || type == "halfDuplex") {
    auto on = msg.find(type == "playing" ? "playing" : "on");
    if (on == msg.end() || !on->is_boolean()) {
      return Refusal{"bad_message", type == "playing" ? "{\"type\":\"playing\",\"playing\":true|false}"
                                                      : "{\"type\":\"halfDuplex\",\"on\":true|false}",
                     ""};
    }
    if (type == "playing") return Playing{on->get<bool>()};
    return HalfDuplex{on->get<bool>()};
  }
  if (type == "leave") return Leave{};
  return Refusal{"bad_message", "unknown message type '" + type.substr(0, 40) + "' for this connection", ""};
}

std::optional<Refusal> parse_audio_frame(std::string_view bytes, AudioFrame& into) {
  if (bytes.size() < kFrameHeaderBytes + 2 || (bytes.size() - kFrameHeaderBytes) % 2 != 0) {
    return Refusal{"bad_frame", "audio frames are a 4-byte sequence number and PCM16 samples (an even byte count)", ""};
  }
  uint32_t seq = 0;
  for (int i = 3; i >= 0; --i) seq = (seq << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  into.seq = seq;
  const size_t n = (bytes.size() - kFrameHeaderBytes) / 2;
  into.pcm.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto lo = static_cast<unsigned char>(bytes[kFrameHeaderBytes + 2 * i]);
    auto hi = static_cast<unsigned char>(bytes[kFrameHeaderBytes + 2 * i + 1]);
    into.pcm[i] = static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)));
  }
  return std::nullopt;
}

}  // namespace parley::transport::ws
