// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/conversation_api.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "engines/language.h"
#include "session/wire.h"
#include "transcript/captions.h"

namespace parley::transport {

namespace {

using nlohmann::json;

constexpr size_t kHistoryPage = 500;
constexpr size_t kMaxExportItems = 100'000;  // a long day of talk; bounded memory
// A typed caption has no spoken length: its cue shows this long.
constexpr int64_t kTypedCueMs = 2500;

json conversation_json(const ApiContext& ctx, const Request& req, const session::Conversation& c) {
  json people = json::array();
  for (const auto& p : c.participants()) people.push_back(session::wire::participant_json(p));
  return {{"code", c.code()},
          {"title", c.options().title},
          {"url", base_url(ctx, req) + "/c/" + c.code()},
          {"halfDuplex", c.half_duplex()},
          {"createdAtMs", c.created_at_ms()},
          {"maxParticipants", session::Conversation::kMaxParticipants},
          {"participants", people}};
}

// 410: the conversation was here and has ended (its export still works).
Response ended_response(const Request& req, const std::string& code) {
  return json_response(req, http::status::gone,
                       {{"error", {{"code", "gone"},
                                   {"message", "conversation " + code +
                                                   " has ended; its participants can still export it"}}},
                        {"code", code},
                        {"ended", true}});
}

// Whose the bearer token is: a participant's (when they left, wall clock
// ms; 0 while they are in) or an operator key (0). `left_at` looks a token
// up among the participants.
using TokenLookup = std::function<std::optional<int64_t>(const std::string&)>;
core::Result<int64_t> bearer_left_at(const ApiContext& ctx, const Client& client, const Request& req,
                                     const std::string& code, const TokenLookup& left_at) {
  auto token = bearer(req);
  if (!token) {
    return core::unauthenticated("send your participant token as 'Authorization: Bearer <token>'");
  }
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return st;
  if (key_in(ctx.api_key_hashes, *token)) return int64_t{0};
  if (auto at = left_at(*token)) return *at;
  if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return st;
  return core::permission_denied("this token is not one of conversation " + code + "'s participants");
}

core::Result<int64_t> bearer_left_at(const ApiContext& ctx, const Client& client, const Request& req,
                                     const session::Conversation& c) {
  return bearer_left_at(ctx, client, req, c.code(),
                        [&](const std::string& token) { return c.token_left_at(token); });
}

core::Result<int64_t> bearer_left_at(const ApiContext& ctx, const Client& client, const Request& req,
                                     const store::StoredConversation& c) {
  return bearer_left_at(ctx, client, req, c.code, [&](const std::string& token) {
    const std::string hash = session::hash_token(token);
    std::optional<int64_t> left_at;  // every member compared: constant time per member
    for (const auto& m : c.members) {
      if (session::digests_equal(m.token_hash, hash)) left_at = m.left_at_ms;
    }
    return left_at;
  });
}

Response create(const ApiContext& ctx, const Request& req, const Client& client) {
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return error_response(req, st);
  if (auto st = check_api_key(ctx, client, req); !st) return error_response(req, st);
  if (auto st = take(ctx, client, guard::Action::create_session); !st) return error_response(req, st);
  session::ConversationOptions options;
  if (!req.body().empty()) {
    const json body = json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error_response(req, core::invalid_argument("the body must be a JSON object, e.g. {\"title\":\"…\"}"));
    }
    if (auto t = body.find("title"); t != body.end() && t->is_string()) options.title = t->get<std::string>();
    if (auto h = body.find("halfDuplex"); h != body.end()) {
      if (!h->is_boolean()) return error_response(req, core::invalid_argument("halfDuplex must be true or false"));
      options.half_duplex = h->get<bool>();
    }
  }
  auto c = ctx.conversations->create(options);
  if (!c) return error_response(req, c.status());
  return json_response(req, http::status::created, conversation_json(ctx, req, **c));
}

Response join(const ApiContext& ctx, const Request& req, const Client& client, session::Conversation& c) {
  if (auto st = take(ctx, client, guard::Action::join); !st) return error_response(req, st);
  const json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("language") || !body["language"].is_string()) {
    return error_response(req, core::invalid_argument("join with {\"name\":\"Ana\",\"language\":\"es\"}"));
  }
  std::string name;
  if (auto n = body.find("name"); n != body.end() && n->is_string()) name = n->get<std::string>();
  auto joined = c.join(name, body["language"].get<std::string>());
  if (!joined) return error_response(req, joined.status());
  json you = session::wire::participant_json(joined->participant);
  you["token"] = joined->token;
  return json_response(req, http::status::created,
                       {{"code", c.code()}, {"participant", you}, {"token", joined->token},
                        {"speechRecognised", !joined->participant.typed},
                        {"conversation", conversation_json(ctx, req, c)}});
}

