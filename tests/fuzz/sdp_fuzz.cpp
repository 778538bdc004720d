// SPDX-License-Identifier: GPL-3.0-or-later
// WHIP/WHEP offers and trickled candidates (PATCH bodies).
#include <cstdint>
#include <string_view>

#include "rtc/sdp.h"

namespace {
const char* kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto offer = parley::rtc::inspect_offer(text);
  static const auto known = parley::rtc::inspect_offer(kOffer);
  if (known) (void)parley::rtc::parse_trickle_fragment(text, *known);
  if (offer) (void)parley::rtc::parse_trickle_fragment(text, *offer);
  return 0;
}
