// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/api.h"
#include "transport/http/conversation_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>

#include "engines/language.h"
#include "session/session.h"
#include "transcript/captions.h"
#include "transport/http/assets.h"
#include "transport/http/metrics_page.h"
#include "transport/http/qr.h"

namespace parley::transport {
namespace {

using nlohmann::json;

constexpr size_t kMaxHistoryPage = 500;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response make(const Request& req, http::status st, std::string_view type, std::string body) {
  return make_response(req, st, type, std::move(body));
}

}  // namespace

Response json_response(const Request& req, http::status st, const json& j) {
  return make(req, st, "application/json", dump(j));
}

std::string base_url(const ApiContext& ctx, const Request& req) {
  if (!ctx.public_url.empty()) return ctx.public_url;
  auto host = req[http::field::host];
  return std::string(ctx.tls ? "https://" : "http://") + std::string(host.empty() ? "localhost" : host);
}

namespace {

json session_json(const ApiContext& ctx, const session::SessionInfo& info, bool live,
                  const std::map<std::string, size_t>& counts) {
  json listeners = json::object();
  size_t total = 0;
  for (const auto& [l, n] : counts) {
    listeners[l] = n;
    total += n;
  }
  return {{"code", info.code},
          {"name", info.spec.name},
          {"state", session::state_name(info.state)},
          {"sourceLanguage", info.spec.source_language},
          {"avatar", info.spec.avatar},
          {"targets", info.spec.default_targets},
          {"profanity", info.spec.hide_strong_words ? "mask" : "off"},
          {"live", live},
          {"webrtc", live && ctx.rtc != nullptr},  // WHIP/WHEP answer for this session
          {"createdAtMs", info.created_at_ms},
          {"startedAtMs", info.started_at_ms},
          {"endedAtMs", info.ended_at_ms},
          {"listeners", {{"total", total}, {"byLanguage", listeners}}}};
}

// The session by code: live first, else the newest stored one.
struct Found {
  std::shared_ptr<session::LiveSession> live;
  session::SessionInfo info;
  std::string token_hash;  // of the speaker token, for sessions read from the store
};
core::Result<Found> lookup(const ApiContext& ctx, const std::string& code) {
  if (!session::is_valid_code(code)) {
    return core::not_found("'" + code.substr(0, 16) + "' is not a session code; codes have six digits");
  }
  auto live = ctx.registry->find(code);
  if (live && live->in_conversation()) {  // reached through its conversation only
    return core::not_found("no session with code " + code + "; check the code with the speaker");
  }
  if (live && !live->has_ended()) return Found{live, live->info(), ""};
  // Once ended, the stored row is what counts (it says whether the
  // transcript was made public).
  if (ctx.store) {
    auto s = ctx.store->find_session(code);
    if (!s) return s.status();
    if (*s && !(*s)->info.spec.conversation.empty()) {  // an ended participant's session: private too
      return core::not_found("no session with code " + code + "; check the code with the speaker");
    }
    if (*s) {
      Found found{live, (*s)->info, (*s)->token_hash};
      if (live) {
        // The stored state is written behind: the live object knows it ended.
        const auto now = live->info();
        found.info.state = now.state;
        found.info.ended_at_ms = now.ended_at_ms;
      }
      return found;
    }
  }
  if (live) return Found{live, live->info(), ""};
  return core::not_found("no session with code " + code + "; check the code with the speaker");
}

// A lookup on behalf of `client`: each miss costs the address a token, and
// an address without tokens is refused before it looks (code scanning).
core::Result<Found> find_session(const ApiContext& ctx, const Client& client, const std::string& code) {
  if (auto st = peek(ctx, client, guard::Action::unknown_code); !st) return st;
  auto found = lookup(ctx, code);
  if (!found && found.status().code() == core::Code::not_found) {
    if (auto st = take(ctx, client, guard::Action::unknown_code); !st) return st;
  }
  return found;
}

bool is_api_key(const ApiContext& ctx, const std::string& key) { return key_in(ctx.api_key_hashes, key); }

}  // namespace

core::Status check_api_key(const ApiContext& ctx, const Client& client, const Request& req) {
  if (ctx.api_key_hashes.empty()) return {};
  auto key = bearer(req);
  if (!key) return core::unauthenticated("creating sessions needs the operator's API key as 'Authorization: Bearer <key>'");
  if (is_api_key(ctx, *key)) return {};
  if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return st;
  return core::permission_denied("this API key is not one of the server's (--api-keys)");
}

namespace {

// The speaker's own token or an operator key, as the bearer.
bool is_speaker_or_operator(const ApiContext& ctx, const Request& req, const Found& found) {
  auto token = bearer(req);
  if (!token) return false;
  if (found.live && found.live->token_matches(*token)) return true;
  if (!found.token_hash.empty() && session::digests_equal(session::hash_token(*token), found.token_hash)) return true;
  return is_api_key(ctx, *token);
}

// While a session is live, anyone with its code may read what was said (they
// could listen). Once it has ended, its history and transcripts are read with
// the listener link's key (?key=), the speaker token or an operator key,
// unless the transcript was made public.
core::Status check_transcript_access(const ApiContext& ctx, const Client& client, const Request& req,
                                     const Target& t, const Found& found) {
  if (found.info.state != session::State::ended || found.info.transcript_public) return {};
  if (is_speaker_or_operator(ctx, req, found)) return {};
  const std::string key = t.query("key");
  if (!key.empty()) {
    if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return st;
    if (!found.info.listener_key_hash.empty() &&
        session::digests_equal(session::hash_token(key), found.info.listener_key_hash)) {
      return {};
    }
    if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return st;
    return core::permission_denied("this key does not open the transcript of session " + found.info.code);
  }
  return core::permission_denied("Session " + found.info.code +
                                 " has ended and its transcript is private: open it from the listener link the "
                                 "speaker shared, or ask the speaker to publish it.");
}

// POST /api/sessions/<code>/publish: the transcript becomes readable by anyone after the end.
Response publish(const ApiContext& ctx, const Request& req, const Client& client, const std::string& code) {
  if (!bearer(req)) {
    return error_response(req, core::unauthenticated("send the speaker token or an operator key as 'Authorization: Bearer <token>'"));
  }
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return error_response(req, st);
  auto found = find_session(ctx, client, code);
  if (!found) return error_response(req, found.status());
  if (!is_speaker_or_operator(ctx, req, *found)) {
    if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return error_response(req, st);
    return error_response(req, core::permission_denied("this token does not control session " + code));
  }
  if (!ctx.store) return error_response(req, core::unavailable("this server keeps no transcripts"));
  if (auto st = ctx.store->set_transcript_public(found->info.id, true); !st) return error_response(req, st);
  return json_response(req, http::status::ok, {{"code", code}, {"transcriptPublic", true}});
}

Response create_session(const ApiContext& ctx, const Request& req, const Client& client) {
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return error_response(req, st);
  if (auto st = check_api_key(ctx, client, req); !st) return error_response(req, st);
  if (auto st = take(ctx, client, guard::Action::create_session); !st) return error_response(req, st);
  auto spec = parse_session_spec(req.body());
  if (!spec) return error_response(req, spec.status());
  auto created = ctx.registry->create(*spec);
  if (!created) return error_response(req, created.status());
  const auto info = created->session->info();
  const std::string base = base_url(ctx, req);
  return json_response(req, http::status::created,
                       {{"code", info.code},
                        {"speakerToken", created->speaker_token},
                        {"listenerKey", created->listener_key},
                        // The key reads the transcript once the session has ended.
                        {"listenerUrl", base + "/listener/" + info.code + "?k=" + created->listener_key},
                        {"state", session::state_name(info.state)},
                        {"session", session_json(ctx, info, true, {})}});
}

// The live session `code`, when the request carries its speaker token.
core::Result<std::shared_ptr<session::LiveSession>> speaker_session(const ApiContext& ctx, const Request& req,
                                                                    const Client& client, const std::string& code) {
  auto token = bearer(req);
  if (!token) return core::unauthenticated("send the speaker token as 'Authorization: Bearer <token>'");
  if (auto st = peek(ctx, client, guard::Action::bad_credential); !st) return st;
  auto live = ctx.registry->find(code);
  if (!live) {
    auto found = find_session(ctx, client, code);
    if (!found) return found.status();
    return core::failed_precondition("session " + code + " has ended");
  }
  if (!live->token_matches(*token)) {
    if (auto st = take(ctx, client, guard::Action::bad_credential); !st) return st;
    return core::permission_denied("this token does not control session " + code);
  }
  return live;
}

json words_json(const session::TalkWords::Snapshot& w) {
  json out = {{"state", w.state},
              {"vocabularyBytes", w.vocabulary.size()},
              {"words", w.stats.n_words},
              {"newWords", w.stats.n_new_words},
              {"unpronounced", w.stats.n_unpronounced},
              {"scriptWords", w.stats.n_script_words},
              {"buildMs", std::lround(w.stats.build_ms)},
              {"vocabulary", w.vocabulary},
              {"glossary", w.glossary}};
  if (!w.error.empty()) out["error"] = w.error;
  if (!w.sentences.empty()) out["script"] = {{"sentences", w.sentences}, {"position", w.position}};
  return out;
}

// Several nodes: a session's words live where its pipeline runs. The load
// balancer sends a session's requests there (deploy/nginx/parley.conf); one
// that arrives elsewhere is told to come again.
core::Status elsewhere(const std::string& code) {
  return core::unavailable("session " + code + " runs on another node of this service: send its words there " +
                           "(a load balancer keyed on the session code does)")
      .with_retry_after(1);
}

// GET and PUT /api/sessions/{code}/words: the session's vocabulary,
// glossary and script, and what the recogniser made of them.
Response session_words(const ApiContext& ctx, const Request& req, const Client& client, const std::string& code) {
  auto live = speaker_session(ctx, req, client, code);
  if (!live) return error_response(req, live.status());
  if ((*live)->is_view()) return error_response(req, elsewhere(code));
  if (req.method() == http::verb::get) {
    return json_response(req, http::status::ok, words_json((*live)->words().snapshot()));
  }
  auto body = parse_words_body(req.body());
  if (!body) return error_response(req, body.status());
  auto set = (*live)->words().set(std::move(body->vocabulary), std::move(body->script), std::move(body->glossary));
  if (!set) return error_response(req, set);
  return json_response(req, http::status::accepted, words_json((*live)->words().snapshot()));
}

// POST /api/sessions/{code}/script: the speaker moves in the script, or
// pastes its next section.
Response session_script(const ApiContext& ctx, const Request& req, const Client& client, const std::string& code) {
  auto live = speaker_session(ctx, req, client, code);
  if (!live) return error_response(req, live.status());
  if ((*live)->is_view()) return error_response(req, elsewhere(code));
  auto body = parse_script_body(req.body());
  if (!body) return error_response(req, body.status());
  auto& words = (*live)->words();
  auto done = body->sentence ? words.seek(*body->sentence) : words.append_script(std::move(*body->append));
  if (!done) return error_response(req, done);
  return json_response(req, http::status::ok, words_json(words.snapshot()));
}

Response control(const ApiContext& ctx, const Request& req, const Client& client, const std::string& code,
                 session::Action action) {
  auto live = speaker_session(ctx, req, client, code);
  if (!live) return error_response(req, live.status());
  auto next = (*live)->apply(action);
  if (!next) return error_response(req, next.status());
  return json_response(req, http::status::ok, {{"code", code}, {"state", session::state_name(*next)}});
}

core::Result<std::vector<store::HistoryItem>> all_history(const ApiContext& ctx, int64_t id) {
  std::vector<store::HistoryItem> all;
  int64_t after = 0;
  for (;;) {
    auto page = ctx.store->history(id, after, kMaxHistoryPage);
    if (!page) return page.status();
    if (page->empty()) break;
    after = page->back().seq;
    for (auto& h : *page) all.push_back(std::move(h));
    if (all.size() > 200000) break;  // a day of speech; bounded memory
  }
  return all;
}

json item_json(const store::HistoryItem& h) {
  json tr = json::object();
  for (const auto& [lang, t] : h.translations) tr[lang] = t.text;
  // {"source": {"stt_final": 21.5, …}, "es": {"mt_done": 25.1, …}}: ms after the last audio frame.
  json timings = json::object();
  for (const auto& t : h.timings) timings[t.language.empty() ? "source" : t.language][t.stage] = t.ms;
  return {{"seq", h.seq},          {"utteranceId", h.utterance_id}, {"startMs", h.start_ms},
          {"endMs", h.end_ms},     {"source", h.source_text},       {"translations", tr},
          {"createdAtMs", h.created_at_ms}, {"timingsMs", timings}, {"fromScript", h.from_script}};
}

Response history(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                 const std::string& code) {
  auto found = find_session(ctx, client, code);
  if (!found) return error_response(req, found.status());
  if (auto st = check_transcript_access(ctx, client, req, t, *found); !st) return error_response(req, st);
  int64_t after = 0;
  long limit = 100;
  {
    auto a = t.query("after", "0");
    auto l = t.query("limit", "100");
    auto [p1, e1] = std::from_chars(a.data(), a.data() + a.size(), after);
    auto [p2, e2] = std::from_chars(l.data(), l.data() + l.size(), limit);
    if (e1 != std::errc() || e2 != std::errc() || after < 0 || limit < 1) {
      return error_response(req, core::invalid_argument("after must be ≥ 0 and limit ≥ 1"));
    }
    limit = std::min<long>(limit, kMaxHistoryPage);
  }
  auto page = ctx.store->history(found->info.id, after, static_cast<size_t>(limit) + 1);
  if (!page) return error_response(req, page.status());
  bool more = page->size() > static_cast<size_t>(limit);
  if (more) page->pop_back();
  json items = json::array();
  for (const auto& h : *page) items.push_back(item_json(h));
  json out = {{"code", code}, {"items", items}, {"more", more}};
  if (!page->empty()) out["nextAfter"] = page->back().seq;
  return json_response(req, http::status::ok, out);
}

Response transcript(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                    const std::string& code) {
  auto found = find_session(ctx, client, code);
  if (!found) return error_response(req, found.status());
  if (auto st = check_transcript_access(ctx, client, req, t, *found); !st) return error_response(req, st);
  const std::string format = t.query("format", "vtt");
  auto lang_in = t.query("lang", found->info.spec.source_language);
  auto lang = engines::normalize_language(lang_in);
  if (!lang) return error_response(req, core::invalid_argument("'" + lang_in + "' is not a language code"));
  if (format != "vtt" && format != "srt" && format != "json" && format != "txt") {
    return error_response(req, core::invalid_argument("format must be vtt, srt, json or txt"));
  }
  auto all = all_history(ctx, found->info.id);
  if (!all) return error_response(req, all.status());
  const bool source = *lang == found->info.spec.source_language;
  if (!source) {
    // A language the session was never translated into is an error that
    // names the ones it has, never an empty transcript.
    std::set<std::string> has;
    for (const auto& h : *all) {
      for (const auto& [l, text] : h.translations) has.insert(l);
    }
    const bool routable = ctx.engines.router && ctx.engines.router->route(found->info.spec.source_language, *lang);
    if (all->empty() ? !routable : has.count(*lang) == 0) {
      std::string list = engines::language_name(found->info.spec.source_language) + " (the original)";
      for (const auto& l : has) list += ", " + engines::language_name(l);
      return error_response(req, core::not_found("This session has no transcript in " + engines::language_name(*lang) +
                                                 "; it has " + list + "."));
    }
  }
  if (format == "json") {
    json items = json::array();
    for (const auto& h : *all) {
      auto it = h.translations.find(*lang);
      if (!source && it == h.translations.end()) continue;
      items.push_back({{"seq", h.seq}, {"startMs", h.start_ms}, {"endMs", h.end_ms},
                       {"source", h.source_text}, {"text", source ? h.source_text : it->second.text},
                       {"fromScript", h.from_script}});
    }
    return json_response(req, http::status::ok, {{"code", code}, {"language", *lang}, {"items", items}});
  }
  std::vector<transcript::Cue> cues;
  for (const auto& h : *all) {
    auto it = h.translations.find(*lang);
    if (!source && it == h.translations.end()) continue;
    cues.push_back({h.start_ms, h.end_ms, source ? h.source_text : it->second.text});
  }
  Response res;
  if (format == "txt") {
    // Plain text: one caption a line, as a reader would copy it.
    std::string text;
    for (const auto& c : cues) text += c.text + "\n";
    res = make(req, http::status::ok, "text/plain; charset=utf-8", std::move(text));
  } else {
    res = make(req, http::status::ok, format == "vtt" ? "text/vtt; charset=utf-8" : "application/x-subrip",
               format == "vtt" ? transcript::to_webvtt(cues) : transcript::to_srt(cues));
  }
  res.set(http::field::content_disposition,
          "attachment; filename=\"parley-" + code + "-" + *lang + "." + format + "\"");
  return res;
}

// GET /api/sessions/<code>/summary: what a speaker reads at the end (and
// during): how long, how much was said, who listened in which language, and
// where each language's transcript is. Readable by whoever may read the
// transcript.
Response summary(const ApiContext& ctx, const Request& req, const Client& client, const Target& t,
                 const std::string& code) {
  auto found = find_session(ctx, client, code);
  if (!found) return error_response(req, found.status());
  if (auto st = check_transcript_access(ctx, client, req, t, *found); !st) return error_response(req, st);
  auto all = all_history(ctx, found->info.id);
  if (!all) return error_response(req, all.status());
  const auto& info = found->info;
  std::map<std::string, size_t> peaks;
  if (found->live) {
    peaks = found->live->peak_listeners();
  } else if (auto stored = ctx.store->metrics(info.id)) {
    const std::string prefix = "peak_listeners.";
    for (const auto& [key, value] : *stored) {
      if (key.rfind(prefix, 0) == 0) peaks[key.substr(prefix.size())] = static_cast<size_t>(value);
    }
  }
  // Every language with a transcript or a listener, the original first.
  std::map<std::string, size_t> finals;
  finals[info.spec.source_language] = all->size();
  for (const auto& h : *all) {
    for (const auto& [l, tr] : h.translations) ++finals[l];
  }
  for (const auto& [l, n] : peaks) finals.emplace(l, 0);
  for (const auto& l : info.spec.default_targets) finals.emplace(l, 0);
  const std::string key = t.query("key");
  // The listener key goes into the links as given when it is one (hex).
  const bool hex_key = !key.empty() && key.size() <= 128 &&
                       std::all_of(key.begin(), key.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  const std::string key_param = hex_key ? "&key=" + key : "";
  json languages = json::array();
  auto add = [&](const std::string& l) {
    json downloads = json::object();
    if (finals[l] > 0) {
      for (const char* f : {"vtt", "srt", "json", "txt"}) {
        downloads[f] = "/api/sessions/" + code + "/transcript?format=" + f + "&lang=" + l + key_param;
      }
    }
    languages.push_back({{"language", l},
                         {"name", engines::language_name(l)},
                         {"original", l == info.spec.source_language},
                         {"finals", finals[l]},
                         {"peakListeners", peaks.count(l) ? peaks[l] : 0},
                         {"downloads", downloads}});
  };
  add(info.spec.source_language);
  for (const auto& [l, n] : finals) {
    if (l != info.spec.source_language) add(l);
  }
  const int64_t end_ms = info.ended_at_ms > 0 ? info.ended_at_ms : session::wall_clock_ms();
  const int64_t from_ms = info.started_at_ms > 0 ? info.started_at_ms : end_ms;
  int64_t spoken_ms = 0;  // the utterances themselves (a typed caption has none)
  for (const auto& h : *all) spoken_ms += std::max<int64_t>(0, h.end_ms - h.start_ms);
  return json_response(req, http::status::ok,
                       {{"code", code},
                        {"name", info.spec.name},
                        {"state", session::state_name(info.state)},
                        {"createdAtMs", info.created_at_ms},
                        {"startedAtMs", info.started_at_ms},
                        {"endedAtMs", info.ended_at_ms},
                        {"durationMs", std::max<int64_t>(0, end_ms - from_ms)},
                        {"speechMs", spoken_ms},
                        {"finals", all->size()},
                        {"languages", languages}});
}

Response languages(const ApiContext& ctx, const Request& req) {
  json speech = ctx.engines.stt ? json(ctx.engines.stt->languages()) : json::array();
  std::set<std::string> voiced;
  if (ctx.engines.tts) {
    for (const auto& v : ctx.engines.tts->voices()) voiced.insert(v.language);
  }
  json targets = json::object();
  for (const auto& src : speech) {
    json list = json::array();
    for (const auto& [to, route] : ctx.engines.router->targets_from(src.get<std::string>())) {
      const bool voice = voiced.count(to) != 0 || voiced.count(to.substr(0, to.find('-'))) != 0;
      const std::string voice_lang = voiced.count(to) != 0 ? to : to.substr(0, to.find('-'));
      list.push_back({{"language", to},
                      {"name", engines::language_name(to)},
                      {"route", route.describe()},
                      {"pivoted", route.pivoted()},
                      {"voice", voice},
                      {"mtEngines", route.engines()},
                      {"ttsEngine", voice ? json(ctx.engines.tts->engine_for(voice_lang)) : json(nullptr)}});
    }
    targets[src.get<std::string>()] = list;
  }
  json names = json::object();
  json stt_engines = json::object();
  for (const auto& src : speech) {
    names[src.get<std::string>()] = engines::language_name(src.get<std::string>());
    stt_engines[src.get<std::string>()] = ctx.engines.stt->engine_for(src.get<std::string>());
  }
  return json_response(req, http::status::ok,
                       {{"speech", speech}, {"names", names}, {"sttEngines", stt_engines}, {"targets", targets}});
}

}  // namespace

Response page(const Request& req, std::string_view name, http::status st) {
  auto a = find_asset(name);
  if (!a) return error_response(req, core::not_found("no such page"));
  return make(req, st, a->content_type, std::string(a->body));
}

namespace {

// Ready to take sessions: not shutting down, and the store keeps up.
Response readiness(const ApiContext& ctx, const Request& req) {
  if (ctx.draining != nullptr && ctx.draining->load()) {
    return json_response(req, http::status::service_unavailable,
                         {{"status", "draining"}, {"message", "the server is shutting down"}});
  }
  // No I/O here: the store reports what its writer and prober last saw.
  if (ctx.store) {
    if (auto health = ctx.store->health(); !health) {
      return json_response(req, http::status::service_unavailable,
                           {{"status", "unavailable"}, {"message", health.message()}});
    }
  }
  const size_t live = ctx.registry != nullptr ? ctx.registry->size() : 0;
  return json_response(req, http::status::ok, {{"status", "ready"}, {"liveSessions", live}});
}

// A listener, overlay or embed link whose code matches no session: the
// landing page, which says so in the reader's language above a box for the
// right code.
Response unknown_session_page(const Request& req) { return page(req, "index.html", http::status::not_found); }

// The Content-Security-Policy of a page: its own scripts, styles and media
// only, talking only to this server, framed only by `ancestors`.
std::string page_policy(const Request& req, std::string_view ancestors) {
  // Older WebKit does not count ws(s):// to this host as 'self'.
  std::string sockets;
  const auto host = req[http::field::host];
  if (!host.empty() && host.find_first_of(" ;,'\"") == std::string_view::npos) {
    sockets = " ws://" + std::string(host) + " wss://" + std::string(host);
  }
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
         "media-src 'self' blob:; connect-src 'self'" + sockets + "; worker-src 'self' blob:; object-src 'none'; "
         "base-uri 'none'; form-action 'self'; frame-ancestors " + std::string(ancestors);
}

}  // namespace

namespace {

// http(s)://host[:port] or host[:port]: a DNS name (with * only as the whole
// first label) or a bracketed IPv6 address; a port from 1 to 65535.
bool is_origin(const std::string& e) {
  std::string rest = e;
  if (const auto scheme_end = e.find("://"); scheme_end != std::string::npos) {
    const std::string scheme = e.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") return false;
    rest = e.substr(scheme_end + 3);
  }
  std::string host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos || close < 3) return false;
    host = rest.substr(0, close + 1);
    if (!std::all_of(host.begin() + 1, host.end() - 1,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; })) {
      return false;
    }
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? "" : rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
  } else {
    if (const auto colon = rest.find(':'); colon != std::string::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty() || host.front() == '.' || host.back() == '.' || host.find("..") != std::string::npos) return false;
    for (size_t i = 0; i < host.size(); ++i) {
      const char c = host[i];
      const bool wildcard = c == '*' && i == 0 && host.size() > 2 && host[1] == '.';
      if (!wildcard && !std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
    }
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return false;
    }
    const int n = std::stoi(port);
    if (n < 1 || n > 65535) return false;
  }
  return true;
}

}  // namespace

