// SPDX-License-Identifier: GPL-3.0-or-later
// Conversations over REST (docs/protocol.md, "Conversations"; docs/api):
//   POST /api/conversations                         create one
//   GET  /api/conversations/<code>                  who is in it
//   POST /api/conversations/<code>/participants     join (name, language): a participant id and token
//   GET  /api/conversations/<code>/export           the whole conversation, every language (a participant's token)
//   POST /api/conversations/<code>/end              end it for everyone (a participant's token)
// Joining makes the participant's session (a store write): these run off
// the network threads.
#pragma once

#include <string>
#include <vector>

#include "transport/http/api.h"

namespace parley::transport {

// `parts`: the path split at '/', starting with "api", "conversations".
Response handle_conversation_api(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                                 const std::vector<std::string>& parts);

}  // namespace parley::transport
