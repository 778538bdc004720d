// SPDX-License-Identifier: GPL-3.0-or-later
// The talk's own words over the API: a session's vocabulary, glossary and
// script, learnt by the real recogniser; script mode on real speech (the
// LibriVox reader of pocketsphinx-testdata reading Jane Austen, with the
// novel's own punctuated sentences as the script).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/librivox.h"
#include "support/server_process.h"
#include "support/sessions.h"
#include "support/ws_client.h"

namespace parley {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Created;
using testing::control;
using testing::create_session;
using testing::eventually;
using testing::http_request;
using testing::join_listener;
using testing::join_speaker;
using testing::metric;
using testing::recording_pcm;
using testing::ServerProcess;
using testing::stream_real_time;
using testing::temp_db;
using testing::WsClient;

// The first two LibriVox passages as the novel prints them.
const char* kAusten =
    "And Mr. John Dashwood had then leisure to consider how much there might be prudently in his power "
    "to do for them. He was not an ill-disposed young man, unless to be rather cold-hearted and rather "
    "selfish is to be ill-disposed: but he was, in general, well respected.";

json words_of(unsigned short port, const Created& s) {
  return json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/words", "", s.token).body);
}

bool ready(unsigned short port, const Created& s) {
  return eventually([&] { return words_of(port, s)["state"] == "ready"; }, 30s);
}

TEST(TalkWords, TheApiTakesVocabularyGlossaryAndScriptAndSaysWhatWasLearnt) {
  ServerProcess server(temp_db("words-api"));
  const auto port = server.port();
  Created s = create_session(port);
  const std::string path = "/api/sessions/" + s.code + "/words";
  EXPECT_EQ(words_of(port, s)["state"], "none");

  // Only the speaker may read or change them.
  EXPECT_EQ(http_request(port, "PUT", path, R"({"vocabulary":"x"})").status, 401);
  EXPECT_EQ(http_request(port, "PUT", path, R"({"vocabulary":"x"})", "not-the-token").status, 403);
  EXPECT_EQ(http_request(port, "GET", path, "", "not-the-token").status, 403);

  // Names the dictionary lacks are learnt with pronunciations.
  json body = {{"vocabulary", "Speakers: Quillfeather Abernathy, Zorbulon Vantreek.\nTopic: the Riverside Garden Club."},
               {"glossary", "en\t*\tRiverside Garden Club\tRiverside Garden Club\n"}};
  auto put = http_request(port, "PUT", path, body.dump(), s.token, "application/json");
  ASSERT_EQ(put.status, 202) << put.body;
  ASSERT_TRUE(ready(port, s)) << words_of(port, s).dump();
  auto w = words_of(port, s);
  EXPECT_GE(w["newWords"].get<int>(), 3) << "quillfeather, zorbulon, vantreek at least: " << w.dump();
  EXPECT_EQ(w["unpronounced"], 0) << w.dump();
  EXPECT_GT(w["buildMs"].get<int>(), 0);
  EXPECT_EQ(w["glossary"], body["glossary"]);
  EXPECT_FALSE(w.contains("script"));
  EXPECT_GE(metric(port, R"(parley_vocabulary_builds_total{result="ok"})"), 1);
  EXPECT_EQ(metric(port, "parley_vocabulary_sessions"), 1);

  // A script: its sentences, and the speaker's place in it.
  put = http_request(port, "PUT", path, json{{"script", kAusten}}.dump(), s.token, "application/json");
  ASSERT_EQ(put.status, 202) << put.body;
  w = json::parse(put.body);
  ASSERT_TRUE(w.contains("script")) << w.dump();
  ASSERT_EQ(w["script"]["sentences"].size(), 2U) << w.dump();
  EXPECT_EQ(w["script"]["sentences"][1].get<std::string>().substr(0, 30), "He was not an ill-disposed you");
  EXPECT_EQ(w["script"]["position"], 0);
  const std::string script = "/api/sessions/" + s.code + "/script";
  auto moved = http_request(port, "POST", script, R"({"sentence":1})", s.token, "application/json");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(json::parse(moved.body)["script"]["position"], 1);
  EXPECT_EQ(http_request(port, "POST", script, R"({"sentence":7})", s.token, "application/json").status, 400);
  auto more = http_request(port, "POST", script, R"({"append":"The third part came later."})", s.token,
                           "application/json");
  ASSERT_EQ(more.status, 200) << more.body;
  EXPECT_EQ(json::parse(more.body)["script"]["sentences"].size(), 3U);
  EXPECT_EQ(json::parse(more.body)["script"]["position"], 1) << "pasting does not move the speaker";
  ASSERT_TRUE(ready(port, s)) << "the pasted section is learnt too";

  // Bad input: clear errors, nothing changed.
  EXPECT_EQ(http_request(port, "PUT", path, "not json", s.token, "application/json").status, 400);
  EXPECT_EQ(http_request(port, "PUT", path, R"({"script": 42})", s.token, "application/json").status, 400);
  auto bad_glossary = http_request(port, "PUT", path, json{{"glossary", "only two\tcolumns"}}.dump(), s.token,
                                   "application/json");
  EXPECT_EQ(bad_glossary.status, 400) << bad_glossary.body;
  const std::string big(300 * 1024, 'a');
  auto too_big = http_request(port, "PUT", path, json{{"vocabulary", big}}.dump(), s.token, "application/json");
  EXPECT_EQ(too_big.status, 400) << too_big.body.substr(0, 200);
  EXPECT_NE(too_big.body.find("256 KB"), std::string::npos) << too_big.body.substr(0, 200);
  const std::string huge(1100 * 1024, 'a');
  EXPECT_EQ(http_request(port, "PUT", path, json{{"vocabulary", huge}}.dump(), s.token, "application/json").status,
            413);
  EXPECT_EQ(http_request(port, "POST", script, R"({"sentence":1,"append":"x"})", s.token, "application/json").status,
            400);
  EXPECT_EQ(words_of(port, s)["script"]["sentences"].size(), 3U);

  // All empty: back to the generic model; script commands then say why not.
  put = http_request(port, "PUT", path, R"({})", s.token, "application/json");
  ASSERT_EQ(put.status, 202) << put.body;
  EXPECT_EQ(json::parse(put.body)["state"], "none");
  EXPECT_EQ(http_request(port, "POST", script, R"({"sentence":0})", s.token, "application/json").status, 409);
  EXPECT_EQ(metric(port, "parley_vocabulary_sessions"), 0) << "the place is given back";
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
}

// The speaker reads from the script: listeners get the script's own
// punctuated sentences, translated; finals, history and exports say so.
TEST(TalkWords, FinalsThatFollowTheScriptAreShownInItsWords) {
  ASSERT_GE(testing::librivox_recordings().size(), 2U) << "install pocketsphinx-testdata";
  ServerProcess server(temp_db("words-script"));
  const auto port = server.port();
  Created s = create_session(port, {{"name", "Reading"}, {"sourceLanguage", "en"}, {"targets", {"es"}}});
  auto put = http_request(port, "PUT", "/api/sessions/" + s.code + "/words", json{{"script", kAusten}}.dump(),
                          s.token, "application/json");
  ASSERT_EQ(put.status, 202) << put.body;
  ASSERT_TRUE(ready(port, s));
  WsClient speaker(port), es(port);
  ASSERT_TRUE(join_speaker(speaker, s));
  join_listener(es, s.code, "es");
  ASSERT_TRUE(es.wait_for_type("welcome", 5s));
  ASSERT_EQ(control(port, s, "start"), 200);
  uint32_t seq = 0;
  stream_real_time(speaker, recording_pcm(0, 1.2), seq);
  stream_real_time(speaker, recording_pcm(1, 1.5), seq);
  // The reader's two passages, however the pauses cut them into finals.
  const std::string expected = "And Mr. John Dashwood had then leisure to consider how much there might be "
                               "prudently in his power to do for them. He was not an ill-disposed young man,";
  std::string shown;
  ASSERT_TRUE(speaker.wait_for([&](const auto&) {
    shown.clear();
    for (const auto& f : speaker.of_type("final")) shown += (shown.empty() ? "" : " ") + f["text"].get<std::string>();
    return shown.size() >= expected.size();
  }, 15s)) << "the finals so far: " << shown;
  EXPECT_EQ(shown, expected) << "the script's words and punctuation, where the recogniser heard them";
  auto finals = speaker.of_type("final");
  for (const auto& f : finals) EXPECT_EQ(f.value("fromScript", false), true) << f.dump();
  EXPECT_TRUE(speaker.wait_for_type("scriptPosition", 5s)) << "the speaker's page follows the place";
  EXPECT_EQ(speaker.of_type("scriptPosition").back()["sentence"], 1);

  ASSERT_TRUE(es.wait_for_type("final", 10s, 2));
  auto translated = es.of_type("final");
  EXPECT_EQ(translated[0]["source"], finals[0]["text"]);
  EXPECT_NE(translated[0]["text"], translated[0]["source"]) << "translated from the script's sentence";
  EXPECT_EQ(translated[0]["fromScript"], true);

  auto history = json::parse(http_request(port, "GET", "/api/sessions/" + s.code + "/history").body);
  ASSERT_GE(history["items"].size(), 2U) << history.dump();
  EXPECT_EQ(history["items"][0]["fromScript"], true);
  auto exported = json::parse(
      http_request(port, "GET", "/api/sessions/" + s.code + "/transcript?format=json&lang=es").body);
  ASSERT_GE(exported["items"].size(), 1U) << exported.dump();
  EXPECT_EQ(exported["items"][0]["fromScript"], true);
}

}  // namespace
}  // namespace parley