core::Result<std::string> frame_ancestors(std::string_view setting) {
  std::vector<std::string> sources;
  std::string entry;
  auto flush = [&]() -> core::Status {
    if (entry.empty()) return {};
    std::string e = std::move(entry);
    entry.clear();
    if (e == "none" || e == "'none'") {
      sources.push_back("'none'");
      return {};
    }
    if (e == "self" || e == "'self'") e = "'self'";
    else if (e != "*" && !is_origin(e)) {
      return core::invalid_argument("'" + e + "' is not an origin (e.g. https://www.example.org), 'self', * or none");
    }
    sources.push_back(e);
    return {};
  };
  for (char c : setting) {
    if (c == ' ' || c == ',' || c == '\t') {
      if (auto st = flush(); !st) return st;
    } else {
      entry += c;
    }
  }
  if (auto st = flush(); !st) return st;
  if (sources.empty()) return std::string("'none'");
  if (sources.size() > 1 && std::count(sources.begin(), sources.end(), "'none'") > 0) {
    return core::invalid_argument("none cannot be combined with origins");
  }
  std::string out;
  for (const auto& src : sources) out += (out.empty() ? "" : " ") + src;
  return out;
}

bool key_in(const std::vector<std::string>& hashes, const std::string& key) {
  const auto hash = session::hash_token(key);
  return std::any_of(hashes.begin(), hashes.end(), [&](const std::string& h) { return session::digests_equal(hash, h); });
}

