// SPDX-License-Identifier: GPL-3.0-or-later
// WHIP (RFC 9725) and WHEP endpoints over rtc::Service:
//   POST   /whip/<code>              speaker token as Bearer; SDP offer → 201 + answer, Location
//   POST   /whep/<code>/<lang>       SDP offer → 201 + answer whose track is <lang>'s audio
//   PATCH  <Location>                trickled candidates (application/trickle-ice-sdpfrag) → 204
//   DELETE <Location>                ends the resource → 200
//   OPTIONS                          what is accepted (and CORS)
#pragma once

#include <functional>

#include "transport/http/api.h"

namespace parley::transport {

bool is_rtc_target(std::string_view path);
// Calls `reply` exactly once, possibly later and on another thread.
void handle_rtc(const ApiContext& ctx, const Request& req, const Client& client, std::function<void(Response)> reply);

}  // namespace parley::transport
