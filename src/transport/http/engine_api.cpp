// SPDX-License-Identifier: GPL-3.0-or-later
#include "transport/http/engine_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "audio/opus_ogg.h"
#include "audio/resampler.h"
#include "audio/wav_io.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "engines/language.h"
#include "engines/mt/translator.h"
#include "pipeline/pipeline.h"
#include "transcript/captions.h"
#include "transport/http/multipart.h"

namespace parley::transport {
namespace {

using nlohmann::json;

constexpr size_t kMaxSpeechInputChars = 4096;  // as OpenAI's speech endpoint
constexpr size_t kMaxTranslateChars = 20000;
constexpr size_t kMaxTranslateItems = 128;
constexpr int kPcmRateHz = 24000;  // OpenAI's "pcm": 24 kHz, 16-bit, mono, little-endian

// The voices OpenAI's clients name; parley speaks them in its default language.
constexpr std::array<std::string_view, 13> kOpenAiVoices = {"alloy", "ash",  "ballad",  "coral",  "echo",
                                                            "fable", "onyx", "nova",    "sage",   "shimmer",
                                                            "verse", "marin", "cedar"};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response json_answer(const Request& req, http::status st, const json& j) {
  return make_response(req, st, "application/json", dump(j));
}

void add_error_headers(Response& res, const core::Status& st) {
  if (st.code() == core::Code::unauthenticated) res.set(http::field::www_authenticate, "Bearer");
  if (st.retry_after_s() > 0) res.set(http::field::retry_after, std::to_string(st.retry_after_s()));
}

// OpenAI's error shape.
Response openai_error(const Request& req, const core::Status& st) {
  const char* type = "invalid_request_error";
  switch (st.code()) {
    case core::Code::unauthenticated: type = "authentication_error"; break;
    case core::Code::permission_denied: type = "permission_error"; break;
    case core::Code::resource_exhausted: type = "rate_limit_error"; break;
    case core::Code::unavailable:
    case core::Code::internal: type = "server_error"; break;
    default: break;
  }
  auto res = json_answer(req, http_status(st.code()),
                         {{"error", {{"message", st.message()}, {"type", type}, {"param", nullptr},
                                     {"code", core::code_name(st.code())}}}});
  add_error_headers(res, st);
  return res;
}

// LibreTranslate's error shape.
Response libre_error(const Request& req, const core::Status& st) {
  auto res = json_answer(req, http_status(st.code()), {{"error", st.message()}});
  add_error_headers(res, st);
  return res;
}

// The engine API's keys: its own, else the operator's; none: open.
core::Status check_key(const ApiContext& ctx, const Request& req, const Client& client,
                       const std::optional<std::string>& body_key = std::nullopt) {
  const auto& hashes = ctx.engine_api_key_hashes.empty() ? ctx.api_key_hashes : ctx.engine_api_key_hashes;
  if (hashes.empty()) return {};
  auto key = bearer(req);
  if (!key && body_key && !body_key->empty()) key = body_key;
  if (!key) {
    return core::unauthenticated("this server's engine API needs an API key: send 'Authorization: Bearer <key>'" +
                                 std::string(body_key ? " or api_key" : ""));
  }
  if (key_in(hashes, *key)) return {};
  if (ctx.guard) {
    if (auto st = ctx.guard->take(client.address, guard::Action::bad_credential); !st) return st;
  }
  return core::permission_denied("this API key is not one of the server's engine API keys");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- POST /v1/audio/transcriptions -------------------------------------------------

class FinalsCollector final : public pipeline::PipelineListener {
 public:
  std::vector<pipeline::Utterance> finals;
  std::optional<core::Status> error;
  void on_final(const pipeline::Utterance& u) override {
    if (!u.text.empty()) finals.push_back(u);
  }
  void on_error(const core::Status& st) override {
    if (!error) error = st;
  }
};

std::string default_stt_language(const engines::stt::Model& stt) {
  const auto langs = stt.languages();
  if (std::find(langs.begin(), langs.end(), "en") != langs.end()) return "en";
  return langs.empty() ? "" : langs.front();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

double seconds(int64_t ms) { return std::round(static_cast<double>(ms)) / 1000.0; }

Response transcribe(const ApiContext& ctx, const Request& req) {
  const auto& engines = ctx.engines;
  if (!engines.stt || !engines.vad) {
    return openai_error(req, core::not_found("this server runs without speech recognition"));
  }
  auto parts = parse_multipart(req[http::field::content_type], req.body());
  if (!parts) return openai_error(req, parts.status());
  const auto* file = find_part(*parts, "file");
  if (file == nullptr) {
    return openai_error(req, core::invalid_argument("the form needs a 'file' part holding the recording"));
  }
  auto field = [&](std::string_view name) -> std::string {
    const auto* p = find_part(*parts, name);
    return p ? std::string(p->body.substr(0, 256)) : std::string();
  };

  std::string language = default_stt_language(*engines.stt);
  if (auto asked = field("language"); !asked.empty()) {
    auto norm = engines::normalize_language(asked);
    const auto langs = engines.stt->languages();
    if (!norm || std::find(langs.begin(), langs.end(), *norm) == langs.end()) {
      return openai_error(req, core::invalid_argument("no speech recogniser for language '" + asked.substr(0, 16) +
                                                      "' here; recognisable: " + joined(langs)));
    }
    language = *norm;
  }
  const std::string format = field("response_format").empty() ? "json" : lower(field("response_format"));
  if (format != "json" && format != "text" && format != "srt" && format != "vtt" && format != "verbose_json") {
    return openai_error(req, core::invalid_argument("response_format '" + format.substr(0, 16) +
                                                    "' is not one of json, text, srt, vtt, verbose_json"));
  }
  bool want_words = false;
  bool want_segments = false;
  for (const auto& p : *parts) {
    if (p.name == "timestamp_granularities[]" || p.name == "timestamp_granularities") {
      want_words |= p.body == "word";
      want_segments |= p.body == "segment";
    }
  }
  if (!want_words && !want_segments) want_segments = true;  // OpenAI's default

  const std::string what = "the uploaded file" + (file->filename.empty() ? "" : " '" + file->filename.substr(0, 64) + "'");
  // Decoding stops at the limit: a small compressed file may hold hours.
  auto decoded = audio::decode_audio(file->body, what, ctx.engine_api_max_audio_s);
  if (!decoded) return openai_error(req, decoded.status());
  audio::MonoPcm pcm = std::move(*decoded);
  if (pcm.sample_rate_hz != audio::kPipelineRateHz) {
    auto r = audio::resample(pcm, audio::kPipelineRateHz);
    if (!r) return openai_error(req, r.status());
    pcm = std::move(*r);
  }

  pipeline::PipelineConfig pc;
  pc.source_language = language;
  pc.synthesize = false;
  pc.partial_interval_ms = 1 << 30;  // finals only
  FinalsCollector collector;
  auto pipe = pipeline::SpeakerPipeline::create(engines, pc, collector);
  if (!pipe) return openai_error(req, pipe.status());
  const size_t block = audio::kPipelineRateHz / 10;
  for (size_t off = 0; off < pcm.samples.size(); off += block) {
    const size_t n = std::min(block, pcm.samples.size() - off);
    if (auto st = (*pipe)->push_audio(std::span<const float>(pcm.samples).subspan(off, n)); !st) {
      return openai_error(req, st);
    }
  }
  (*pipe)->finish();
  if (collector.error && collector.finals.empty()) {
    return openai_error(req, core::unavailable("the recogniser failed: " + collector.error->message()));
  }

  std::string text;
  for (const auto& u : collector.finals) text += (text.empty() ? "" : " ") + u.text;
  if (format == "text") return make_response(req, http::status::ok, "text/plain; charset=utf-8", text + "\n");
  if (format == "srt" || format == "vtt") {
    std::vector<transcript::Cue> cues;
    for (const auto& u : collector.finals) cues.push_back({u.start_ms, u.end_ms, u.text});
    if (format == "srt") return make_response(req, http::status::ok, "application/x-subrip; charset=utf-8", transcript::to_srt(cues));
    return make_response(req, http::status::ok, "text/vtt; charset=utf-8", transcript::to_webvtt(cues));
  }
  const double duration = std::round(pcm.duration_s() * 1000.0) / 1000.0;
  const json usage = {{"type", "duration"}, {"seconds", static_cast<int64_t>(std::ceil(pcm.duration_s()))}};
  if (format == "json") return json_answer(req, http::status::ok, {{"text", text}, {"usage", usage}});

  json out = {{"task", "transcribe"},
              {"language", lower(engines::language_name(language))},
              {"duration", duration},
              {"text", text},
              {"usage", usage}};
  if (want_segments) {
    json segments = json::array();
    for (size_t i = 0; i < collector.finals.size(); ++i) {
      const auto& u = collector.finals[i];
      segments.push_back({{"id", i},
                          {"seek", 0},
                          {"start", seconds(u.start_ms)},
                          {"end", seconds(u.end_ms)},
                          {"text", u.text},
                          {"tokens", json::array()},
                          {"temperature", 0.0},
                          {"avg_logprob", 0.0},
                          {"compression_ratio", 0.0},
                          {"no_speech_prob", 0.0}});
    }
    out["segments"] = std::move(segments);
  }
  if (want_words) {
    json words = json::array();
    for (const auto& u : collector.finals) {
      for (const auto& w : u.word_times) {
        words.push_back({{"word", w.text}, {"start", seconds(w.start_ms)}, {"end", seconds(w.end_ms)}});
      }
    }
    out["words"] = std::move(words);
  }
  return json_answer(req, http::status::ok, out);
}

// ---- POST /v1/audio/speech ---------------------------------------------------------

// The language a `voice` asks for: a language code with a voice here, one of
// OpenAI's voice names (the default language), or an engine voice's own name.
core::Result<std::string> voice_language(const engines::tts::Model& tts, const std::string& voice) {
  const auto voices = tts.voices();
  if (voices.empty()) return core::not_found("this server has no voices");
  auto has = [&](const std::string& lang) {
    return std::any_of(voices.begin(), voices.end(), [&](const auto& v) { return v.language == lang; });
  };
  if (auto lang = engines::normalize_language(voice); lang && has(*lang)) return *lang;
  if (voice.empty() || std::find(kOpenAiVoices.begin(), kOpenAiVoices.end(), lower(voice)) != kOpenAiVoices.end()) {
    return has("en") ? std::string("en") : voices.front().language;
  }
  for (const auto& v : voices) {
    if (v.name == voice) return v.language;
  }
  std::vector<std::string> langs;
  for (const auto& v : voices) {
    if (std::find(langs.begin(), langs.end(), v.language) == langs.end()) langs.push_back(v.language);
  }
  return core::invalid_argument("unknown voice '" + voice.substr(0, 32) +
                                "'; give a language code (" + joined(langs) + ") or an OpenAI voice name such as alloy");
}

Response speak(const ApiContext& ctx, const Request& req) {
  if (!ctx.engines.tts) return openai_error(req, core::not_found("this server runs without speech synthesis"));
  json body;
  try {
    body = json::parse(req.body());
  } catch (const json::exception&) {
    return openai_error(req, core::invalid_argument("the body must be JSON: {\"model\", \"input\", \"voice\"}"));
  }
  if (!body.is_object()) return openai_error(req, core::invalid_argument("the body must be a JSON object"));
  auto text_of = [&](const char* key) -> std::optional<std::string> {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto input = text_of("input");
  const auto voice = text_of("voice");
  const auto format_in = text_of("response_format");
  if (!input || !voice || !format_in) {
    return openai_error(req, core::invalid_argument("input, voice and response_format must be strings"));
  }
  if (input->find_first_not_of(" \t\r\n") == std::string::npos) {
    return openai_error(req, core::invalid_argument("'input' is required: the text to speak (it has none)"));
  }
  if (core::utf8_length(*input) > kMaxSpeechInputChars) {
    return openai_error(req, core::invalid_argument("'input' is longer than " + std::to_string(kMaxSpeechInputChars) +
                                                    " characters; split it"));
  }
  double speed = 1.0;
  if (auto it = body.find("speed"); it != body.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() >= 0.25 && it->get<double>() <= 4.0)) {
      return openai_error(req, core::invalid_argument("speed must be a number from 0.25 to 4.0 (1.0: the voice's own rate)"));
    }
    speed = it->get<double>();
  }
  const std::string format = format_in->empty() ? "mp3" : lower(*format_in);
  if (format != "mp3" && format != "opus" && format != "flac" && format != "wav" && format != "pcm") {
    return openai_error(req, core::invalid_argument("response_format '" + format.substr(0, 16) +
                                                    "' is not offered here; choose mp3, opus, flac, wav or pcm"));
  }
  auto language = voice_language(*ctx.engines.tts, *voice);
  if (!language) return openai_error(req, language.status());
  auto stream = ctx.engines.tts->open_stream(*language);
  if (!stream) return openai_error(req, stream.status());
  (*stream)->set_rate(speed);  // engines clamp it to what they can say (espeak-ng: 0.5-2)
  auto speech = engines::tts::synthesize_all(**stream, *input);
  if (!speech) return openai_error(req, speech.status());
  const audio::MonoPcm& pcm = speech->audio;

  std::string bytes;
  std::string type;
  if (format == "wav") {
    bytes = audio::encode_wav16(pcm);
    type = "audio/wav";
  } else if (format == "pcm") {
    auto at24 = pcm.sample_rate_hz == kPcmRateHz ? core::Result<audio::MonoPcm>(pcm) : audio::resample(pcm, kPcmRateHz);
    if (!at24) return openai_error(req, at24.status());
    for (int16_t s : audio::to_pcm16(at24->samples)) {
      bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) & 0xFF));
      bytes.push_back(static_cast<char>(static_cast<uint16_t>(s) >> 8));
    }
    type = "audio/pcm";
  } else if (format == "opus") {
    auto ogg = audio::encode_ogg_opus(pcm, 1);
    if (!ogg) return openai_error(req, ogg.status());
    bytes = std::move(*ogg);
    type = "audio/ogg; codecs=opus";
  } else {
    auto encoded = audio::encode_audio(pcm, format);
    if (!encoded) return openai_error(req, encoded.status());
    bytes = std::move(*encoded);
    type = format == "mp3" ? "audio/mpeg" : "audio/flac";
  }
  auto res = make_response(req, http::status::ok, type, std::move(bytes));
  res.set("X-Parley-Language", *language);
  res.set("X-Parley-Engine", ctx.engines.tts->engine_for(*language));
  return res;
}

