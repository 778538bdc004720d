// SPDX-License-Identifier: GPL-3.0-or-later
// Binary speech messages (the listener page and parley-load parse them), and
// the server's own cut to "timeline only"; the session events nodes read
// from the bus (session/events.h).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "session/events.h"
#include "session/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wire = parley::session::wire;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto m = wire::parse_speech(bytes);
  if (m && m->ogg.size() > size) std::abort();
  auto cut = wire::speech_timeline_only(*parley::fanout::make_binary(parley::fanout::Kind::audio, bytes));
  if (m && !cut) std::abort();  // whatever parses can be cut
  if (cut && !wire::parse_speech(cut->bytes)) std::abort();  // and the cut parses again
  // Bus events: whatever decodes encodes back to the same bytes.
  if (auto e = parley::session::decode(bytes); e && parley::session::encode(*e) != bytes) std::abort();
  return 0;
}
