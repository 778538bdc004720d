// SPDX-License-Identifier: GPL-3.0-or-later
// The first WebSocket message: any bytes give a join or a refusal, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/ws/client_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ws = parley::transport::ws;
  const auto join = ws::parse_join(std::string_view(reinterpret_cast<const char*>(data), size));
  if (const auto* s = std::get_if<ws::SpeakerJoin>(&join)) {
    if (s->sample_rate_hz < 8000 || s->sample_rate_hz > 48000) std::abort();
  } else if (const auto* l = std::get_if<ws::ListenerJoin>(&join)) {
    if (l->since < 0 || l->language.empty()) std::abort();
  } else if (const auto* p = std::get_if<ws::ParticipantJoin>(&join)) {
    if (p->sample_rate_hz < 8000 || p->sample_rate_hz > 48000 || p->participant.empty() || p->token.empty() ||
        p->since.size() > 32) {
      std::abort();
    }
    for (const auto& [id, seq] : p->since) {
      if (seq < 0 || id.size() > 16) std::abort();
    }
  } else if (std::get<ws::Refusal>(join).close_reason.empty()) {
    std::abort();  // a refused join always closes
  }
  return 0;
}