Response models(const Request& req) {
  json data = json::array();
  for (const char* id : {"parley-stt", "parley-tts"}) {
    data.push_back({{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "parley"}});
  }
  return json_answer(req, http::status::ok, {{"object", "list"}, {"data", data}});
}

// ---- LibreTranslate: POST /translate, GET /languages ------------------------------

// The request's fields, from JSON or an HTML form; q may be an array.
struct TranslateFields {
  std::vector<std::string> q;
  bool q_is_array = false;
  std::string source, target, format, api_key;
};

core::Result<TranslateFields> translate_fields(const Request& req) {
  TranslateFields f;
  const auto type = lower(req[http::field::content_type]);
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0 || type.rfind("multipart/form-data", 0) == 0) {
    std::vector<std::pair<std::string, std::string>> fields;
    if (type[0] == 'm') {
      auto parts = parse_multipart(req[http::field::content_type], req.body());
      if (!parts) return parts.status();
      for (const auto& p : *parts) fields.emplace_back(p.name, std::string(p.body));
    } else {
      std::string_view body = req.body();
      while (!body.empty()) {
        const auto amp = body.find('&');
        const auto pair = body.substr(0, amp);
        const auto eq = pair.find('=');
        fields.emplace_back(url_decode(pair.substr(0, eq)),
                            eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1)));
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
      }
    }
    for (auto& [k, v] : fields) {
      if (k == "q") f.q.push_back(std::move(v));
      if (k == "source") f.source = v;
      if (k == "target") f.target = v;
      if (k == "format") f.format = v;
      if (k == "api_key" || k == "apiKey") f.api_key = v;
    }
    f.q_is_array = f.q.size() > 1;
    for (const auto& q : f.q) {
      if (!core::is_valid_utf8(q)) return core::invalid_argument("Invalid request: q is not UTF-8 text");
    }
    return f;
  }
  json body;
  try {
    body = json::parse(req.body());
  } catch (const json::exception&) {
    return core::invalid_argument("the body must be JSON {\"q\", \"source\", \"target\"} or an HTML form");
  }
  if (!body.is_object()) return core::invalid_argument("the body must be a JSON object");
  auto str = [&](const char* key, std::string& out) -> core::Status {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return {};
    if (!it->is_string()) return core::invalid_argument(std::string("'") + key + "' must be a string");
    out = it->get<std::string>();
    return {};
  };
  // api_key is LibreTranslate's own field; apiKey is what its npm client sends.
  for (auto [key, out] : {std::pair{"source", &f.source}, {"target", &f.target}, {"format", &f.format},
                          {"api_key", &f.api_key}, {"apiKey", &f.api_key}}) {
    if (auto st = str(key, *out); !st) return st;
  }
  auto q = body.find("q");
  if (q != body.end() && q->is_string()) {
    f.q.push_back(q->get<std::string>());
  } else if (q != body.end() && q->is_array()) {
    f.q_is_array = true;
    for (const auto& item : *q) {
      if (!item.is_string()) return core::invalid_argument("every item of 'q' must be a string");
      f.q.push_back(item.get<std::string>());
    }
  } else if (q != body.end() && !q->is_null()) {
    return core::invalid_argument("'q' must be a string or an array of strings");
  }
  return f;
}

