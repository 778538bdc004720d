// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/conversation_api.h"

#include <algorithm>
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

Response json_response(const Request& req, http::status st, const json& j) {
  return make_response(req, st, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace));
}

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

// The conversation by code, on behalf of `client` (each miss costs a token,
// as for session codes).
core::Result<std::shared_ptr<session::Conversation>> find(const ApiContext& ctx, const Client& client,
                                                          const std::string& code) {
  if (auto st = peek(ctx, client, guard::Action::unknown_code); !st) return st;
  auto c = ctx.conversations->find(code);
  if (!c || c->has_ended()) {
    if (auto st = take(ctx, client, guard::Action::unknown_code); !st) return st;
    return core::not_found("no conversation with code " + code.substr(0, 16) + "; check the code");
  }
  return c;
}

// A participant's token (or an operator key) as the bearer.
core::Status check_participant(const ApiContext& ctx, const Client& client, const Request& req,
                               const session::Conversation& c) {
  auto token = bearer(req);
  if (!token) {
    return core::unauthenticated("send your participant token as 'Authorization: Bearer <token>'");
  }
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return st;
  if (c.is_participant_token(*token) || key_in(ctx.api_key_hashes, *token)) return {};
  if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return st;
  return core::permission_denied("this token is not one of conversation " + c.code() + "'s participants");
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

// One final of the conversation, whoever said it.
struct Said {
  session::ParticipantInfo from;
  store::HistoryItem item;
};

core::Result<std::vector<Said>> everything_said(const ApiContext& ctx, const session::Conversation& c) {
  std::vector<Said> all;
  const auto people = c.participants();
  for (const auto& p : people) {
    auto s = c.session_of(p.id);
    if (!s) continue;
    const int64_t id = s->info().id;
    int64_t after = 0;
    while (all.size() < kMaxExportItems) {
      auto page = ctx.store->history(id, after, kHistoryPage);
      if (!page) return page.status();
      if (page->empty()) break;
      after = page->back().seq;
      for (auto& h : *page) all.push_back({p, std::move(h)});
    }
  }
  // In the order it was said (a final is made when its speech ends).
  std::stable_sort(all.begin(), all.end(),
                   [](const Said& a, const Said& b) { return a.item.created_at_ms < b.item.created_at_ms; });
  return all;
}

Response export_all(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                    const session::Conversation& c) {
  if (auto st = check_participant(ctx, client, req, c); !st) return error_response(req, st);
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
  }
  auto all = everything_said(ctx, c);
  if (!all) return error_response(req, all.status());
  const int64_t t0 = c.created_at_ms();
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
    for (const auto& p : c.participants()) people.push_back(session::wire::participant_json(p));
    return json_response(req, http::status::ok,
                         {{"code", c.code()}, {"title", c.options().title}, {"createdAtMs", t0},
                          {"participants", people}, {"items", items}});
  }
  std::vector<transcript::Cue> cues;
  for (const auto& s : *all) {
    const int64_t spoken = std::max<int64_t>(0, s.item.end_ms - s.item.start_ms);
    const int64_t end = std::max<int64_t>(0, s.item.created_at_ms - t0);
    const int64_t start = std::max<int64_t>(0, end - (spoken > 0 ? spoken : kTypedCueMs));
    std::string text;
    if (!lang.empty()) {
      // One language: the speaker's name and what they said, in it.
      auto it = s.item.translations.find(lang);
      const std::string& words =
          lang == s.from.language ? s.item.source_text : (it != s.item.translations.end() ? it->second.text : "");
      if (words.empty()) continue;
      text = s.from.name + ": " + words;
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
  res.set(http::field::content_disposition, "attachment; filename=\"parley-conversation-" + c.code() +
                                                (lang.empty() ? "" : "-" + lang) + "." + format + "\"");
  return res;
}

}  // namespace

Response handle_conversation_api(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                                 const std::vector<std::string>& parts) {
  if (!ctx.conversations) return error_response(req, core::not_found("conversations are off on this server"));
  const auto method = req.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (parts.size() == 2) {
    if (method == http::verb::post) return create(ctx, req, client);
    return error_response(req, core::invalid_argument("use POST to create a conversation"));
  }
  auto c = find(ctx, client, parts[2]);
  if (!c) return error_response(req, c.status());
  if (parts.size() == 3 && get) return json_response(req, http::status::ok, conversation_json(ctx, req, **c));
  if (parts.size() == 4 && parts[3] == "participants" && method == http::verb::post) return join(ctx, req, client, **c);
  if (parts.size() == 4 && parts[3] == "export" && get) return export_all(ctx, req, client, t, **c);
  if (parts.size() == 4 && parts[3] == "end" && method == http::verb::post) {
    if (auto st = check_participant(ctx, client, req, **c); !st) return error_response(req, st);
    (*c)->end("a participant ended the conversation");
    return json_response(req, http::status::ok, {{"code", (*c)->code()}, {"ended", true}});
  }
  return error_response(req, core::not_found("no API route " + std::string(req.method_string()) + " " + t.path));
}

}  // namespace parley::transport
