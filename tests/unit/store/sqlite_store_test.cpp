// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace parley::store {
namespace {

session::SessionInfo info(const std::string& code) {
  session::SessionInfo i;
  i.code = code;
  i.spec.name = "Talk " + code;
  i.spec.source_language = "en";
  i.listener_key_hash = session::hash_token("key-" + code);
  return i;
}

HistoryItem item(int64_t seq, const std::string& text) {
  HistoryItem h;
  h.seq = seq;
  h.source_text = text;
  h.translations["es"] = TranslationRow{"es", text + " (es)", "apertium", {}};
  return h;
}

TEST(SqliteStore, RetentionDeletesOnlySessionsThatEndedBeforeTheCutOff) {
  auto store = std::move(*open_sqlite_store(":memory:"));
  auto old_id = *store->create_session(info("111111"), "t1");
  auto recent_id = *store->create_session(info("222222"), "t2");
  auto live_id = *store->create_session(info("333333"), "t3");
  for (auto id : {old_id, recent_id, live_id}) ASSERT_TRUE(store->add_utterance(id, item(1, "hello")));
  ASSERT_TRUE(store->set_state(old_id, session::State::ended, 1000));
  ASSERT_TRUE(store->set_state(recent_id, session::State::ended, 5000));
  auto n = store->delete_ended_before(2000);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE((*store->find_session("111111")).has_value());
  EXPECT_TRUE(store->history(old_id, 0, 10)->empty());
  EXPECT_EQ(store->history(recent_id, 0, 10)->size(), 1u);
  EXPECT_EQ(store->history(live_id, 0, 10)->size(), 1u) << "a session still running is never deleted";
}

TEST(SqliteStore, KeepsTheListenerKeyHashAndThePublicFlag) {
  auto store = std::move(*open_sqlite_store(":memory:"));
  auto id = *store->create_session(info("444444"), "t");
  auto found = *store->find_session("444444");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->info.listener_key_hash, session::hash_token("key-444444"));
  EXPECT_FALSE(found->info.transcript_public);
  ASSERT_TRUE(store->set_transcript_public(id, true));
  EXPECT_TRUE((*store->find_session("444444"))->info.transcript_public);
}

TEST(SqliteStore, MetricsAreReadBackPerSessionWithTheLastValueOfEachKey) {
  auto store = std::move(*open_sqlite_store(":memory:"));
  auto a = *store->create_session(info("555555"), "t");
  auto b = *store->create_session(info("666666"), "t");
  ASSERT_TRUE(store->set_metric(a, "peak_listeners.es", 3));
  ASSERT_TRUE(store->set_metric(a, "peak_listeners.es", 7));
  ASSERT_TRUE(store->set_metric(a, "utterances", 12));
  ASSERT_TRUE(store->set_metric(b, "utterances", 1));
  const std::map<std::string, double> want{{"peak_listeners.es", 7}, {"utterances", 12}};
  EXPECT_EQ(*store->metrics(a), want);
  EXPECT_EQ(store->metrics(b)->size(), 1u);
  EXPECT_TRUE(store->metrics(999)->empty());
}

TEST(SqliteStore, TheFirstStartIsStampedOnceAndTheEndSeparately) {
  auto store = std::move(*open_sqlite_store(":memory:"));
  auto id = *store->create_session(info("777777"), "t");
  EXPECT_EQ((*store->find_session("777777"))->info.started_at_ms, 0);
  ASSERT_TRUE(store->set_state(id, session::State::active, 1000));
  ASSERT_TRUE(store->set_state(id, session::State::paused, 2000));
  ASSERT_TRUE(store->set_state(id, session::State::active, 3000));
  ASSERT_TRUE(store->set_state(id, session::State::ended, 4000));
  const auto found = *store->find_session("777777");
  EXPECT_EQ(found->info.started_at_ms, 1000);
  EXPECT_EQ(found->info.ended_at_ms, 4000);
}

TEST(SqliteStore, ADatabaseFromBeforeTheNewColumnsIsUpgradedAtOpen) {
  const auto path = std::filesystem::temp_directory_path() / ("parley-migrate-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE sessions (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, "
                         "source_language TEXT NOT NULL, avatar TEXT NOT NULL, default_targets TEXT NOT NULL, "
                         "state TEXT NOT NULL, token_hash TEXT NOT NULL, created_at_ms INTEGER NOT NULL, "
                         "ended_at_ms INTEGER NOT NULL DEFAULT 0);"
                         "INSERT INTO sessions(code,name,source_language,avatar,default_targets,state,token_hash,"
                         "created_at_ms) VALUES('555555','Old','en','ada','','ENDED','h',1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto opened = open_sqlite_store(path.string());
  ASSERT_TRUE(opened.is_ok()) << opened.status().message();
  auto found = *(*opened)->find_session("555555");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->info.spec.name, "Old");
  EXPECT_EQ(found->info.listener_key_hash, "") << "an old session has no key: only its speaker reads it";
  opened = core::unavailable("closed");  // closes the database before the file goes
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace parley::store