constexpr size_t kMaxPieceBytes = 2000;  // what one engine call takes; longer lines go by sentence

// A long line cut after sentence ends (or, failing that, spaces) into
// pieces of at most kMaxPieceBytes, each ending where the next begins.
std::vector<std::string> pieces(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (line.size() - start > kMaxPieceBytes) {
    size_t cut = std::string::npos;
    for (size_t i = start + kMaxPieceBytes; i > start + kMaxPieceBytes / 4; --i) {
      if (line[i] == ' ' && (line[i - 1] == '.' || line[i - 1] == '!' || line[i - 1] == '?')) {
        cut = i;
        break;
      }
    }
    if (cut == std::string::npos) cut = line.rfind(' ', start + kMaxPieceBytes);
    if (cut == std::string::npos || cut <= start) {
      cut = start + kMaxPieceBytes;
      while (cut > start && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // whole characters
    }
    out.push_back(line.substr(start, cut - start));
    start = cut;
  }
  out.push_back(line.substr(start));
  return out;
}

// Translates line by line, keeping blank lines and the text's line breaks.
core::Result<std::string> translate_text(engines::mt::Translator& tr, const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const auto eol = text.find('\n', start);
    const std::string line = text.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    const bool blank = line.find_first_not_of(" \t\r") == std::string::npos;
    if (blank) {
      out += line;
    } else {
      std::string joined;
      for (const auto& piece : pieces(line)) {
        if (piece.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto t = tr.translate(piece);
        if (!t) return t.status();
        // A piece cut at a space starts with it; one cut mid-word (scripts
        // without spaces) joins its neighbour directly.
        joined += (joined.empty() || piece.front() != ' ' ? "" : " ") + t->text;
      }
      out += joined;
    }
    if (eol == std::string::npos) break;
    out += '\n';
    start = eol + 1;
  }
  return out;
}

Response translate(const ApiContext& ctx, const Request& req, const Client& client) {
  auto f = translate_fields(req);
  if (!f) return libre_error(req, f.status());
  if (auto st = check_key(ctx, req, client, f->api_key); !st) return libre_error(req, st);
  if (!ctx.engines.router) return libre_error(req, core::not_found("this server runs without translation"));
  if (f->q.empty()) return libre_error(req, core::invalid_argument("Invalid request: missing q parameter"));
  if (f->q.size() > kMaxTranslateItems) {
    return libre_error(req, core::invalid_argument("at most " + std::to_string(kMaxTranslateItems) + " texts a request"));
  }
  size_t chars = 0;
  for (const auto& q : f->q) chars += core::utf8_length(q);
  if (chars > kMaxTranslateChars) {
    return libre_error(req, core::invalid_argument("Invalid request: request (" + std::to_string(chars) +
                                                   ") exceeds text limit (" + std::to_string(kMaxTranslateChars) + ")"));
  }
  if (f->source.empty()) return libre_error(req, core::invalid_argument("Invalid request: missing source parameter"));
  if (f->target.empty()) return libre_error(req, core::invalid_argument("Invalid request: missing target parameter"));
  if (f->source == "auto") {
    return libre_error(req, core::invalid_argument(
                                "this server does not detect languages: name the source language (see GET /languages)"));
  }
  if (!f->format.empty() && f->format != "text") {
    return libre_error(req, core::invalid_argument("format '" + f->format.substr(0, 16) + "' is not offered here; send plain text"));
  }
  const auto from = engines::normalize_language(f->source);
  const auto to = engines::normalize_language(f->target);
  if (!from) return libre_error(req, core::invalid_argument(f->source.substr(0, 16) + " is not supported"));
  if (!to) return libre_error(req, core::invalid_argument(f->target.substr(0, 16) + " is not supported"));

  std::vector<std::string> out;
  if (*from == *to) {
    out = f->q;
  } else {
    auto tr = engines::mt::Translator::open(*ctx.engines.router, *from, *to, nullptr, ctx.engines.mt_cache);
    if (!tr) {
      const auto& st = tr.status();
      return libre_error(req, st.code() == core::Code::not_found ? core::invalid_argument(st.message()) : st);
    }
    for (const auto& q : f->q) {
      auto t = translate_text(**tr, q);
      if (!t) return libre_error(req, t.status());
      out.push_back(std::move(*t));
    }
  }
  json answer = {{"translatedText", f->q_is_array ? json(out) : json(out.front())}};
  auto res = json_answer(req, http::status::ok, answer);
  return res;
}

Response languages(const ApiContext& ctx, const Request& req) {
  json out = json::array();
  if (ctx.engines.router) {
    for (const auto& from : ctx.engines.router->sources()) {
      json targets = json::array();
      for (const auto& [to, route] : ctx.engines.router->targets_from(from)) targets.push_back(to);
      out.push_back({{"code", from}, {"name", engines::language_name(from)}, {"targets", targets}});
    }
  }
  return json_answer(req, http::status::ok, out);
}

std::optional<EngineEndpoint> endpoint_of(std::string_view path) {
  if (path == "/v1/audio/transcriptions") return EngineEndpoint::transcriptions;
  if (path == "/v1/audio/speech" || path == "/v1/models") return EngineEndpoint::speech;
  if (path == "/translate") return EngineEndpoint::translate;
  if (path == "/languages") return EngineEndpoint::languages;
  return std::nullopt;
}

Response route(const ApiContext& ctx, const Request& req, const Client& client, std::string_view path) {
  const auto method = req.method();
  const bool post = method == http::verb::post;
  const bool get = method == http::verb::get || method == http::verb::head;
  if (path == "/translate") {
    return post ? translate(ctx, req, client) : libre_error(req, core::invalid_argument("use POST /translate"));
  }
  if (path == "/languages") {
    return get ? languages(ctx, req) : libre_error(req, core::invalid_argument("use GET /languages"));
  }
  if (auto st = check_key(ctx, req, client); !st) return openai_error(req, st);
  if (path == "/v1/models") return get ? models(req) : openai_error(req, core::invalid_argument("use GET /v1/models"));
  if (!post) return openai_error(req, core::invalid_argument("use POST " + std::string(path)));
  if (path == "/v1/audio/transcriptions") return transcribe(ctx, req);
  return speak(ctx, req);
}

}  // namespace

