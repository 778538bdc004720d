// SPDX-License-Identifier: GPL-3.0-or-later
// What parley needs to know about a WHIP or WHEP offer before handing it to
// webrtcbin, and the trickle-ICE fragments of WHIP/WHEP PATCH requests
// (RFC 8840). Plain text work, no GStreamer: testable on its own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace parley::rtc {

struct OfferSummary {
  int opus_payload_type = -1;   // of the first audio m-line
  size_t audio_mline = 0;       // index of that m-line
  std::vector<std::string> mids;  // per m-line, empty where none
  std::string audio_direction;    // sendonly, recvonly, sendrecv or inactive
};

// invalid_argument with a reason a client developer can act on when the text
// is not an SDP offer with an Opus audio m-line.
core::Result<OfferSummary> inspect_offer(std::string_view sdp);

struct TrickleCandidate {
  unsigned mline = 0;
  std::string candidate;  // "candidate:…" (without "a=")
};
// The candidates of an application/trickle-ice-sdpfrag body; m-lines are
// matched to the offer's by a=mid, else by order.
core::Result<std::vector<TrickleCandidate>> parse_trickle_fragment(std::string_view fragment,
                                                                   const OfferSummary& offer);

}  // namespace parley::rtc
