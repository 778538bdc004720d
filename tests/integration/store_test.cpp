// SPDX-License-Identifier: GPL-3.0-or-later
// The store contract, on both stores: SQLite (one node) and PostgreSQL
// (several nodes; a real server this test starts). Then PostgreSQL going
// away under AsyncStore: writes wait, are tried again, counted, and none
// that was accepted is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "store/async_store.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/postgres_process.h"
#include "support/server_process.h"
#include "support/sessions.h"
#include "support/ws_client.h"

namespace parley::store {
namespace {

using namespace std::chrono_literals;

session::SessionInfo info(const std::string& code) {
  session::SessionInfo i;
  i.code = code;
  i.spec.name = "Talk " + code + " — «ça va?»";
  i.spec.source_language = "en";
  i.spec.default_targets = {"es", "fr"};
  i.spec.hide_strong_words = true;
  i.created_at_ms = 1'700'000'000'000;
  i.listener_key_hash = session::hash_token("key-" + code);
  return i;
}

HistoryItem item(int64_t seq, const std::string& text) {
  HistoryItem h;
  h.seq = seq;
  h.utterance_id = static_cast<uint64_t>(seq) * 10;
  h.start_ms = seq * 1000;
  h.end_ms = seq * 1000 + 800;
  h.source_text = text;
  h.created_at_ms = 1'700'000'000'000 + seq;
  h.stt_ms = 12.5;
  h.from_script = seq % 2 == 0;
  h.translations["es"] = TranslationRow{"es", text + " (es)", "apertium", {100, 20.25, 300, 40}};
  return h;
}

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Store>()> open;
};

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      pg = std::make_unique<testing::PostgresProcess>();
      auto s = open_postgres_store(pg->address());
      ASSERT_TRUE(s.is_ok()) << s.status().message();
      store = std::move(*s);
    } else {
      auto s = open_sqlite_store(":memory:");
      ASSERT_TRUE(s.is_ok());
      store = std::move(*s);
    }
  }
  std::unique_ptr<testing::PostgresProcess> pg;
  std::unique_ptr<Store> store;
};

TEST_P(StoreContract, ASessionItsFinalsTranslationsTimingsAndMetricsReadBackWhole) {
  auto id = store->create_session(info("123456"), "token-hash");
  ASSERT_TRUE(id.is_ok()) << id.status().message();
  for (int64_t s = 1; s <= 3; ++s) ASSERT_TRUE(store->add_utterance(*id, item(s, "line " + std::to_string(s))));
  ASSERT_TRUE(store->add_translation(*id, 2, {"fr", "ligne 2", "apertium", {}}));
  ASSERT_TRUE(store->add_translation(*id, 2, {"fr", "ligne deux", "apertium", {}}));  // the last one wins
  ASSERT_TRUE(store->add_timings(*id, 2, {{"", "stt_final", 250.5}, {"es", "mt_done", 300}}));
  ASSERT_TRUE(store->set_metric(*id, "peak_listeners.es", 3));
  ASSERT_TRUE(store->set_metric(*id, "peak_listeners.es", 9));
  ASSERT_TRUE(store->set_state(*id, session::State::active, 5000));
  ASSERT_TRUE(store->set_state(*id, session::State::active, 6000));  // the first start stays

  auto found = store->find_session("123456");
  ASSERT_TRUE(found.is_ok() && found->has_value());
  const auto& s = **found;
  EXPECT_EQ(s.info.id, *id);
  EXPECT_EQ(s.info.spec.name, "Talk 123456 — «ça va?»");
  EXPECT_EQ(s.info.spec.default_targets, (std::vector<std::string>{"es", "fr"}));
  EXPECT_TRUE(s.info.spec.hide_strong_words);
  EXPECT_EQ(s.info.state, session::State::active);
  EXPECT_EQ(s.info.started_at_ms, 5000);
  EXPECT_EQ(s.token_hash, "token-hash");
  EXPECT_EQ(s.info.listener_key_hash, session::hash_token("key-123456"));

  auto h = store->history(*id, 1, 10);
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  ASSERT_EQ(h->size(), 2U);
  EXPECT_EQ((*h)[0].seq, 2);
  EXPECT_EQ((*h)[0].source_text, "line 2");
  EXPECT_TRUE((*h)[0].from_script);
  EXPECT_EQ((*h)[0].utterance_id, 20U);
  EXPECT_EQ((*h)[0].translations.at("fr").text, "ligne deux");
  EXPECT_DOUBLE_EQ((*h)[0].translations.at("es").latencies.mt_ms, 20.25);
  EXPECT_EQ((*h)[0].timings.size(), 2U);
  EXPECT_EQ(store->history(*id, 0, 1)->size(), 1U);
  EXPECT_EQ(store->metrics(*id)->at("peak_listeners.es"), 9);
  EXPECT_FALSE(store->find_session("654321")->has_value());
}