// Who took part, and the store's id of the session that carries each
// one's words: read from the live conversation, or from the store once it
// has left this server.
struct Record {
  std::string code;
  std::string title;
  int64_t created_at_ms = 0;
  std::vector<std::pair<session::ParticipantInfo, int64_t>> people;
};

Record record_of(const session::Conversation& c) {
  Record r{c.code(), c.options().title, c.created_at_ms(), {}};
  for (const auto& p : c.participants()) {
    auto s = c.session_of(p.id);
    r.people.emplace_back(p, s ? s->info().id : 0);
  }
  return r;
}

Record record_of(const store::StoredConversation& c) {
  Record r{c.code, c.title, c.created_at_ms, {}};
  for (const auto& m : c.members) {
    session::ParticipantInfo p;
    p.id = m.participant_id;
    p.name = m.name;
    p.language = m.language;
    p.typed = m.typed;
    p.joined_at_ms = m.joined_at_ms;
    p.left = m.left_at_ms != 0;
    p.left_at_ms = m.left_at_ms;
    r.people.emplace_back(std::move(p), m.session_id);
  }
  return r;
}

// One final of the conversation, whoever said it.
struct Said {
  session::ParticipantInfo from;
  store::HistoryItem item;
};

// `until_ms` (wall clock; 0: no limit): what was said by then.
core::Result<std::vector<Said>> everything_said(const ApiContext& ctx, const Record& r, int64_t until_ms) {
  std::vector<Said> all;
  for (const auto& [p, id] : r.people) {
    if (id == 0) continue;
    int64_t after = 0;
    while (all.size() < kMaxExportItems) {
      auto page = ctx.store->history(id, after, kHistoryPage);
      if (!page) return page.status();
      if (page->empty()) break;
      after = page->back().seq;
      for (auto& h : *page) {
        if (until_ms == 0 || h.created_at_ms <= until_ms) all.push_back({p, std::move(h)});
      }
    }
  }
  // In the order it was said (a final is made when its speech ends).
  std::stable_sort(all.begin(), all.end(),
                   [](const Said& a, const Said& b) { return a.item.created_at_ms < b.item.created_at_ms; });
  return all;
}

// `until_ms`: for a participant who left, what was said until they left
// (wall clock; 0: everything).
Response export_all(const ApiContext& ctx, const Request& req, const Target& t, const Record& c, int64_t until_ms) {
  if (!ctx.store) return error_response(req, core::unavailable("this server keeps no transcripts"));
  const std::string format = t.query("format", "json");
  if (format != "json" && format != "vtt" && format != "srt") {
    return error_response(req, core::invalid_argument("format must be json, vtt or srt"));
  }
  std::string lang;
  if (const auto raw = t.query("lang"); !raw.empty()) {
    auto l = engines::normalize_language(raw);
    if (!l) return error_response(req, core::invalid_argument("'" + raw.substr(0, 40) + "' is not a language code"));
    lang = l->substr(0, l->find('-'));  // participants' languages carry no region
    // Translations are made into the participants' languages only.
    std::vector<std::string> read;
    for (const auto& [p, id] : c.people) {
      if (std::find(read.begin(), read.end(), p.language) == read.end()) read.push_back(p.language);
    }
    if (std::find(read.begin(), read.end(), lang) == read.end()) {
      std::string listed;
      for (const auto& l : read) listed += (listed.empty() ? "" : ", ") + l;
      return error_response(req, core::invalid_argument("nobody in conversation " + c.code + " reads '" + lang +
                                                        "'; its languages are " + listed));
    }
  }
  auto all = everything_said(ctx, c, until_ms);
  if (!all) return error_response(req, all.status());
  const int64_t t0 = c.created_at_ms;
  if (format == "json") {
    json items = json::array();
    for (const auto& s : *all) {
      json tr = json::object();
      tr[s.from.language] = s.item.source_text;
      for (const auto& [l, row] : s.item.translations) tr[l] = row.text;
      items.push_back({{"from", {{"id", s.from.id}, {"name", s.from.name}, {"language", s.from.language}}},
                       {"seq", s.item.seq},
                       {"atMs", s.item.created_at_ms},
                       {"durationMs", std::max<int64_t>(0, s.item.end_ms - s.item.start_ms)},
                       {"source", s.item.source_text},
                       {"text", tr}});
    }
    json people = json::array();
    for (const auto& [p, id] : c.people) people.push_back(session::wire::participant_json(p));
    return json_response(req, http::status::ok,
                         {{"code", c.code}, {"title", c.title}, {"createdAtMs", t0},
                          {"participants", people}, {"items", items}});
  }
  std::vector<transcript::Cue> cues;
  for (const auto& s : *all) {
    const int64_t spoken = std::max<int64_t>(0, s.item.end_ms - s.item.start_ms);
    const int64_t end = std::max<int64_t>(0, s.item.created_at_ms - t0);
    const int64_t start = std::max<int64_t>(0, end - (spoken > 0 ? spoken : kTypedCueMs));
    std::string text;
    if (!lang.empty()) {
      // One language: the speaker's name and what they said, in it; in
      // their own words, marked, where no translation was made (nobody
      // read that language at the time).
      auto it = s.item.translations.find(lang);
      if (lang == s.from.language) {
        text = s.from.name + ": " + s.item.source_text;
      } else if (it != s.item.translations.end() && !it->second.text.empty()) {
        text = s.from.name + ": " + it->second.text;
      } else {
        text = s.from.name + " (" + s.from.language + "): " + s.item.source_text;
      }
    } else {
      // Every language: the original, then each translation on its own line.
      text = s.from.name + " (" + s.from.language + "): " + s.item.source_text;
      for (const auto& [l, row] : s.item.translations) text += "\n[" + l + "] " + row.text;
    }
    cues.push_back({start, std::max(end, start + 1), text});
  }
  Response res = make_response(req, http::status::ok,
                               format == "vtt" ? "text/vtt; charset=utf-8" : "application/x-subrip",
                               format == "vtt" ? transcript::to_webvtt(cues) : transcript::to_srt(cues));
  res.set(http::field::content_disposition, "attachment; filename=\"parley-conversation-" + c.code +
                                                (lang.empty() ? "" : "-" + lang) + "." + format + "\"");
  return res;
}

}  // namespace

