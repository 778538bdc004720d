// SPDX-License-Identifier: GPL-3.0-or-later
// Live sessions against a real `parley serve` on loopback: REST control,
// WebSocket speaker and listeners, real LibriVox speech streamed in real time.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "audio/pcm.h"
#include "audio/wav_io.h"
#include "session/wire.h"
#include "support/librivox.h"
#include "support/server_process.h"
#include "support/sessions.h"
#include "support/ws_client.h"

namespace parley {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::eventually;
using testing::http_request;
using testing::metric;
using testing::Received;
using testing::ServerProcess;
using testing::Created;
using testing::control;
using testing::create_session;
using testing::join_listener;
using testing::join_speaker;
using testing::temp_db;
using testing::WsClient;

using testing::recording_pcm;
using testing::stream_real_time;

// Speech messages with a real timeline: whole (Ogg Opus audio) or cut after
// the timeline (a listener that chose speech "timeline").
struct SpeechSeen {
  size_t full = 0, timeline_only = 0;
};
SpeechSeen speech_seen(const WsClient& c) {
  SpeechSeen seen;
  for (const auto& m : c.messages()) {
    auto speech = m.binary ? session::wire::parse_speech(m.bytes) : std::nullopt;
    if (!speech || speech->timeline.entries.size() < 3) continue;
    if (speech->ogg.substr(0, 4) == "OggS") ++seen.full;
    if (speech->ogg.empty()) ++seen.timeline_only;
  }
  return seen;
}
size_t count_speech(const WsClient& c) { return speech_seen(c).full; }

class LiveSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(testing::librivox_recordings().empty()) << "install pocketsphinx-testdata";
  }
};