Response make_response(const Request& req, http::status st, std::string_view type, std::string body) {
  Response res{st, req.version()};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, type);
  res.set(http::field::cache_control, "no-store");
  // Every answer: no type sniffing, and listener links (which carry a key)
  // never leak through the Referer header.
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (type.rfind("text/html", 0) == 0) res.set("Content-Security-Policy", page_policy(req, "'none'"));
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  if (req.method() == http::verb::head) res.body().clear();  // the length of what GET would send, no body
  return res;
}

http::status http_status(core::Code code) {
  switch (code) {
    case core::Code::ok: return http::status::ok;
    case core::Code::invalid_argument: return http::status::bad_request;
    case core::Code::not_found: return http::status::not_found;
    case core::Code::unavailable: return http::status::service_unavailable;
    case core::Code::resource_exhausted: return http::status::too_many_requests;
    case core::Code::failed_precondition: return http::status::conflict;
    case core::Code::permission_denied: return http::status::forbidden;
    case core::Code::unauthenticated: return http::status::unauthorized;
    case core::Code::internal: return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

Response error_response(const Request& req, const core::Status& status) {
  auto res = json_response(req, http_status(status.code()),
                           {{"error", {{"code", core::code_name(status.code())}, {"message", status.message()}}}});
  if (status.code() == core::Code::unauthenticated) res.set(http::field::www_authenticate, "Bearer");
  if (status.retry_after_s() > 0) res.set(http::field::retry_after, std::to_string(status.retry_after_s()));
  return res;
}

core::Status take(const ApiContext& ctx, const Client& client, guard::Action action) {
  return ctx.guard ? ctx.guard->take(client.address, action) : core::Status{};
}

core::Status peek(const ApiContext& ctx, const Client& client, guard::Action action) {
  return ctx.guard ? ctx.guard->peek(client.address, action) : core::Status{};
}

core::Result<std::shared_ptr<session::LiveSession>> find_live(const ApiContext& ctx, const Client& client,
                                                              const std::string& code) {
  if (auto st = peek(ctx, client, guard::Action::unknown_code); !st) return st;
  auto live = ctx.registry->find(code);
  // A conversation's sessions are reached through the conversation only.
  if (!live || live->has_ended() || live->in_conversation()) {
    if (auto st = take(ctx, client, guard::Action::unknown_code); !st) return st;
    return core::not_found("no live session with code " + code.substr(0, 16) + "; check the code");
  }
  return live;
}

Response handle_request(const ApiContext& ctx, const Request& req, const Client& client) {
  if (ctx.metrics) ++ctx.metrics->http_requests;
  const Target t = parse_target(req.target());
  const auto parts = split_path(t.path);
  const auto method = req.method();
  const bool get = method == http::verb::get || method == http::verb::head;

  // The landing page: a box for the code listeners were given, and the way
  // to start a session.
  if (parts.empty() || (parts[0] == "listener" && parts.size() == 1)) {
    if (!get) return error_response(req, core::invalid_argument("only GET here"));
    return page(req, "index.html");
  }
  // The code box's form, for browsers without scripts: /join?code=123 456.
  if (parts[0] == "join" && parts.size() == 1 && get) {
    std::string digits;
    for (char c : t.query("code")) {
      if (std::isdigit(static_cast<unsigned char>(c)) && digits.size() < 16) digits += c;
    }
    Response res = make(req, http::status::see_other, "text/plain", "");
    res.set(http::field::location, digits.empty() ? "/" : "/listener/" + digits);
    return res;
  }
  if (parts[0] == "favicon.ico" && get) return page(req, "favicon.svg");
  if (parts[0] == "healthz" && get) return json_response(req, http::status::ok, {{"status", "ok"}});
  if (parts[0] == "readyz" && get) return readiness(ctx, req);
  if (parts[0] == "metrics" && get) {
    return make(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8", render_metrics(ctx));
  }
  if (parts[0] == "speaker" && parts.size() == 1 && get) return page(req, "speaker.html");
  // Conversations: /c starts one, /c/<code> is its page.
  if (parts[0] == "c" && parts.size() <= 2 && get) {
    if (parts.size() == 2) {
      // A code that exists or not costs what a session code's lookup costs
      // (scanning). A refused or failed lookup still gets the page, which
      // says so (and tries again), rather than a bare JSON error in a tab;
      // an ended conversation's offers its participants the export.
      auto found = find_conversation(ctx, client, parts[1]);
      if (!found) {
        Response res = page(req, "conversation.html", http_status(found.status().code()));
        if (found.status().retry_after_s() > 0) {
          res.set(http::field::retry_after, std::to_string(found.status().retry_after_s()));
        }
        return res;
      }
      if (found->ended(ctx)) return page(req, "conversation.html", http::status::gone);
    }
    return page(req, "conversation.html");
  }
  if (parts[0] == "listener" && parts.size() == 2 && get) {
    auto found = find_session(ctx, client, parts[1]);
    if (!found && found.status().code() == core::Code::resource_exhausted) return error_response(req, found.status());
    if (!found) return unknown_session_page(req);
    return page(req, "listener.html");
  }
  // Captions for video mixers and other sites: the only pages that may be framed.
  if ((parts[0] == "overlay" || parts[0] == "embed") && parts.size() == 2 && get) {
    auto found = find_session(ctx, client, parts[1]);
    if (!found && found.status().code() == core::Code::resource_exhausted) return error_response(req, found.status());
    // A wrong code is said inside the frame too (the page tells the host).
    // The embed is the listener page, laid out for a frame (listener.js reads the path).
    Response res = !found ? unknown_session_page(req) : page(req, parts[0] == "overlay" ? "overlay.html" : "listener.html");
    res.set("Content-Security-Policy", page_policy(req, ctx.embed_origins));
    return res;
  }
  if (parts[0] == "static" && parts.size() >= 2 && get) {
    std::string name = t.path.substr(std::string("/static/").size());
    if (name.find("..") != std::string::npos) return error_response(req, core::not_found("no such file"));
    return page(req, name);
  }
  if (parts[0] == "qr.svg" && get) {
    auto svg = qr_svg(t.query("data"));
    if (!svg) return error_response(req, svg.status());
    return make(req, http::status::ok, "image/svg+xml", *svg);
  }
  if (parts[0] != "api") return error_response(req, core::not_found("no such page: " + t.path));

  // /api/...
  if (parts.size() == 2 && parts[1] == "languages" && get) return languages(ctx, req);
  if (parts.size() >= 2 && parts[1] == "conversations") return handle_conversation_api(ctx, req, client, t, parts);
  if (parts.size() == 2 && parts[1] == "sessions") {
    if (method == http::verb::post) return create_session(ctx, req, client);
    return error_response(req, core::invalid_argument("use POST to create a session"));
  }
  if (parts.size() >= 3 && parts[1] == "sessions") {
    const std::string& code = parts[2];
    if (parts.size() == 3 && get) {
      auto found = find_session(ctx, client, code);
      if (!found) return error_response(req, found.status());
      auto counts = found->live ? found->live->listener_counts() : std::map<std::string, size_t>{};
      return json_response(req, http::status::ok, session_json(ctx, found->info, found->live && !found->live->has_ended(), counts));
    }
    if (parts.size() == 4 && method == http::verb::post) {
      if (auto action = session::parse_action(parts[3])) return control(ctx, req, client, code, *action);
      if (parts[3] == "publish") return publish(ctx, req, client, code);
    }
    if (parts.size() == 4 && parts[3] == "words" && (get || method == http::verb::put)) {
      return session_words(ctx, req, client, code);
    }
    if (parts.size() == 4 && parts[3] == "script" && method == http::verb::post) {
      return session_script(ctx, req, client, code);
    }
    if (parts.size() == 4 && parts[3] == "history" && get) return history(ctx, req, client, t, code);
    if (parts.size() == 4 && parts[3] == "transcript" && get) return transcript(ctx, req, client, t, code);
    if (parts.size() == 4 && parts[3] == "summary" && get) return summary(ctx, req, client, t, code);
  }
  return error_response(req, core::not_found("no API route " + std::string(req.method_string()) + " " + t.path));
}

}  // namespace parley::transport