bool LocatedConversation::ended(const ApiContext& ctx) const {
  if (live) return live->has_ended();
  return !ctx.registry->bus_stats().has_value() || stored->ended();
}

core::Result<LocatedConversation> find_conversation(const ApiContext& ctx, const Client& client,
                                                    const std::string& code) {
  if (auto st = peek(ctx, client, guard::Action::unknown_code); !st) return st;
  if (auto c = ctx.conversations ? ctx.conversations->find(code) : nullptr) return LocatedConversation{c, std::nullopt};
  if (ctx.store && session::is_valid_code(code)) {
    auto stored = ctx.store->find_conversation(code);
    if (!stored) return stored.status();
    if (*stored) return LocatedConversation{nullptr, std::move(*stored)};
  }
  if (auto st = take(ctx, client, guard::Action::unknown_code); !st) return st;
  return core::not_found("no conversation with code " + code.substr(0, 16) + "; check the code");
}

Response handle_conversation_api(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                                 const std::vector<std::string>& parts) {
  if (!ctx.conversations) return error_response(req, core::not_found("conversations are off on this server"));
  const auto method = req.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (parts.size() == 2) {
    if (method == http::verb::post) return create(ctx, req, client);
    return error_response(req, core::invalid_argument("use POST to create a conversation"));
  }
  const bool export_route = parts.size() == 4 && parts[3] == "export" && get;
  auto found = find_conversation(ctx, client, parts[2]);
  if (!found) return error_response(req, found.status());
  if (!found->live) {
    // Not live here. What the store keeps of it is exported (ended, or live
    // on another node that shares the store); the rest needs it live.
    const auto& stored = *found->stored;
    if (export_route) {
      auto until = bearer_left_at(ctx, client, req, stored);
      if (!until) return error_response(req, until.status());
      return export_all(ctx, req, t, record_of(stored), *until);
    }
    if (found->ended(ctx)) return ended_response(req, stored.code);
    return error_response(req, core::not_found("conversation " + stored.code + " is not held by this server"));
  }
  auto& c = *found->live;
  if (export_route) {
    auto until = bearer_left_at(ctx, client, req, c);
    if (!until) return error_response(req, until.status());
    return export_all(ctx, req, t, record_of(c), *until);
  }
  if (found->ended(ctx)) return ended_response(req, c.code());
  if (parts.size() == 3 && get) return json_response(req, http::status::ok, conversation_json(ctx, req, c));
  if (parts.size() == 4 && parts[3] == "participants" && method == http::verb::post) return join(ctx, req, client, c);
  if (parts.size() == 4 && parts[3] == "end" && method == http::verb::post) {
    auto left_at = bearer_left_at(ctx, client, req, c);
    if (!left_at) return error_response(req, left_at.status());
    if (*left_at != 0) return error_response(req, core::permission_denied("you left this conversation"));
    c.end("a participant ended the conversation");
    return json_response(req, http::status::ok, {{"code", c.code()}, {"ended", true}});
  }
  return error_response(req, core::not_found("no API route " + std::string(req.method_string()) + " " + t.path));
}

}  // namespace parley::transport
