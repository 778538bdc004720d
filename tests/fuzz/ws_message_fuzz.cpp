// SPDX-License-Identifier: GPL-3.0-or-later
// Text messages after the join (ping, speech, control, text).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/ws/client_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ws = parley::transport::ws;
  const auto msg = ws::parse_message(std::string_view(reinterpret_cast<const char*>(data), size));
  if (const auto* bad = std::get_if<ws::Refusal>(&msg); bad && (bad->code.empty() || bad->message.empty())) {
    std::abort();  // a refusal always says why
  }
  return 0;
}
