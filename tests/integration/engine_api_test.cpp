// SPDX-License-Identifier: GPL-3.0-or-later
// The engine APIs a real `parley serve` offers other programs: OpenAI's
// /v1/audio/transcriptions and /v1/audio/speech, LibreTranslate's /translate
// and /languages. Real recordings (pocketsphinx-testdata's LibriVox files)
// for accuracy; espeak-ng speech only to check that audio formats decode.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audio/resampler.h"
#include "audio/wav_io.h"
#include "support/librivox.h"
#include "support/server_process.h"
#include "transcript/wer.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::http_request;
using testing::ServerProcess;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A multipart/form-data body as OpenAI's clients send it.
struct Form {
  std::string boundary = "----parley-test-7d91f";
  std::string body;
  Form& field(const std::string& name, const std::string& value) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    return *this;
  }
  Form& file(const std::string& name, const std::string& filename, const std::string& bytes) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n";
    return *this;
  }
  std::string type() const { return "multipart/form-data; boundary=" + boundary; }
  std::string done() const { return body + "--" + boundary + "--\r\n"; }
};

testing::HttpResult transcribe(unsigned short port, const Form& form, const std::string& key = "") {
  return http_request(port, "POST", "/v1/audio/transcriptions", form.done(), key, form.type());
}

std::string error_message(const testing::HttpResult& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "";
  const auto& e = j["error"];
  if (e.is_string()) return e.get<std::string>();                  // LibreTranslate
  return e.value("message", std::string());                       // OpenAI
}

class EngineApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = (fs::temp_directory_path() / ("parley-engine-api-" + std::to_string(::getpid()) + ".db")).string();
    server_ = std::make_unique<ServerProcess>(db_, std::vector<std::string>{"--rtc", "off"});
  }
  static void TearDownTestSuite() {
    server_.reset();
    fs::remove(db_);
  }
  static unsigned short port() { return server_->port(); }
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string db_;
};