TEST_P(StoreContract, RetentionAndInterruptedSessionsTouchOnlyWhatTheyShould) {
  auto old_id = *store->create_session(info("111111"), "t");
  auto live_id = *store->create_session(info("222222"), "t");
  ASSERT_TRUE(store->add_utterance(old_id, item(1, "old")));
  ASSERT_TRUE(store->set_metric(old_id, "utterances", 1));
  ASSERT_TRUE(store->add_utterance(live_id, item(1, "live")));
  ASSERT_TRUE(store->set_state(old_id, session::State::ended, 1000));
  EXPECT_EQ(*store->delete_ended_before(2000), 1);
  EXPECT_FALSE(store->find_session("111111")->has_value());
  EXPECT_TRUE(store->history(old_id, 0, 10)->empty());
  EXPECT_EQ(store->history(live_id, 0, 10)->size(), 1U);
  EXPECT_EQ(*store->end_interrupted_sessions(3000), 1);
  EXPECT_EQ((*store->find_session("222222"))->info.state, session::State::ended);
  ASSERT_TRUE(store->set_transcript_public(live_id, true));
  EXPECT_TRUE((*store->find_session("222222"))->info.transcript_public);
}

// A conversation's participants outlive it in the store: the newest
// conversation by a code comes back whole, with who left and whether every
// session ended; a participant's session says whose conversation it is;
// retention takes them with their sessions.
TEST_P(StoreContract, AConversationsParticipantsAreKeptForItsExportAfterTheEnd) {
  auto member = [&](int64_t session, int64_t created, const std::string& id, const std::string& lang) {
    ConversationMember m;
    m.session_id = session;
    m.code = "444444";
    m.conversation_created_at_ms = created;
    m.title = created == 100 ? "Old one" : "Market «día»";
    m.participant_id = id;
    m.name = "Name " + id;
    m.language = lang;
    m.token_hash = session::hash_token("token-" + id);
    m.typed = lang == "es";
    m.joined_at_ms = created + 10;
    return m;
  };
  // An older conversation that used the same code, ended long ago.
  ASSERT_TRUE(store->create_session(info("123457"), "t").is_ok());
  const auto old_a = *store->create_session(info("900001"), "t");
  ASSERT_TRUE(store->save_conversation_member(member(old_a, 100, "old", "de")));
  ASSERT_TRUE(store->set_state(old_a, session::State::ended, 500));
  auto participant = [](const std::string& code) {
    auto i = info(code);
    i.spec.conversation = "444444";
    return i;
  };
  const auto a = *store->create_session(participant("900002"), "t");
  const auto b = *store->create_session(participant("900003"), "t");
  ASSERT_TRUE(store->save_conversation_member(member(a, 2000, "aaaa", "en")));
  ASSERT_TRUE(store->save_conversation_member(member(b, 2000, "bbbb", "es")));
  auto left = member(b, 2000, "bbbb", "es");
  left.left_at_ms = 3000;
  ASSERT_TRUE(store->save_conversation_member(left));  // the same member again: replaced, not doubled

  auto found = store->find_conversation("444444");
  ASSERT_TRUE(found.is_ok()) << found.status().message();
  ASSERT_TRUE(found->has_value());
  const auto& c = **found;
  EXPECT_EQ(c.title, "Market «día»");
  EXPECT_EQ(c.created_at_ms, 2000);
  ASSERT_EQ(c.members.size(), 2U) << "the older conversation's member is not this one's";
  EXPECT_EQ(c.members[0].participant_id, "aaaa");
  EXPECT_EQ(c.members[0].language, "en");
  EXPECT_EQ(c.members[0].token_hash, session::hash_token("token-aaaa"));
  EXPECT_EQ(c.members[1].left_at_ms, 3000);
  EXPECT_TRUE(c.members[1].typed);
  EXPECT_FALSE(c.members[0].typed);
  EXPECT_EQ(c.members[0].joined_at_ms, 2010);
  EXPECT_FALSE(c.ended());
  EXPECT_EQ((*store->find_session("900002"))->info.spec.conversation, "444444");
  EXPECT_EQ((*store->find_session("123457"))->info.spec.conversation, "") << "a talk is nobody's conversation";
  ASSERT_TRUE(store->set_state(a, session::State::ended, 4000));
  ASSERT_TRUE(store->set_state(b, session::State::ended, 4000));
  EXPECT_TRUE((*store->find_conversation("444444"))->ended());
  EXPECT_FALSE(store->find_conversation("555555")->has_value());

  EXPECT_EQ(*store->delete_ended_before(5000), 3);
  EXPECT_FALSE(store->find_conversation("444444")->has_value());
}