TEST_F(LiveSessionTest, ThreeListenersTwoLanguagesGetPartialsFinalsAndSpeech) {
  // Small kernel buffers, so that a listener that never reads shows up in the
  // server's queue within the test instead of hiding in the kernel.
  ServerProcess server(temp_db("main"), {"--slow-listener-ms", "3000", "--listener-send-buffer", "4096"});
  const auto port = server.port();
  Created s = create_session(port);

  WsClient speaker(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  WsClient es1(port), es2(port), fr(port);
  join_listener(es1, s.code, "es");
  join_listener(es2, s.code, "es");
  join_listener(fr, s.code, "fr");
  // A listener that never reads, with a tiny receive buffer.
  WsClient stuck(port, /*read=*/false, /*receive_buffer_bytes=*/2048);
  join_listener(stuck, s.code, "es");
  for (auto* c : {&es1, &es2, &fr}) ASSERT_TRUE(c->wait_for_type("welcome", 5s));
  ASSERT_TRUE(speaker.wait_for([](const std::vector<Received>& got) {
    for (const auto& m : got) {
      if (!m.binary && m.json.value("type", "") == "listeners" && m.json["total"] == 4) return true;
    }
    return false;
  }, 5s)) << "the speaker sees the listener count";

  ASSERT_EQ(control(port, s, "start"), 200);
  uint32_t seq = 0;
  stream_real_time(speaker, recording_pcm(0, 1.5), seq);

  for (auto* c : {&es1, &es2, &fr}) {
    ASSERT_TRUE(c->wait_for_type("final", 10s)) << "a final caption arrives";
  }
  for (auto* c : {&es1, &es2}) {
    auto finals = c->of_type("final");
    ASSERT_FALSE(finals.empty());
    EXPECT_EQ(finals[0]["language"], "es");
    EXPECT_NE(finals[0]["text"], finals[0]["source"]) << "translated, not the source";
    EXPECT_FALSE(c->of_type("partial").empty()) << "partials before the final";
    EXPECT_TRUE(c->wait_for([&](const auto&) { return count_speech(*c) >= 1; }, 10s)) << "translated speech";
  }
  auto fr_finals = fr.of_type("final");
  EXPECT_EQ(fr_finals[0]["language"], "fr");
  EXPECT_NE(fr_finals[0]["text"], es1.of_type("final")[0]["text"]);
  EXPECT_TRUE(fr.wait_for([&](const auto&) { return count_speech(fr) >= 1; }, 10s));
  // Partials carry revisions that count up within an utterance.
  auto partials = es1.of_type("partial");
  for (size_t i = 1; i < partials.size(); ++i) {
    if (partials[i]["utteranceId"] == partials[i - 1]["utteranceId"]) {
      EXPECT_GT(partials[i]["revision"].get<int>(), partials[i - 1]["revision"].get<int>());
    }
  }
  EXPECT_FALSE(speaker.of_type("final").empty()) << "the speaker sees its own transcript";
  EXPECT_EQ(speaker.n_binary(), 0U) << "the speaker never receives translated audio";

  // Pause: nothing more comes out while audio keeps arriving.
  ASSERT_EQ(control(port, s, "pause"), 200);
  ASSERT_TRUE(es1.wait_for_type("state", 5s));
  std::this_thread::sleep_for(500ms);
  const size_t finals_before = es1.of_type("final").size();
  stream_real_time(speaker, recording_pcm(1, 1.0), seq);
  EXPECT_EQ(es1.of_type("final").size(), finals_before) << "paused sessions produce nothing";

  // Resume: output starts again. This also shows the stuck listener did not hold anyone up.
  ASSERT_EQ(control(port, s, "resume"), 200);
  auto resumed_at = std::chrono::steady_clock::now();
  stream_real_time(speaker, recording_pcm(3, 1.5), seq);
  ASSERT_TRUE(es2.wait_for([&](const auto&) { return es2.of_type("final").size() > finals_before; }, 10s));
  auto last_final_at = resumed_at;
  for (const auto& m : es2.messages()) {
    if (!m.binary && m.json.value("type", "") == "final") last_final_at = m.at;
  }
  const double after_audio_s =
      std::chrono::duration<double>(last_final_at - resumed_at).count() - (recording_pcm(3, 1.5).size() / 16000.0);
  EXPECT_LT(after_audio_s, 2.0) << "the final arrives soon after the speech ends, despite a stuck listener";

  // The stuck listener was disconnected and counted; the stages were measured.
  EXPECT_TRUE(eventually([&] { return metric(port, "parley_evictions_total") >= 1; }, 10s))
      << "the listener that never reads is evicted";
  EXPECT_GE(metric(port, "parley_stage_seconds_count{stage=\"stt_final\"}"), 2);
  EXPECT_GE(metric(port, "parley_latency_seconds_count{output=\"translated_speech\"}"), 1);
  EXPECT_EQ(metric(port, "parley_listeners{language=\"es\"}"), 2) << "the evicted listener is gone";
  EXPECT_EQ(metric(port, "parley_listeners{language=\"fr\"}"), 1);
  EXPECT_EQ(metric(port, "parley_sessions{state=\"ACTIVE\"}"), 1);
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200);

  // End: everyone is told and disconnected.
  ASSERT_EQ(control(port, s, "end"), 200);
  for (auto* c : {&es1, &es2, &fr, &speaker}) {
    EXPECT_TRUE(c->wait_for_type("sessionEnded", 10s));
    EXPECT_TRUE(c->wait_for([&](const auto&) { return c->closed(); }, 10s)) << "closed after the end";
  }
  auto info = http_request(port, "GET", "/api/sessions/" + s.code);
  EXPECT_EQ(json::parse(info.body)["state"], "ENDED");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST_F(LiveSessionTest, WrongTokenIs403AndChangesNothing) {
  ServerProcess server(temp_db("token"));
  Created s = create_session(server.port());
  EXPECT_EQ(control(server.port(), s, "start", "not-the-token"), 403);
  auto r = http_request(server.port(), "POST", "/api/sessions/" + s.code + "/start", "{}");
  EXPECT_EQ(r.status, 401) << "no token at all";
  EXPECT_NE(r.body.find("Authorization: Bearer"), std::string::npos);
  EXPECT_EQ(json::parse(http_request(server.port(), "GET", "/api/sessions/" + s.code).body)["state"], "CREATED");
  EXPECT_EQ(control(server.port(), s, "pause"), 409) << "pausing a session that has not started";
  EXPECT_EQ(control(server.port(), s, "start"), 200);
}

TEST_F(LiveSessionTest, UnknownCodeIsAClear404InTheApiAndOnThePage) {
  ServerProcess server(temp_db("unknown"));
  auto api = http_request(server.port(), "GET", "/api/sessions/999999");
  EXPECT_EQ(api.status, 404);
  EXPECT_NE(json::parse(api.body)["error"]["message"].get<std::string>().find("no session with code 999999"),
            std::string::npos);
  // The page: 404, and the landing page's box for the right code (its
  // script says which code was wrong, in the reader's language).
  auto page = http_request(server.port(), "GET", "/listener/999999");
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("id=\"code\""), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/join\""), std::string::npos);
  auto join = http_request(server.port(), "GET", "/join?code=999%20999");
  EXPECT_EQ(join.status, 303);
  auto bad = http_request(server.port(), "GET", "/api/sessions/abc");
  EXPECT_EQ(bad.status, 404);
  WsClient ws(server.port());
  join_listener(ws, "999999", "es");
  ASSERT_TRUE(ws.wait_for_type("error", 5s));
  EXPECT_EQ(ws.of_type("error")[0]["code"], "not_found");
  EXPECT_TRUE(ws.wait_for([&](const auto&) { return ws.closed(); }, 5s));
}

