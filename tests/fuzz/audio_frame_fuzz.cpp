// SPDX-License-Identifier: GPL-3.0-or-later
// Binary speaker frames: a 4-byte sequence number and PCM16 samples.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/ws/client_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ws = parley::transport::ws;
  ws::AudioFrame frame;
  auto bad = ws::parse_audio_frame(std::string_view(reinterpret_cast<const char*>(data), size), frame);
  if (!bad && frame.pcm.size() * 2 + 4 != size) std::abort();  // every byte accounted for
  return 0;
}