INSTANTIATE_TEST_SUITE_P(BothStores, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST(PostgresStore, MigrationsRunOnceHoweverManyNodesOpenTheDatabase) {
  testing::PostgresProcess pg;
  std::vector<std::thread> nodes;
  std::atomic<int> opened{0};
  for (int i = 0; i < 3; ++i) {
    nodes.emplace_back([&] {
      if (open_postgres_store(pg.address()).is_ok()) ++opened;
    });
  }
  for (auto& t : nodes) t.join();
  EXPECT_EQ(opened.load(), 3);
  auto again = open_postgres_store(pg.address());
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_TRUE((*again)->create_session(info("333333"), "t").is_ok());
}

TEST(PostgresStore, ARestartMakesWritesWaitAndTryAgainAndLosesNone) {
  testing::PostgresProcess pg;
  auto opened = open_postgres_store(pg.address());
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  auto async = std::make_shared<AsyncStore>(std::shared_ptr<Store>(std::move(*opened)));
  auto id = *async->create_session(info("444444"), "t");
  for (int64_t s = 1; s <= 5; ++s) ASSERT_TRUE(async->add_utterance(id, item(s, "before")));
  async->flush();

  pg.stop(SIGKILL);  // the database's machine dies
  for (int64_t s = 6; s <= 15; ++s) ASSERT_TRUE(async->add_utterance(id, item(s, "meanwhile")));  // accepted: queued
  EXPECT_TRUE(testing::eventually([&] { return !async->health(); }, 10s));
  pg.start();
  async->flush();  // waits for the queue: each write tried again until the server is back
  const auto st = async->stats();
  EXPECT_EQ(st.failed, 0U);
  EXPECT_EQ(st.dropped, 0U);
  EXPECT_GT(st.retried, 0U);
  auto h = async->history(id, 0, 100);
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  ASSERT_EQ(h->size(), 15U);
  for (size_t i = 0; i < h->size(); ++i) EXPECT_EQ((*h)[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_TRUE(async->health().is_ok());
}

// A conversation's export after its end, from a restarted server: read
// from what the store kept. Its participants' sessions stay private: their
// codes, found in the database, are unknown to the sessions API.
TEST(ConversationAfterItsEnd, TheExportComesFromTheStoreAfterARestartAndItsSessionsStayPrivate) {
  using nlohmann::json;
  const std::string db = testing::temp_db("conversation-after");
  std::string code, token_a, token_b, token_gone;
  {
    testing::ServerProcess server(db, {"--rtc", "off"});
    const auto port = server.port();
    auto created = testing::http_request(port, "POST", "/api/conversations", R"({"title":"Market"})");
    ASSERT_EQ(created.status, 201) << created.body;
    code = json::parse(created.body)["code"];
    auto join = [&](const std::string& name, const std::string& lang) {
      auto r = testing::http_request(port, "POST", "/api/conversations/" + code + "/participants",
                                     json{{"name", name}, {"language", lang}}.dump());
      EXPECT_EQ(r.status, 201) << r.body;
      return json::parse(r.body);
    };
    const auto a = join("Ana", "en"), b = join("Bea", "es"), gone = join("Cy", "es");
    token_a = a["token"];
    token_b = b["token"];
    token_gone = gone["token"];
    testing::WsClient ana(port), bea(port), cy(port);
    for (auto [client, who] : {std::pair{&ana, &a}, std::pair{&bea, &b}, std::pair{&cy, &gone}}) {
      client->send_json({{"type", "join"}, {"role", "participant"}, {"protocol", 1}, {"code", code},
                         {"participant", (*who)["participant"]["id"]}, {"token", (*who)["token"]}});
      ASSERT_TRUE(client->wait_for_type("conversation", 10s));
    }
    // Bea reads each of Ana's sentences in Spanish.
    auto spanish_finals = [&] {
      size_t n = 0;
      for (const auto& m : bea.messages()) {
        n += !m.binary && m.json.value("type", "") == "final" && m.json.value("language", "") == "es";
      }
      return n;
    };
    ana.send_json({{"type", "text"}, {"text", "Good morning."}});
    ASSERT_TRUE(bea.wait_for([&](const auto&) { return spanish_finals() >= 1; }, 15s));
    cy.send_json({{"type", "leave"}});  // Cy leaves before the second sentence and the end
    ASSERT_TRUE(ana.wait_for([](const auto& all) {
      for (const auto& m : all) {
        if (!m.binary && m.json.value("type", "") == "partnerLeft" && m.json.value("forGood", false)) return true;
      }
      return false;
    }, 10s));
    // Times are kept in milliseconds: the next sentence is made in a later one.
    std::this_thread::sleep_for(20ms);
    ana.send_json({{"type", "text"}, {"text", "See you tomorrow."}});
    ASSERT_TRUE(bea.wait_for([&](const auto&) { return spanish_finals() >= 2; }, 15s));
    EXPECT_EQ(testing::http_request(port, "POST", "/api/conversations/" + code + "/end", "", token_gone).status, 403)
        << "who left cannot end it";
    EXPECT_EQ(testing::http_request(port, "POST", "/api/conversations/" + code + "/end", "", token_a).status, 200);
  }  // the server stops: its store writes are flushed

  testing::ServerProcess server(db, {"--rtc", "off"});
  const auto port = server.port();
  EXPECT_EQ(testing::http_request(port, "GET", "/api/conversations/" + code).status, 410);
  const std::string path = "/api/conversations/" + code + "/export?format=json";
  for (const auto& token : {token_a, token_b}) {
    auto r = testing::http_request(port, "GET", path, "", token);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto all = json::parse(r.body);
    EXPECT_EQ(all["title"], "Market");
    ASSERT_EQ(all["items"].size(), 2U) << r.body;
    EXPECT_EQ(all["items"][0]["source"], "Good morning.");
    EXPECT_EQ(all["items"][1]["source"], "See you tomorrow.");
    EXPECT_EQ(all["items"][0]["from"]["name"], "Ana");
    EXPECT_FALSE(all["items"][0]["text"].value("es", "").empty()) << "in Spanish too";
    EXPECT_EQ(all["participants"].size(), 3U);
  }
  auto spanish = testing::http_request(port, "GET", "/api/conversations/" + code + "/export?format=vtt&lang=es", "",
                                       token_b);
  EXPECT_EQ(spanish.status, 200);
  EXPECT_NE(spanish.body.find("Ana: "), std::string::npos) << spanish.body;
  EXPECT_EQ(testing::http_request(port, "GET", "/api/conversations/" + code + "/export?format=vtt&lang=de", "",
                                  token_b).status,
            400)
      << "nobody read German: an error, not an empty file";
  // Who left before the end reads what was said until they left, no more.
  auto until_left = testing::http_request(port, "GET", path, "", token_gone);
  ASSERT_EQ(until_left.status, 200) << until_left.body;
  const auto cys = json::parse(until_left.body)["items"];
  ASSERT_EQ(cys.size(), 1U) << until_left.body;
  EXPECT_EQ(cys[0]["source"], "Good morning.");
  EXPECT_EQ(testing::http_request(port, "GET", path, "", "not-a-token").status, 403);
  EXPECT_EQ(testing::http_request(port, "GET", path).status, 401);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> handle(raw, &sqlite3_close);
  std::vector<std::string> codes;
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT s.code FROM sessions s JOIN conversation_members m ON m.session_id=s.id",
                               -1, &st, nullptr),
            SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) codes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  ASSERT_EQ(codes.size(), 3U);
  // (Each miss costs this address one of its 5 unknown-code tokens.)
  for (const auto& c : codes) EXPECT_EQ(testing::http_request(port, "GET", "/api/sessions/" + c).status, 404) << c;
  EXPECT_EQ(testing::http_request(port, "GET", "/api/sessions/" + codes[0] + "/history").status, 404);
}

}  // namespace
}  // namespace parley::store