TEST_F(LiveSessionTest, MalformedInputGetsErrorsAndTheSessionCarriesOn) {
  ServerProcess server(temp_db("malformed"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient silent(port);  // upgrades and never joins
  WsClient speaker(port);
  speaker.send_text("this is not json");
  ASSERT_TRUE(speaker.wait_for_type("error", 5s)) << "a first message that is not a join";
  WsClient sp(port);
  ASSERT_TRUE(join_speaker(sp, s));
  WsClient listener(port);
  join_listener(listener, s.code, "es");
  ASSERT_TRUE(listener.wait_for_type("welcome", 5s));
  ASSERT_EQ(control(port, s, "start"), 200);
  sp.send_binary(std::string("\x01\x00\x00", 3));            // shorter than a header
  sp.send_binary(std::string("\x02\x00\x00\x00\x01", 5));    // odd number of PCM bytes
  sp.send_text("{\"type\":42}");                             // JSON, wrong shape
  sp.send_text("{\"type\":\"dance\"}");                      // unknown type
  sp.send_frame(5, std::vector<int16_t>(16001 * 3, 0));       // longer than a second
  ASSERT_TRUE(sp.wait_for_type("error", 5s, 5)) << "one error per bad message";
  for (const auto& e : sp.of_type("error")) EXPECT_FALSE(e["message"].get<std::string>().empty());
  // Listeners joining with bad languages are refused clearly.
  WsClient bad_lang(port);
  join_listener(bad_lang, s.code, "xx");
  ASSERT_TRUE(bad_lang.wait_for_type("error", 5s));
  EXPECT_NE(bad_lang.of_type("error")[0]["message"].get<std::string>().find("cannot be heard in 'xx'"), std::string::npos);
  // The session still works.
  uint32_t seq = 10;
  stream_real_time(sp, recording_pcm(1, 1.5), seq);
  EXPECT_TRUE(listener.wait_for_type("final", 10s)) << "the session carries on after bad input";
  // A connection that never says who it is is closed after the join timeout (10 s).
  EXPECT_TRUE(eventually([&] { return silent.closed(); }, 15s));
}

TEST_F(LiveSessionTest, TypedCaptionsAreTranslatedSpokenAndKept) {
  ServerProcess server(temp_db("typed"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient sp(port);
  ASSERT_TRUE(join_speaker(sp, s));
  WsClient es(port);
  join_listener(es, s.code, "es");
  ASSERT_TRUE(es.wait_for_type("welcome", 5s));
  sp.send_json({{"type", "text"}, {"text", "The coffee break ends at three."}});
  ASSERT_TRUE(sp.wait_for_type("error", 5s)) << "refused before the session starts";
  EXPECT_EQ(sp.of_type("error")[0]["code"], "failed_precondition");

  ASSERT_EQ(control(port, s, "start"), 200);
  sp.send_json({{"type", "text"}, {"text", "   "}});
  sp.send_json({{"type", "text"}, {"text", 7}});
  ASSERT_TRUE(sp.wait_for_type("error", 5s, 3)) << "empty and malformed captions are refused";
  sp.send_json({{"type", "text"}, {"text", "  The coffee break ends at three.  "}});
  ASSERT_TRUE(es.wait_for_type("final", 10s));
  auto final = es.of_type("final")[0];
  EXPECT_EQ(final["source"], "The coffee break ends at three.") << "trimmed, otherwise as typed";
  EXPECT_EQ(final["language"], "es");
  EXPECT_NE(final["text"], final["source"]);
  EXPECT_TRUE(es.wait_for([&](const auto&) { return count_speech(es) >= 1; }, 10s)) << "and spoken";
  ASSERT_TRUE(sp.wait_for_type("final", 5s)) << "the speaker sees it in its transcript";
  auto js = http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?lang=es&format=json");
  EXPECT_NE(js.body.find(final["text"].get<std::string>()), std::string::npos) << "kept in the history";
  // A language it was never translated into: 404 naming the ones it has, not an empty transcript.
  auto german = http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?lang=de");
  EXPECT_EQ(german.status, 404) << german.body;
  EXPECT_NE(german.body.find("Spanish"), std::string::npos) << german.body;
  // Stage times are stored with the utterance.
  ASSERT_TRUE(eventually([&] {
    auto h = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body);
    return !h["items"].empty() && h["items"][0]["timingsMs"].contains("es") &&
           h["items"][0]["timingsMs"]["es"].contains("speech_sent") &&
           h["items"][0]["timingsMs"]["es"].contains("speech_end_lag");
  }, 5s));
  auto item = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body)["items"][0];
  const auto& tm = item["timingsMs"];
  EXPECT_GE(tm["source"]["final_sent"].get<double>(), 0.0);
  EXPECT_GE(tm["es"]["translation_sent"].get<double>(), tm["es"]["mt_done"].get<double>());
  EXPECT_GE(tm["es"]["speech_sent"].get<double>(), tm["es"]["tts_first_audio"].get<double>());
  // The pace controller's view: when a listener starts hearing the
  // translation, and has heard it all, after the source speech ended.
  EXPECT_GE(tm["es"]["speech_wait"].get<double>(), 0.0);
  EXPECT_GT(tm["es"]["speech_end_lag"].get<double>(), tm["es"]["speech_wait"].get<double>());
}

// Listener pages report when they have heard each translation's speech;
// /metrics aggregates the lags. A listener may only report speech it was
// sent, and no more lag than has passed since the source speech ended.
TEST_F(LiveSessionTest, PlaybackReportsCountOnlySpeechHeardAndTimeThatPassed) {
  ServerProcess server(temp_db("playback"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient sp(port);
  ASSERT_TRUE(join_speaker(sp, s));
  WsClient early(port);
  join_listener(early, s.code, "es");
  ASSERT_TRUE(early.wait_for_type("welcome", 5s));
  ASSERT_EQ(control(port, s, "start"), 200);
  sp.send_json({{"type", "text"}, {"text", "The coffee break ends at three."}});
  ASSERT_TRUE(early.wait_for([&](const auto&) { return count_speech(early) >= 1; }, 10s));
  const int64_t seq = early.of_type("final")[0]["seq"].get<int64_t>();
  const std::string reported = R"(parley_speech_lag_seconds_count{language="es",edge="reported"})";
  auto count = [&] { return metric(port, reported); };
  // The language's row appears once its first speech has been paced, which
  // may be a moment after the listener has the first chunk.
  ASSERT_TRUE(eventually([&] { return count() >= 0; }, 5s)) << "the es pace histogram is published";
  const double before = count();
  auto report = [](WsClient& c, int64_t q, int64_t lag) {
    c.send_json({{"type", "playback"}, {"seq", q}, {"lagMs", lag}});
  };

  // Messages are handled in order: a pong means every report before it was.
  auto settled = [](WsClient& c) {
    const size_t pongs = c.of_type("pong").size();
    c.send_json({{"type", "ping"}});
    return c.wait_for_type("pong", 5s, pongs + 1);
  };
  // A listener who joined after the speech was sent never heard it.
  WsClient late(port);
  join_listener(late, s.code, "es", 0);
  ASSERT_TRUE(late.wait_for_type("final", 5s)) << "it gets the final from history";
  report(late, seq, 500);
  ASSERT_TRUE(settled(late));
  EXPECT_EQ(count(), before) << "a final replayed from history came without speech";
  // Nine minutes of lag for speech sent a moment ago cannot be true, and a
  // final that does not exist yet was not heard.
  report(early, seq, 540'000);
  report(early, seq + 5, 500);
  ASSERT_TRUE(settled(early));
  EXPECT_EQ(count(), before);
  // The truth is taken, once a final.
  report(early, seq, 400);
  report(early, seq, 400);
  ASSERT_TRUE(settled(early));
  EXPECT_EQ(count(), before + 1);
  EXPECT_TRUE(http_request(port, "GET", "/healthz").status == 200);
}

TEST_F(LiveSessionTest, ListenersChooseHowMuchOfTheSpeechTheyReceive) {
  ServerProcess server(temp_db("speech-modes"));
  const auto port = server.port();
  Created s = create_session(port);
  WsClient sp(port);
  ASSERT_TRUE(join_speaker(sp, s));
  WsClient full(port), timeline(port), none(port), switcher(port), bad(port), fr_captions(port);
  join_listener(full, s.code, "es");
  join_listener(timeline, s.code, "es", 0, "timeline");
  join_listener(none, s.code, "es", 0, "none");
  join_listener(switcher, s.code, "es");
  // French has only a captions-only listener: nothing is synthesised for it.
  join_listener(fr_captions, s.code, "fr", 0, "none");
  join_listener(bad, s.code, "es", 0, "loud");
  for (auto* c : {&full, &timeline, &none, &switcher, &fr_captions}) ASSERT_TRUE(c->wait_for_type("welcome", 5s));
  ASSERT_TRUE(bad.wait_for_type("error", 5s));
  EXPECT_EQ(bad.of_type("error")[0]["code"], "bad_message");
  EXPECT_TRUE(bad.wait_for([&](const auto&) { return bad.closed(); }, 5s)) << "a bad join is closed";

  // Switching mid-connection; a malformed switch is refused and changes nothing.
  switcher.send_json({{"type", "speech"}, {"mode", 7}});
  ASSERT_TRUE(switcher.wait_for_type("error", 5s));
  switcher.send_json({{"type", "speech"}, {"mode", "none"}});
  switcher.send_json({{"type", "ping"}});
  ASSERT_TRUE(switcher.wait_for_type("pong", 5s)) << "the switch is handled before the ping";

  ASSERT_EQ(control(port, s, "start"), 200);
  sp.send_json({{"type", "text"}, {"text", "The coffee break ends at three."}});
  ASSERT_TRUE(full.wait_for([&](const auto&) { return speech_seen(full).full == 1; }, 15s));
  ASSERT_TRUE(timeline.wait_for([&](const auto&) { return speech_seen(timeline).timeline_only == 1; }, 5s))
      << "the timeline without the audio";
  EXPECT_EQ(speech_seen(timeline).full, 0U);
  // The same message, cut: same seq, same duration, same mouth shapes.
  auto speech_of = [](const WsClient& c) {
    for (const auto& m : c.messages()) {
      if (auto sm = m.binary ? session::wire::parse_speech(m.bytes) : std::nullopt) return sm->seq * 100000 + sm->duration_ms;
    }
    return int64_t{-1};
  };
  EXPECT_EQ(speech_of(timeline), speech_of(full));

  switcher.send_json({{"type", "speech"}, {"mode", "full"}});
  switcher.send_json({{"type", "ping"}});
  ASSERT_TRUE(switcher.wait_for_type("pong", 5s, 2));
  // A second caption: its final reaches each listener after the first
  // caption's speech would have (one listener's messages keep their order).
  sp.send_json({{"type", "text"}, {"text", "Lunch is served in the hall."}});
  for (auto* c : {&none, &switcher}) ASSERT_TRUE(c->wait_for_type("final", 15s, 2));
  EXPECT_EQ(none.n_binary(), 0U) << "speech none: captions only";
  ASSERT_TRUE(switcher.wait_for([&](const auto&) { return speech_seen(switcher).full == 1; }, 15s))
      << "switched back to full: the second caption's speech arrives whole";
  EXPECT_EQ(switcher.n_binary(), 1U) << "nothing of the first caption's speech while it was off";
  EXPECT_TRUE(none.wait_for_type("final", 1s, 2));
  EXPECT_EQ(none.n_binary(), 0U);

  // Spanish was spoken, French (captions only) translated but not synthesised.
  ASSERT_TRUE(fr_captions.wait_for_type("final", 10s, 2));
  EXPECT_EQ(fr_captions.of_type("final")[0]["language"], "fr");
  ASSERT_TRUE(eventually([&] {
    auto h = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body);
    return h["items"].size() == 2 && h["items"][1]["timingsMs"].contains("es") &&
           h["items"][1]["timingsMs"]["es"].contains("speech_sent") && h["items"][1]["timingsMs"].contains("fr") &&
           h["items"][1]["timingsMs"]["fr"].contains("translation_sent");
  }, 10s));
  auto items = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body)["items"];
  for (const auto& item : items) {
    EXPECT_FALSE(item["timingsMs"]["fr"].contains("tts_first_audio")) << "no speech synthesised for French";
    EXPECT_FALSE(item["timingsMs"]["fr"].contains("speech_sent"));
  }
  EXPECT_EQ(fr_captions.n_binary(), 0U);
}

TEST_F(LiveSessionTest, LateJoinerGetsHistoryAndReconnectGetsNoRepeats) {
  ServerProcess server(temp_db("history"));
  const auto port = server.port();
  Created s = create_session(port, {{"name", "History"}, {"sourceLanguage", "en"}, {"targets", {"es"}}});
  WsClient sp(port);
  ASSERT_TRUE(join_speaker(sp, s));
  ASSERT_EQ(control(port, s, "start"), 200);
  uint32_t seq = 0;
  stream_real_time(sp, recording_pcm(1, 1.2), seq);
  stream_real_time(sp, recording_pcm(4, 1.2), seq);
  ASSERT_TRUE(sp.wait_for_type("final", 10s, 2));

  // Late, in a language nobody had chosen: history arrives, translated.
  WsClient late(port);
  join_listener(late, s.code, "pt");
  ASSERT_TRUE(late.wait_for_type("final", 10s, 2));
  auto finals = late.of_type("final");
  EXPECT_EQ(finals[0]["seq"], 1);
  EXPECT_EQ(finals[1]["seq"], 2);
  EXPECT_EQ(finals[0]["language"], "pt");
  EXPECT_TRUE(finals[0]["history"].get<bool>());
  // Reconnect after seq 1: everything after it comes back, once, in order
  // (a sentence may have become two finals at a pause in it).
  const size_t n_finals = sp.of_type("final").size();
  WsClient again(port);
  join_listener(again, s.code, "es", 1);
  ASSERT_TRUE(again.wait_for_type("final", 10s, n_finals - 1));
  auto replay = again.of_type("final");
  ASSERT_GE(replay.size(), n_finals - 1);
  for (size_t i = 0; i < replay.size(); ++i) EXPECT_EQ(replay[i]["seq"], static_cast<int64_t>(i) + 2) << "no repeats, no gaps";
}

TEST_F(LiveSessionTest, HistoryAndExportsSurviveSigkill) {
  const std::string db = temp_db("crash");
  Created s;
  std::string source_text;
  {
    ServerProcess server(db);
    const auto port = server.port();
    s = create_session(port, {{"name", "Crash"}, {"sourceLanguage", "en"}, {"targets", {"es", "fr"}}});
    WsClient sp(port);
    ASSERT_TRUE(join_speaker(sp, s));
    ASSERT_EQ(control(port, s, "start"), 200);
    uint32_t seq = 0;
    stream_real_time(sp, recording_pcm(2, 1.2), seq);
    ASSERT_TRUE(sp.wait_for_type("final", 10s));
    source_text = sp.of_type("final")[0]["text"];
    // Mid-session: more audio in flight, then the process is killed.
    auto more = recording_pcm(0, 0);
    more.resize(16000);
    stream_real_time(sp, more, seq);
    std::this_thread::sleep_for(300ms);  // the translations of the first utterance are committed by now
    EXPECT_EQ(server.stop(SIGKILL), 128 + SIGKILL);
  }
  ServerProcess server(db);
  const auto port = server.port();
  auto info = json::parse(http_request(port, "GET", "/api/sessions/" + s.code).body);
  EXPECT_EQ(info["state"], "ENDED") << "a session cut by a crash is closed on restart";
  // Ended, so private: read with the listener link's key.
  EXPECT_EQ(http_request(port, "GET", "/api/sessions/" + s.code + "/history").status, 403);
  auto hist = http_request(port, "GET", "/api/sessions/" + s.code + "/history?key=" + s.listener_key);
  ASSERT_EQ(hist.status, 200) << hist.body;
  auto items = json::parse(hist.body)["items"];
  ASSERT_GE(items.size(), 1U);
  EXPECT_EQ(items[0]["source"], source_text);
  EXPECT_FALSE(items[0]["translations"]["es"].get<std::string>().empty());
  EXPECT_FALSE(items[0]["translations"]["fr"].get<std::string>().empty());
  auto vtt = http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?lang=es&format=vtt&key=" + s.listener_key);
  EXPECT_EQ(vtt.status, 200);
  EXPECT_EQ(vtt.body.rfind("WEBVTT", 0), 0U);
  EXPECT_NE(vtt.body.find(items[0]["translations"]["es"].get<std::string>()), std::string::npos);
  auto srt = http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?lang=fr&format=srt", "", s.token);
  EXPECT_EQ(srt.status, 200);
  EXPECT_EQ(srt.body.rfind("1\n00:", 0), 0U);
  auto js = http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?lang=en&format=json&key=" + s.listener_key);
  EXPECT_EQ(json::parse(js.body)["items"][0]["text"], source_text);
}

// The end-of-session summary: how long, the most listeners per language,
// and each language's transcript links; still there after a restart (the
// peaks are stored with the session), private once ended like the transcript.
TEST_F(LiveSessionTest, TheSummaryCountsPeakListenersAndOutlivesARestart) {
  const std::string db = temp_db("summary");
  Created s;
  {
    ServerProcess server(db);
    const auto port = server.port();
    s = create_session(port, {{"name", "Summary"}, {"sourceLanguage", "en"}, {"targets", {"es"}}});
    WsClient sp(port);
    ASSERT_TRUE(join_speaker(sp, s));
    auto before = json::parse(http_request(port, "GET", "/api/sessions/" + s.code).body);
    EXPECT_EQ(before["startedAtMs"], 0) << "not started yet";
    ASSERT_EQ(control(port, s, "start"), 200);
    WsClient es1(port), es2(port), fr(port);
    join_listener(es1, s.code, "es");
    join_listener(es2, s.code, "es");
    join_listener(fr, s.code, "fr");
    for (auto* c : {&es1, &es2, &fr}) ASSERT_TRUE(c->wait_for_type("welcome", 5s));
    es2.close();  // the peak stays 2
    sp.send_json({{"type", "text"}, {"text", "Welcome ,  everyone ."}});
    ASSERT_TRUE(es1.wait_for_type("final", 10s));
    ASSERT_TRUE(fr.wait_for_type("final", 10s));
    EXPECT_EQ(es1.of_type("final")[0]["source"], "Welcome, everyone.") << "spacing tidied";
    ASSERT_EQ(control(port, s, "end"), 200);
    auto live = http_request(port, "GET", "/api/sessions/" + s.code + "/summary", "", s.token);
    ASSERT_EQ(live.status, 200) << live.body;
    auto j = json::parse(live.body);
    EXPECT_EQ(j["finals"], 1);
    EXPECT_GT(j["startedAtMs"].get<int64_t>(), 0);
    EXPECT_GE(j["endedAtMs"].get<int64_t>(), j["startedAtMs"].get<int64_t>());
    EXPECT_EQ(j["languages"][0]["language"], "en") << "the original first";
    // (The store's writer may still hold the row: asked until it is there.)
    const std::string want = es1.of_type("final")[0]["text"].get<std::string>() + "\n";
    EXPECT_TRUE(eventually([&] {
      return http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?format=txt&lang=es", "", s.token).body == want;
    }, 5s));
  }
  ServerProcess server(db);
  const auto port = server.port();
  EXPECT_EQ(http_request(port, "GET", "/api/sessions/" + s.code + "/summary").status, 403) << "private once ended";
  auto r = http_request(port, "GET", "/api/sessions/" + s.code + "/summary?key=" + s.listener_key);
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, json> by_language;
  const auto summary = json::parse(r.body);
  for (const auto& l : summary["languages"]) by_language[l["language"].get<std::string>()] = l;
  ASSERT_EQ(by_language.count("es"), 1U) << r.body;
  EXPECT_EQ(by_language["es"]["peakListeners"], 2);
  EXPECT_EQ(by_language["fr"]["peakListeners"], 1);
  EXPECT_EQ(by_language["es"]["finals"], 1);
  const std::string link = by_language["es"]["downloads"]["vtt"];
  EXPECT_NE(link.find("key=" + s.listener_key), std::string::npos) << link;
  EXPECT_EQ(http_request(port, "GET", link).status, 200) << "the summary's own link opens the transcript";
}

// A session whose speaker hides strong language: masked in the caption, the
// original under it and the stored transcript; the speech still comes (less
// the word). Off by default; any other value is refused.
TEST_F(LiveSessionTest, StrongLanguageIsMaskedOnlyWhereTheSpeakerAsks) {
  ServerProcess server(temp_db("profanity"));
  const auto port = server.port();
  auto bad = http_request(port, "POST", "/api/sessions", R"({"name":"x","profanity":"loud"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("profanity must be"), std::string::npos) << bad.body;
  for (const bool hide : {true, false}) {
    Created s = create_session(port, {{"name", "Words"}, {"sourceLanguage", "en"}, {"targets", {"es"}},
                                      {"profanity", hide ? "mask" : "off"}});
    auto info = json::parse(http_request(port, "GET", "/api/sessions/" + s.code).body);
    EXPECT_EQ(info["profanity"], hide ? "mask" : "off");
    WsClient sp(port);
    ASSERT_TRUE(join_speaker(sp, s));
    ASSERT_EQ(control(port, s, "start"), 200);
    WsClient es(port);
    join_listener(es, s.code, "es");
    ASSERT_TRUE(es.wait_for_type("welcome", 5s));
    sp.send_json({{"type", "text"}, {"text", "That plan was bullshit, friends."}});
    ASSERT_TRUE(es.wait_for_type("final", 10s));
    const auto final = es.of_type("final")[0];
    const std::string source = final["source"];
    if (hide) {
      EXPECT_EQ(source, "That plan was b*******, friends.");
      EXPECT_EQ(final["text"].get<std::string>().find("bullshit"), std::string::npos) << final["text"];
    } else {
      EXPECT_EQ(source, "That plan was bullshit, friends.") << "as said by default";
    }
    EXPECT_TRUE(es.wait_for([&](const auto&) { return count_speech(es) >= 1; }, 10s)) << "the speech still comes";
    EXPECT_TRUE(eventually([&] {
      return http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?format=txt").body == source + "\n";
    }, 5s)) << "stored as shown";
  }
}

TEST_F(LiveSessionTest, HttpAudioStreamServesChainedOggOpus) {
  ServerProcess server(temp_db("stream"));
  const auto port = server.port();
  Created s = create_session(port);
  // A raw HTTP client reading the stream for a while.
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  std::string req = "GET /listen/" + s.code + "/es.ogg HTTP/1.1\r\nHost: x\r\n\r\n";
  net::write(sock, net::buffer(req));
  std::string got;
  std::array<char, 8192> buf{};
  auto until = std::chrono::steady_clock::now() + 2500ms;
  sock.non_blocking(true);
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    size_t n = sock.read_some(net::buffer(buf), ec);
    if (!ec) got.append(buf.data(), n);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK", 0), 0U);
  EXPECT_NE(got.find("Content-Type: audio/ogg"), std::string::npos);
  size_t heads = 0;
  for (size_t p = got.find("OpusHead"); p != std::string::npos; p = got.find("OpusHead", p + 1)) ++heads;
  EXPECT_GE(heads, 2U) << "silence links keep a player fed in real time";
  EXPECT_LE(heads, 5U) << "but not faster than real time";
  auto missing = http_request(port, "GET", "/listen/999999/es.ogg");
  EXPECT_EQ(missing.status, 404);
}

}  // namespace
}  // namespace parley