bool is_engine_api_target(std::string_view path) { return endpoint_of(path).has_value(); }

bool is_engine_upload_target(std::string_view path) { return path == "/v1/audio/transcriptions"; }

core::Status check_engine_bearer(const ApiContext& ctx, const Request& req, const Client& client) {
  const Target t = parse_target(req.target());
  if (t.path.rfind("/v1/", 0) != 0) return {};  // LibreTranslate routes may carry the key in the body
  return check_key(ctx, req, client);
}

Response engine_refusal(const Request& req, const core::Status& st) {
  const Target t = parse_target(req.target());
  return t.path == "/translate" || t.path == "/languages" ? libre_error(req, st) : openai_error(req, st);
}

Response handle_engine_request(const ApiContext& ctx, const Request& req, const Client& client) {
  const Target t = parse_target(req.target());
  const auto endpoint = endpoint_of(t.path);
  if (!endpoint) return openai_error(req, core::not_found("no engine API route " + t.path.substr(0, 64)));
  const int64_t t0 = core::now_us();
  Response res;
  try {
    if (ctx.draining != nullptr && ctx.draining->load()) {
      res = engine_refusal(req, core::unavailable("the server is shutting down; send this to another node"));
    } else {
      res = route(ctx, req, client, t.path);
    }
  } catch (const std::exception& e) {
    res = openai_error(req, core::internal_error(std::string("the engine failed on this request: ") + e.what()));
  }
  if (ctx.metrics != nullptr) {
    auto& s = ctx.metrics->engine_api[static_cast<size_t>(*endpoint)];
    ++s.requests;
    if (res.result_int() >= 400) ++s.errors;
    s.seconds.observe(static_cast<double>(core::now_us() - t0) / 1e6);
  }
  return res;
}

Response engine_busy_response(const ApiContext& ctx, const Request& req) {
  const Target t = parse_target(req.target());
  if (auto endpoint = endpoint_of(t.path); endpoint && ctx.metrics != nullptr) {
    ++ctx.metrics->engine_api[static_cast<size_t>(*endpoint)].busy;
  }
  const auto st = core::unavailable("every engine worker of this server is busy; retry in a second");
  auto res = t.path == "/translate" || t.path == "/languages" ? libre_error(req, st) : openai_error(req, st);
  res.set(http::field::retry_after, "1");
  return res;
}

}  // namespace parley::transport
