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

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "session/conversation.h"
#include "store/store.h"
#include "transport/http/api.h"

namespace parley::transport {

// A conversation by code: live on this server (an ended one stays in
// memory until the reaper's next round), or as the store keeps it (ended,
// or live on another node sharing the store).
struct LocatedConversation {
  std::shared_ptr<session::Conversation> live;
  std::optional<store::StoredConversation> stored;
  // Over. Alone, this server held every conversation it knows: one not in
  // its memory is over, even while its sessions' end is still on its way to
  // the store; with other nodes, it may be live on one of them.
  bool ended(const ApiContext& ctx) const;
};
// On behalf of `client`: each miss costs a token, as for session codes
// (not_found; resource_exhausted once the address has none). Reads the
// store: off the network threads.
core::Result<LocatedConversation> find_conversation(const ApiContext& ctx, const Client& client,
                                                    const std::string& code);

// `parts`: the path split at '/', starting with "api", "conversations".
Response handle_conversation_api(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                                 const std::vector<std::string>& parts);

}  // namespace parley::transport