TEST_F(EngineApi, TranscribesRealRecordingsAsAccuratelyAsTheEmbeddedPipeline) {
  auto recs = testing::librivox_recordings();
  ASSERT_FALSE(recs.empty()) << "pocketsphinx-testdata is not installed";
  transcript::WerCounts total;
  for (const auto& rec : recs) {
    auto r = transcribe(port(), Form().file("file", fs::path(rec.wav_path).filename(), slurp(rec.wav_path))
                                    .field("model", "whisper-1").field("language", "en"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    auto j = json::parse(r.body);
    const auto text = j.at("text").get<std::string>();
    std::printf("ref: %s\nhyp: %s\n", rec.reference.c_str(), text.c_str());
    total += transcript::word_errors(transcript::normalise_words(rec.reference), transcript::normalise_words(text));
  }
  std::printf("/v1/audio/transcriptions on %zu LibriVox files: WER %.1f %% over %zu words\n", recs.size(),
              100 * total.wer(), total.n_reference);
  // Each request is a new, cold speaker: the bound of stt_accuracy_test's cold pass.
  EXPECT_LE(total.wer(), 0.45);
}

TEST_F(EngineApi, VerboseJsonGivesSegmentsAndWordsInsideTheRecording) {
  auto recs = testing::librivox_recordings();
  ASSERT_FALSE(recs.empty());
  const auto& rec = recs.front();
  auto r = transcribe(port(), Form().file("file", "a.wav", slurp(rec.wav_path)).field("model", "parley-stt")
                                  .field("response_format", "verbose_json")
                                  .field("timestamp_granularities[]", "word")
                                  .field("timestamp_granularities[]", "segment"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j.at("task"), "transcribe");
  EXPECT_EQ(j.at("language"), "english");
  const double duration = j.at("duration").get<double>();
  auto pcm = audio::read_audio_file(rec.wav_path);
  ASSERT_TRUE(pcm.is_ok());
  EXPECT_NEAR(duration, pcm->duration_s(), 0.01);
  ASSERT_FALSE(j.at("segments").empty());
  double last_end = 0;
  for (const auto& s : j.at("segments")) {
    EXPECT_GE(s.at("start").get<double>(), last_end - 1e-9);
    EXPECT_LT(s.at("start").get<double>(), s.at("end").get<double>());
    EXPECT_LE(s.at("end").get<double>(), duration + 0.05);
    last_end = s.at("end").get<double>();
  }
  ASSERT_FALSE(j.at("words").empty());
  double last_start = 0;
  for (const auto& w : j.at("words")) {
    EXPECT_FALSE(w.at("word").get<std::string>().empty());
    EXPECT_GE(w.at("start").get<double>(), last_start);
    EXPECT_LE(w.at("start").get<double>(), w.at("end").get<double>());
    EXPECT_LE(w.at("end").get<double>(), duration + 0.05);
    last_start = w.at("start").get<double>();
  }
  // The words are the text's words.
  EXPECT_EQ(j.at("words").size(), transcript::normalise_words(j.at("text").get<std::string>()).size());

  auto srt = transcribe(port(), Form().file("file", "a.wav", slurp(rec.wav_path)).field("response_format", "srt"));
  ASSERT_EQ(srt.status, 200);
  EXPECT_EQ(srt.body.rfind("1\n00:00:", 0), 0u) << srt.body;
  auto text = transcribe(port(), Form().file("file", "a.wav", slurp(rec.wav_path)).field("response_format", "text"));
  ASSERT_EQ(text.status, 200);
  EXPECT_EQ(text.content_type.rfind("text/plain", 0), 0u);
  EXPECT_EQ(text.body, j.at("text").get<std::string>() + "\n");
}

TEST_F(EngineApi, AcceptsFlacAtAnotherSampleRate) {
  auto recs = testing::librivox_recordings();
  ASSERT_FALSE(recs.empty());
  const auto& rec = recs.front();
  auto pcm = audio::read_audio_file(rec.wav_path);
  ASSERT_TRUE(pcm.is_ok());
  auto at44 = audio::resample(*pcm, 44100);
  ASSERT_TRUE(at44.is_ok());
  auto flac = audio::encode_audio(*at44, "flac");
  ASSERT_TRUE(flac.is_ok()) << flac.status().message();
  auto from_flac = transcribe(port(), Form().file("file", "a.flac", *flac));
  auto from_wav = transcribe(port(), Form().file("file", "a.wav", slurp(rec.wav_path)));
  ASSERT_EQ(from_flac.status, 200) << from_flac.body;
  ASSERT_EQ(from_wav.status, 200) << from_wav.body;
  const auto ref = transcript::normalise_words(rec.reference);
  const auto flac_wer = transcript::word_errors(ref, transcript::normalise_words(json::parse(from_flac.body)["text"].get<std::string>())).wer();
  const auto wav_wer = transcript::word_errors(ref, transcript::normalise_words(json::parse(from_wav.body)["text"].get<std::string>())).wer();
  std::printf("flac 44.1 kHz: WER %.1f %%, wav 16 kHz: %.1f %%\n", 100 * flac_wer, 100 * wav_wer);
  EXPECT_LE(flac_wer, wav_wer + 0.15) << "resampled upload recognised much worse";
}

TEST_F(EngineApi, RefusesBadUploadsWithMessagesThatSayWhatToDo) {
  auto no_file = transcribe(port(), Form().field("model", "whisper-1"));
  EXPECT_EQ(no_file.status, 400);
  EXPECT_NE(error_message(no_file).find("'file'"), std::string::npos) << no_file.body;

  auto garbage = transcribe(port(), Form().file("file", "notes.txt", "this is not audio at all"));
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(error_message(garbage).find("not a readable audio file"), std::string::npos) << garbage.body;

  auto recs = testing::librivox_recordings();
  ASSERT_FALSE(recs.empty());
  auto german = transcribe(port(), Form().file("file", "a.wav", slurp(recs.front().wav_path)).field("language", "de"));
  EXPECT_EQ(german.status, 400);
  EXPECT_NE(error_message(german).find("recognisable: en"), std::string::npos) << german.body;

  auto format = transcribe(port(), Form().file("file", "a.wav", slurp(recs.front().wav_path)).field("response_format", "xml"));
  EXPECT_EQ(format.status, 400);

  auto not_form = http_request(port(), "POST", "/v1/audio/transcriptions", "{}", "", "application/json");
  EXPECT_EQ(not_form.status, 400);
  EXPECT_NE(error_message(not_form).find("multipart/form-data"), std::string::npos) << not_form.body;

  auto cut = Form().file("file", "a.wav", slurp(recs.front().wav_path)).done();
  cut.resize(cut.size() / 2);
  auto truncated = http_request(port(), "POST", "/v1/audio/transcriptions", cut, "", Form().type());
  EXPECT_EQ(truncated.status, 400);

  // The server still answers.
  EXPECT_EQ(http_request(port(), "GET", "/healthz").status, 200);
}

TEST_F(EngineApi, SpeaksInEveryFormatAndVoice) {
  struct Case {
    std::string format, type;
  };
  for (const Case& c : {Case{"wav", "audio/wav"}, Case{"mp3", "audio/mpeg"}, Case{"flac", "audio/flac"}}) {
    auto r = http_request(port(), "POST", "/v1/audio/speech",
                          json{{"model", "tts-1"}, {"input", "The next session starts at ten o'clock."},
                               {"voice", "alloy"}, {"response_format", c.format}}.dump());
    ASSERT_EQ(r.status, 200) << c.format << ": " << r.body;
    EXPECT_EQ(r.content_type, c.type);
    auto pcm = audio::decode_audio(r.body, c.format + " answer");
    ASSERT_TRUE(pcm.is_ok()) << c.format << ": " << pcm.status().message();
    EXPECT_GT(pcm->duration_s(), 1.0) << c.format;
    EXPECT_LT(pcm->duration_s(), 6.0) << c.format;
  }
  // pcm: 24 kHz, 16-bit, mono, no header.
  auto raw = http_request(port(), "POST", "/v1/audio/speech",
                          json{{"model", "tts-1"}, {"input", "Good morning."}, {"voice", "es"}, {"response_format", "pcm"}}.dump());
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(raw.body.size() % 2, 0u);
  EXPECT_GT(raw.body.size(), 24000u * 2 / 2) << "at least half a second";
  EXPECT_NE(raw.body.substr(0, 4), "RIFF");

  // What is spoken can be recognised again (espeak-ng speech: plumbing, not
  // accuracy: a cold recogniser on a synthetic voice gets many words wrong).
  const std::string said = "The meeting will start at ten in the morning and end before lunch.";
  auto wav = http_request(port(), "POST", "/v1/audio/speech",
                          json{{"input", said}, {"voice", "en"}, {"response_format", "wav"}}.dump());
  ASSERT_EQ(wav.status, 200);
  auto heard = transcribe(port(), Form().file("file", "speech.wav", wav.body));
  ASSERT_EQ(heard.status, 200) << heard.body;
  const auto counts = transcript::word_errors(transcript::normalise_words(said),
                                              transcript::normalise_words(json::parse(heard.body)["text"].get<std::string>()));
  EXPECT_LT(counts.wer(), 0.8) << heard.body;

  auto bad_voice = http_request(port(), "POST", "/v1/audio/speech", json{{"input", "Hi"}, {"voice", "klingon-9"}}.dump());
  EXPECT_EQ(bad_voice.status, 400);
  EXPECT_NE(error_message(bad_voice).find("language code"), std::string::npos) << bad_voice.body;
  auto aac = http_request(port(), "POST", "/v1/audio/speech",
                          json{{"input", "Hi"}, {"voice", "alloy"}, {"response_format", "aac"}}.dump());
  EXPECT_EQ(aac.status, 400);
  auto empty = http_request(port(), "POST", "/v1/audio/speech", json{{"input", ""}, {"voice", "alloy"}}.dump());
  EXPECT_EQ(empty.status, 400);
  auto long_input = http_request(port(), "POST", "/v1/audio/speech",
                                 json{{"input", std::string(5000, 'a')}, {"voice", "alloy"}}.dump());
  EXPECT_EQ(long_input.status, 400);
  auto too_fast = http_request(port(), "POST", "/v1/audio/speech", json{{"input", "Hi"}, {"voice", "alloy"}, {"speed", 5.0}}.dump());
  EXPECT_EQ(too_fast.status, 400);
  EXPECT_NE(error_message(too_fast).find("speed"), std::string::npos);
}

TEST_F(EngineApi, SpeedMakesSpeechFaster) {
  const std::string text = "The meeting will start at nine in the morning in the large hall.";
  auto normal = http_request(port(), "POST", "/v1/audio/speech",
                             json{{"input", text}, {"voice", "alloy"}, {"response_format", "pcm"}}.dump());
  auto fast = http_request(port(), "POST", "/v1/audio/speech",
                           json{{"input", text}, {"voice", "alloy"}, {"response_format", "pcm"}, {"speed", 1.5}}.dump());
  ASSERT_EQ(normal.status, 200) << normal.body;
  ASSERT_EQ(fast.status, 200) << fast.body;
  const double ratio = static_cast<double>(fast.body.size()) / static_cast<double>(normal.body.size());
  EXPECT_LT(ratio, 0.85) << "1.5× the rate should say the same in well under the time";
  EXPECT_GT(ratio, 0.5);
}

TEST_F(EngineApi, TranslatesAsLibreTranslate) {
  auto one = http_request(port(), "POST", "/translate",
                          json{{"q", "The meeting starts in the morning."}, {"source", "en"}, {"target", "es"}}.dump());
  ASSERT_EQ(one.status, 200) << one.body;
  auto j = json::parse(one.body);
  const auto es = j.at("translatedText").get<std::string>();
  EXPECT_NE(es.find("reuni"), std::string::npos) << es;  // reunión

  auto many = http_request(port(), "POST", "/translate",
                           json{{"q", {"Good morning.", "Thank you very much."}}, {"source", "en"}, {"target", "fr"}}.dump());
  ASSERT_EQ(many.status, 200) << many.body;
  auto arr = json::parse(many.body).at("translatedText");
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_NE(arr[1].get<std::string>().find("erci"), std::string::npos) << arr;  // Merci

  auto form = http_request(port(), "POST", "/translate", "q=Hello%20friends&source=en&target=es", "",
                           "application/x-www-form-urlencoded");
  ASSERT_EQ(form.status, 200) << form.body;
  auto form_text = json::parse(form.body).at("translatedText").get<std::string>();
  std::transform(form_text.begin(), form_text.end(), form_text.begin(), ::tolower);
  EXPECT_NE(form_text.find("amigos"), std::string::npos) << form.body;

  auto lines = http_request(port(), "POST", "/translate",
                            json{{"q", "Good morning.\n\nThank you."}, {"source", "en"}, {"target", "es"}}.dump());
  ASSERT_EQ(lines.status, 200);
  EXPECT_NE(json::parse(lines.body).at("translatedText").get<std::string>().find("\n\n"), std::string::npos);

  auto auto_source = http_request(port(), "POST", "/translate", json{{"q", "Hi"}, {"source", "auto"}, {"target", "es"}}.dump());
  EXPECT_EQ(auto_source.status, 400);
  EXPECT_NE(error_message(auto_source).find("name the source"), std::string::npos) << auto_source.body;
  auto unknown = http_request(port(), "POST", "/translate", json{{"q", "Hi"}, {"source", "en"}, {"target", "xx"}}.dump());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_FALSE(error_message(unknown).empty()) << unknown.body;
  auto no_q = http_request(port(), "POST", "/translate", json{{"source", "en"}, {"target", "es"}}.dump());
  EXPECT_EQ(no_q.status, 400);
  auto garbage = http_request(port(), "POST", "/translate", "{not json", "", "application/json");
  EXPECT_EQ(garbage.status, 400);

  auto langs = http_request(port(), "GET", "/languages");
  ASSERT_EQ(langs.status, 200);
  bool en_to_es = false;
  for (const auto& l : json::parse(langs.body)) {
    EXPECT_FALSE(l.at("name").get<std::string>().empty());
    if (l.at("code") == "en") {
      for (const auto& t : l.at("targets")) en_to_es |= t == "es";
    }
  }
  EXPECT_TRUE(en_to_es) << langs.body;
}

TEST_F(EngineApi, CountsRequestsInMetrics) {
  auto before = testing::metric(port(), "parley_engine_api_requests_total{endpoint=\"translate\"}");
  ASSERT_GE(before, 0);
  http_request(port(), "POST", "/translate", json{{"q", "Hello"}, {"source", "en"}, {"target", "es"}}.dump());
  http_request(port(), "POST", "/translate", json{{"q", "Hello"}, {"source", "en"}, {"target", "zz"}}.dump());
  EXPECT_EQ(testing::metric(port(), "parley_engine_api_requests_total{endpoint=\"translate\"}"), before + 2);
  EXPECT_GE(testing::metric(port(), "parley_engine_api_errors_total{endpoint=\"translate\"}"), 1);
  EXPECT_GE(testing::metric(port(), "parley_engine_api_seconds_count{endpoint=\"translate\"}"), before + 2);
}

// An outside audit's findings, each a regression test.
TEST_F(EngineApi, TextThatCouldBreakTheEnginesIsRefusedOrMadeHarmless) {
  // U+FFFF is valid JSON; it once put the shared Apertium pipeline one answer behind for everyone.
  auto marker = http_request(port(), "POST", "/translate", R"({"q": "\uffff", "source": "en", "target": "es"})");
  EXPECT_EQ(marker.status, 200) << marker.body;
  auto next = http_request(port(), "POST", "/translate",
                           json{{"q", "I have a small house."}, {"source", "en"}, {"target", "es"}}.dump());
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(json::parse(next.body)["translatedText"], "Tengo una casa pequeña.");
  auto broken = http_request(port(), "POST", "/translate", "q=Green+%C3tree&source=en&target=es", "",
                             "application/x-www-form-urlencoded");
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(error_message(broken).find("UTF-8"), std::string::npos) << broken.body;
  auto blank = http_request(port(), "POST", "/v1/audio/speech", json{{"input", "   "}, {"voice", "alloy"}}.dump());
  EXPECT_EQ(blank.status, 400);
  // 3,000 characters of two bytes each are within OpenAI's 4,096-character limit.
  std::string accents;
  for (int i = 0; i < 3000; ++i) accents += "é";
  auto long_chars = http_request(port(), "POST", "/v1/audio/speech",
                                 json{{"input", accents}, {"voice", "fr"}, {"response_format", "wav"}}.dump());
  EXPECT_EQ(long_chars.status, 200) << long_chars.body.substr(0, 200);
}

// A small compressed file that holds far more audio than allowed is refused
// without decoding it all (it once took the server to 1.5 GB).
TEST(EngineApiLimits, AudioLongerThanTheLimitIsRefusedBeforeItIsDecoded) {
  const std::string db = (fs::temp_directory_path() / ("parley-engine-bomb-" + std::to_string(::getpid()) + ".db")).string();
  ServerProcess server(db, {"--rtc", "off", "--engine-api-max-audio-s", "60"});
  audio::MonoPcm quiet{std::vector<float>(48000 * 600, 0.0F), 48000};  // 10 minutes of silence
  auto flac = audio::encode_audio(quiet, "flac");
  ASSERT_TRUE(flac.is_ok());
  ASSERT_LT(flac->size(), 2u << 20) << "it compresses";
  quiet.samples = {};
  const double rss_before = testing::metric(server.port(), "process_resident_memory_bytes");
  auto r = transcribe(server.port(), Form().file("file", "long.flac", *flac));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_message(r).find("longer than 60 s"), std::string::npos) << r.body;
  const double rss_after = testing::metric(server.port(), "process_resident_memory_bytes");
  std::printf("RSS %.0f MB before, %.0f MB after a 10-minute FLAC of %zu bytes\n", rss_before / 1e6, rss_after / 1e6,
              flac->size());
  EXPECT_LT(rss_after - rss_before, 60e6) << "decoding stopped at the limit";
  fs::remove(db);
}

TEST(EngineApiLimits, KeysUploadSizeAndSwitchingOff) {
  const std::string db = (fs::temp_directory_path() / ("parley-engine-keys-" + std::to_string(::getpid()) + ".db")).string();
  {
    ServerProcess server(db, {"--rtc", "off", "--engine-api-keys", "engine-secret", "--engine-api-max-upload-mb", "1"});
    const auto body = json{{"q", "Hello"}, {"source", "en"}, {"target", "es"}}.dump();
    auto none = http_request(server.port(), "POST", "/translate", body);
    EXPECT_EQ(none.status, 401) << none.body;
    EXPECT_NE(error_message(none).find("API key"), std::string::npos);
    auto wrong = http_request(server.port(), "POST", "/translate", body, "not-the-key");
    EXPECT_EQ(wrong.status, 403);
    EXPECT_EQ(http_request(server.port(), "POST", "/translate", body, "engine-secret").status, 200);
    auto in_body = json{{"q", "Hello"}, {"source", "en"}, {"target", "es"}, {"api_key", "engine-secret"}}.dump();
    EXPECT_EQ(http_request(server.port(), "POST", "/translate", in_body).status, 200);
    EXPECT_EQ(http_request(server.port(), "POST", "/v1/audio/speech", json{{"input", "Hi"}, {"voice", "en"}}.dump()).status, 401);
    EXPECT_EQ(http_request(server.port(), "POST", "/v1/audio/speech", json{{"input", "Hi"}, {"voice", "en"}}.dump(),
                           "engine-secret").status, 200);

    // A wrong key is refused from the headers, before the upload is read.
    auto upload = Form().file("file", "a.wav", std::string(512 * 1024, '\0'));
    auto unkeyed = http_request(server.port(), "POST", "/v1/audio/transcriptions", upload.done(), "", upload.type());
    EXPECT_EQ(unkeyed.status, 401) << unkeyed.body;
    EXPECT_EQ(testing::metric(server.port(), "parley_engine_api_requests_total{endpoint=\"transcriptions\"}"), 0)
        << "never queued for a worker";

    // Over the upload limit: 413 before the body is read.
    auto big = Form().file("file", "big.wav", std::string(1536 * 1024, '\0'));
    auto too_big = http_request(server.port(), "POST", "/v1/audio/transcriptions", big.done(), "engine-secret", big.type());
    EXPECT_EQ(too_big.status, 413) << too_big.body;
    // Other routes keep their small limit.
    auto big_json = http_request(server.port(), "POST", "/translate", std::string(200 * 1024, ' '), "engine-secret");
    EXPECT_EQ(big_json.status, 413);
  }
  {
    ServerProcess server(db, {"--rtc", "off", "--engine-api", "off"});
    auto r = http_request(server.port(), "GET", "/languages");
    EXPECT_EQ(r.status, 404);
    EXPECT_NE(r.body.find("--engine-api"), std::string::npos);
  }
  fs::remove(db);
}

}  // namespace
}  // namespace parley
