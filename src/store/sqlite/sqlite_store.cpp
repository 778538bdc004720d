// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>

#include "store/lists.h"

namespace parley::store {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA foreign_keys=ON;
CREATE TABLE IF NOT EXISTS sessions (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  source_language TEXT NOT NULL,
  avatar TEXT NOT NULL,
  default_targets TEXT NOT NULL,
  state TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_code ON sessions(code, id);
CREATE TABLE IF NOT EXISTS utterances (
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  seq INTEGER NOT NULL,
  utterance_id INTEGER NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  source_text TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  stt_ms REAL NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS translations (
  session_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  language TEXT NOT NULL,
  text TEXT NOT NULL,
  route TEXT NOT NULL,
  stt_final_ms REAL NOT NULL,
  mt_ms REAL NOT NULL,
  tts_first_audio_ms REAL NOT NULL,
  tts_ms REAL NOT NULL,
  PRIMARY KEY (session_id, seq, language),
  FOREIGN KEY (session_id, seq) REFERENCES utterances(session_id, seq)
);
CREATE TABLE IF NOT EXISTS utterance_timings (
  session_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  language TEXT NOT NULL,
  stage TEXT NOT NULL,
  ms REAL NOT NULL,
  PRIMARY KEY (session_id, seq, language, stage)
);
CREATE TABLE IF NOT EXISTS session_metrics (
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  key TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (session_id, key)
);
)sql";


// An error of `db` as a Status. Errors a later attempt may not meet (busy,
// locked, I/O, full disk) say so with retry_after_s; the others (a broken
// constraint, a bad statement) would fail again and do not.
core::Status sqlite_error(sqlite3* db, const std::string& what) {
  auto st = core::unavailable("database error in " + what + ": " + sqlite3_errmsg(db));
  switch (sqlite3_errcode(db)) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return std::move(st).with_retry_after(1);
    default:
      return st;
  }
}

// A prepared statement, finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); return *this; }
  Stmt& bind(int i, double v) { sqlite3_bind_double(st_, i, v); return *this; }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return sqlite3_step(st_); }
  void reset() { sqlite3_reset(st_); }
  int64_t i64(int c) { return sqlite3_column_int64(st_, c); }
  double dbl(int c) { return sqlite3_column_double(st_, c); }
  std::string text(int c) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, c))) : std::string();
  }
  core::Status done(const char* what) {
    int rc = step();
    if (rc != SQLITE_DONE) return sqlite_error(db_, what);
    return {};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

class SqliteStore final : public Store {
 public:
  // `reader` may be null (an in-memory database has one connection).
  SqliteStore(sqlite3* db, sqlite3* reader) : db_(db), read_db_(reader ? reader : db), read_mu_(reader ? own_read_mu_ : mu_) {}
  ~SqliteStore() override {
    if (read_db_ != db_) sqlite3_close_v2(read_db_);
    sqlite3_close_v2(db_);
  }

  core::Result<int64_t> create_session(const session::SessionInfo& info,
                                       const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "INSERT INTO sessions(code,name,source_language,avatar,default_targets,state,"
                 "token_hash,created_at_ms,listener_key_hash,transcript_public,hide_strong_words,conversation) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st.ok()) return error("prepare create_session");
    st.bind(1, info.code).bind(2, info.spec.name).bind(3, info.spec.source_language)
        .bind(4, info.spec.avatar).bind(5, join_list(info.spec.default_targets))
        .bind(6, std::string(session::state_name(info.state))).bind(7, token_hash)
        .bind(8, info.created_at_ms).bind(9, info.listener_key_hash)
        .bind(10, static_cast<int64_t>(info.transcript_public ? 1 : 0))
        .bind(11, static_cast<int64_t>(info.spec.hide_strong_words ? 1 : 0)).bind(12, info.spec.conversation);
    if (auto s = st.done("create_session"); !s) return s;
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  core::Status set_state(int64_t id, session::State state, int64_t at_ms) override {
    std::lock_guard lock(mu_);
    // Ending stamps ended_at_ms; the first start stamps started_at_ms.
    const bool ended = state == session::State::ended;
    const bool active = state == session::State::active;
    Stmt st(db_, ended    ? "UPDATE sessions SET state=?, ended_at_ms=? WHERE id=?"
                 : active ? "UPDATE sessions SET state=?, started_at_ms=CASE WHEN started_at_ms=0 THEN ? "
                            "ELSE started_at_ms END WHERE id=?"
                          : "UPDATE sessions SET state=? WHERE id=?");
    if (!st.ok()) return error("prepare set_state");
    st.bind(1, std::string(session::state_name(state)));
    if (ended || active) {
      st.bind(2, at_ms).bind(3, id);
    } else {
      st.bind(2, id);
    }
    return st.done("set_state");
  }

  core::Status add_utterance(int64_t id, const HistoryItem& item) override {
    std::lock_guard lock(mu_);
    if (auto begun = exec("BEGIN IMMEDIATE", "begin add_utterance"); !begun) return begun;
    Stmt st(db_, item.fill_only ? "INSERT OR IGNORE INTO utterances(session_id,seq,utterance_id,start_ms,end_ms,"
                                  "source_text,created_at_ms,stt_ms,from_script) VALUES(?,?,?,?,?,?,?,?,?)"
                                : "INSERT OR REPLACE INTO utterances(session_id,seq,utterance_id,start_ms,end_ms,"
                                  "source_text,created_at_ms,stt_ms,from_script) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st.ok()) {
      (void)exec("ROLLBACK", "rollback add_utterance");
      return error("prepare add_utterance");
    }
    st.bind(1, id).bind(2, item.seq).bind(3, static_cast<int64_t>(item.utterance_id))
        .bind(4, item.start_ms).bind(5, item.end_ms).bind(6, item.source_text)
        .bind(7, item.created_at_ms).bind(8, item.stt_ms).bind(9, static_cast<int64_t>(item.from_script));
    if (auto s = st.done("add_utterance"); !s) {
      (void)exec("ROLLBACK", "rollback add_utterance");
      return s;
    }
    for (const auto& [lang, t] : item.translations) {
      if (auto s = insert_translation(id, item.seq, t, item.fill_only); !s) {
        (void)exec("ROLLBACK", "rollback add_utterance");
        return s;
      }
    }
    if (auto committed = exec("COMMIT", "commit add_utterance"); !committed) {
      (void)exec("ROLLBACK", "rollback add_utterance");
      return committed;
    }
    return {};
  }

  core::Status add_translation(int64_t id, int64_t seq, const TranslationRow& t) override {
    std::lock_guard lock(mu_);
    return insert_translation(id, seq, t);
  }

  core::Result<std::optional<StoredSession>> find_session(const std::string& code) override {
    std::lock_guard lock(read_mu_);
    Stmt st(read_db_, "SELECT s.id,s.code,s.name,s.source_language,s.avatar,s.default_targets,s.state,s.token_hash,"
                 "s.created_at_ms,s.ended_at_ms,s.listener_key_hash,s.transcript_public,s.started_at_ms,"
                 "s.hide_strong_words,s.conversation FROM sessions s "
                 "WHERE s.code=? ORDER BY s.id DESC LIMIT 1");
    if (!st.ok()) return read_error("prepare find_session");
    st.bind(1, code);
    int rc = st.step();
    if (rc == SQLITE_DONE) return std::optional<StoredSession>();
    if (rc != SQLITE_ROW) return read_error("find_session");
    StoredSession s;
    s.info.id = st.i64(0);
    s.info.code = st.text(1);
    s.info.spec.name = st.text(2);
    s.info.spec.source_language = st.text(3);
    s.info.spec.avatar = st.text(4);
    s.info.spec.default_targets = split_list(st.text(5));
    s.info.state = session::parse_state(st.text(6)).value_or(session::State::ended);
    s.token_hash = st.text(7);
    s.info.created_at_ms = st.i64(8);
    s.info.ended_at_ms = st.i64(9);
    s.info.listener_key_hash = st.text(10);
    s.info.transcript_public = st.i64(11) != 0;
    s.info.started_at_ms = st.i64(12);
    s.info.spec.hide_strong_words = st.i64(13) != 0;
    s.info.spec.conversation = st.text(14);
    return std::optional<StoredSession>(std::move(s));
  }

  core::Status save_conversation_member(const ConversationMember& m) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "INSERT OR REPLACE INTO conversation_members(session_id,code,conversation_created_at_ms,title,"
                 "participant_id,name,language,token_hash,typed,joined_at_ms,left_at_ms) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    if (!st.ok()) return error("prepare save_conversation_member");
    st.bind(1, m.session_id).bind(2, m.code).bind(3, m.conversation_created_at_ms).bind(4, m.title)
        .bind(5, m.participant_id).bind(6, m.name).bind(7, m.language).bind(8, m.token_hash)
        .bind(9, int64_t{m.typed}).bind(10, m.joined_at_ms).bind(11, m.left_at_ms);
    return st.done("save_conversation_member");
  }

  core::Result<std::optional<StoredConversation>> find_conversation(const std::string& code) override {
    std::lock_guard lock(read_mu_);
    Stmt st(read_db_,
            "SELECT m.session_id,m.conversation_created_at_ms,m.title,m.participant_id,m.name,m.language,"
            "m.token_hash,m.typed,m.joined_at_ms,m.left_at_ms,s.state "
            "FROM conversation_members m JOIN sessions s ON s.id=m.session_id "
            "WHERE m.code=?1 AND m.conversation_created_at_ms=(SELECT MAX(conversation_created_at_ms) "
            "FROM conversation_members WHERE code=?1) ORDER BY m.session_id");
    if (!st.ok()) return read_error("prepare find_conversation");
    st.bind(1, code);
    StoredConversation c;
    int rc = SQLITE_ROW;
    while ((rc = st.step()) == SQLITE_ROW) {
      ConversationMember m;
      m.session_id = st.i64(0);
      m.code = code;
      m.conversation_created_at_ms = st.i64(1);
      m.title = st.text(2);
      m.participant_id = st.text(3);
      m.name = st.text(4);
      m.language = st.text(5);
      m.token_hash = st.text(6);
      m.typed = st.i64(7) != 0;
      m.joined_at_ms = st.i64(8);
      m.left_at_ms = st.i64(9);
      m.session_ended = st.text(10) == "ENDED";
      c.members.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE) return read_error("find_conversation");
    if (c.members.empty()) return std::optional<StoredConversation>();
    c.code = code;
    c.title = c.members.front().title;
    c.created_at_ms = c.members.front().conversation_created_at_ms;
    return std::optional<StoredConversation>(std::move(c));
  }

  core::Result<std::vector<HistoryItem>> history(int64_t id, int64_t after_seq, size_t limit) override {
    std::lock_guard lock(read_mu_);
    std::vector<HistoryItem> items;
    {
      Stmt st(read_db_, "SELECT seq,utterance_id,start_ms,end_ms,source_text,created_at_ms,stt_ms,from_script "
                   "FROM utterances WHERE session_id=? AND seq>? ORDER BY seq LIMIT ?");
      if (!st.ok()) return read_error("prepare history");
      st.bind(1, id).bind(2, after_seq).bind(3, static_cast<int64_t>(limit));
      int rc = SQLITE_ROW;
      while ((rc = st.step()) == SQLITE_ROW) {
        HistoryItem h;
        h.seq = st.i64(0);
        h.utterance_id = static_cast<uint64_t>(st.i64(1));
        h.start_ms = st.i64(2);
        h.end_ms = st.i64(3);
        h.source_text = st.text(4);
        h.created_at_ms = st.i64(5);
        h.stt_ms = st.dbl(6);
        h.from_script = st.i64(7) != 0;
        items.push_back(std::move(h));
      }
      // A read that stops half-way is an error, never a shorter history.
      if (rc != SQLITE_DONE) return read_error("history");
    }
    if (items.empty()) return items;
    Stmt st(read_db_, "SELECT seq,language,text,route,stt_final_ms,mt_ms,tts_first_audio_ms,tts_ms "
                 "FROM translations WHERE session_id=? AND seq BETWEEN ? AND ?");
    if (!st.ok()) return read_error("prepare history translations");
    st.bind(1, id).bind(2, items.front().seq).bind(3, items.back().seq);
    int rc = SQLITE_ROW;
    while ((rc = st.step()) == SQLITE_ROW) {
      int64_t seq = st.i64(0);
      auto it = std::lower_bound(items.begin(), items.end(), seq,
                                 [](const HistoryItem& h, int64_t s) { return h.seq < s; });
      if (it == items.end() || it->seq != seq) continue;
      TranslationRow t;
      t.language = st.text(1);
      t.text = st.text(2);
      t.route = st.text(3);
      t.latencies = {st.dbl(4), st.dbl(5), st.dbl(6), st.dbl(7)};
      it->translations[t.language] = std::move(t);
    }
    if (rc != SQLITE_DONE) return read_error("history translations");
    Stmt tt(read_db_, "SELECT seq,language,stage,ms FROM utterance_timings WHERE session_id=? AND seq BETWEEN ? AND ? "
                 "ORDER BY seq, language, ms");
    if (!tt.ok()) return read_error("prepare history timings");
    tt.bind(1, id).bind(2, items.front().seq).bind(3, items.back().seq);
    while ((rc = tt.step()) == SQLITE_ROW) {
      auto it = std::lower_bound(items.begin(), items.end(), tt.i64(0),
                                 [](const HistoryItem& h, int64_t s) { return h.seq < s; });
      if (it == items.end() || it->seq != tt.i64(0)) continue;
      it->timings.push_back({tt.text(1), tt.text(2), tt.dbl(3)});
    }
    if (rc != SQLITE_DONE) return read_error("history timings");
    return items;
  }

  core::Status add_timings(int64_t id, int64_t seq, const std::vector<StageTiming>& timings) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "INSERT OR REPLACE INTO utterance_timings(session_id,seq,language,stage,ms) VALUES(?,?,?,?,?)");
    if (!st.ok()) return error("prepare add_timings");
    for (const auto& t : timings) {
      st.reset();
      st.bind(1, id).bind(2, seq).bind(3, t.language).bind(4, t.stage).bind(5, t.ms);
      if (auto done = st.done("add_timings"); !done) return done;
    }
    return {};
  }

  core::Status set_metric(int64_t id, const std::string& key, double value) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "INSERT OR REPLACE INTO session_metrics(session_id,key,value) VALUES(?,?,?)");
    if (!st.ok()) return error("prepare set_metric");
    st.bind(1, id).bind(2, key).bind(3, value);
    return st.done("set_metric");
  }

  core::Result<std::map<std::string, double>> metrics(int64_t id) override {
    std::lock_guard lock(read_mu_);
    Stmt st(read_db_, "SELECT key,value FROM session_metrics WHERE session_id=?");
    if (!st.ok()) return read_error("prepare metrics");
    st.bind(1, id);
    std::map<std::string, double> out;
    for (int rc = st.step(); rc != SQLITE_DONE; rc = st.step()) {
      if (rc != SQLITE_ROW) return read_error("metrics");
      out[st.text(0)] = st.dbl(1);
    }
    return out;
  }

  core::Status set_transcript_public(int64_t id, bool is_public) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "UPDATE sessions SET transcript_public=? WHERE id=?");
    if (!st.ok()) return error("prepare set_transcript_public");
    st.bind(1, static_cast<int64_t>(is_public ? 1 : 0)).bind(2, id);
    return st.done("set_transcript_public");
  }

  core::Result<int> delete_ended_before(int64_t at_ms) override {
    std::lock_guard lock(mu_);
    // What was said in the old sessions first, then the sessions (the last
    // statement's count is the answer).
    static const std::string kOld =
        " WHERE session_id IN (SELECT id FROM sessions WHERE state='ENDED' AND ended_at_ms>0 AND ended_at_ms<?)";
    static const std::string kStatements[] = {
        "DELETE FROM translations" + kOld, "DELETE FROM utterance_timings" + kOld,
        "DELETE FROM session_metrics" + kOld, "DELETE FROM utterances" + kOld,
        "DELETE FROM conversation_members" + kOld,
        "DELETE FROM sessions WHERE state='ENDED' AND ended_at_ms>0 AND ended_at_ms<?"};
    if (auto begun = exec("BEGIN IMMEDIATE", "begin retention"); !begun) return begun;
    for (const auto& sql : kStatements) {
      Stmt st(db_, sql.c_str());
      auto done = st.ok() ? st.bind(1, at_ms).done("retention") : error("prepare retention");
      if (!done) {
        (void)exec("ROLLBACK", "rollback retention");
        return done;
      }
    }
    const int n = sqlite3_changes(db_);
    if (auto committed = exec("COMMIT", "commit retention"); !committed) {
      (void)exec("ROLLBACK", "rollback retention");
      return committed;
    }
    return n;
  }

  core::Result<int> end_interrupted_sessions(int64_t at_ms) override {
    std::lock_guard lock(mu_);
    Stmt st(db_, "UPDATE sessions SET state='ENDED', ended_at_ms=? WHERE state!='ENDED'");
    if (!st.ok()) return error("prepare end_interrupted_sessions");
    st.bind(1, at_ms);
    if (auto s = st.done("end_interrupted_sessions"); !s) return s;
    return sqlite3_changes(db_);
  }

 private:
  core::Status insert_translation(int64_t id, int64_t seq, const TranslationRow& t, bool fill_only = false) {
    Stmt st(db_, fill_only ? "INSERT OR IGNORE INTO translations(session_id,seq,language,text,route,"
                             "stt_final_ms,mt_ms,tts_first_audio_ms,tts_ms) VALUES(?,?,?,?,?,?,?,?,?)"
                           : "INSERT OR REPLACE INTO translations(session_id,seq,language,text,route,"
                             "stt_final_ms,mt_ms,tts_first_audio_ms,tts_ms) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st.ok()) return error("prepare add_translation");
    st.bind(1, id).bind(2, seq).bind(3, t.language).bind(4, t.text).bind(5, t.route)
        .bind(6, t.latencies.stt_final_ms).bind(7, t.latencies.mt_ms)
        .bind(8, t.latencies.tts_first_audio_ms).bind(9, t.latencies.tts_ms);
    return st.done("add_translation");
  }
  core::Status exec(const char* sql, const char* what) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return error(what);
    return {};
  }
  core::Status error(const std::string& what) { return sqlite_error(db_, what); }

  core::Status read_error(const std::string& what) { return sqlite_error(read_db_, what); }

  // Writes go through db_; reads through their own connection, so in WAL
  // mode a read never waits for a write (of this process or another).
  std::mutex mu_;
  sqlite3* db_;
  sqlite3* read_db_;
  std::mutex own_read_mu_;
  std::mutex& read_mu_;
};

// Versioned migrations: PRAGMA user_version is the newest one applied.
// Version 1 is kSchema; version k + 2 applies kAdded[k]: a column (added
// unless it is there already, so a database from before versions were kept
// is brought up as well) or, with no table, a statement that is safe to run
// twice. Never edit a released one: add the next.
core::Status migrate(sqlite3* db) {
  struct Column {
    const char* table;  // nullptr: `definition` is a statement
    const char* name;
    const char* definition;
  };
  static constexpr Column kAdded[] = {
      {"sessions", "listener_key_hash", "TEXT NOT NULL DEFAULT ''"},
      {"sessions", "transcript_public", "INTEGER NOT NULL DEFAULT 0"},
      {"utterances", "from_script", "INTEGER NOT NULL DEFAULT 0"},
      {"sessions", "started_at_ms", "INTEGER NOT NULL DEFAULT 0"},
      {"sessions", "hide_strong_words", "INTEGER NOT NULL DEFAULT 0"},
      {nullptr, "conversation_members",
       "CREATE TABLE IF NOT EXISTS conversation_members ("
       "session_id INTEGER PRIMARY KEY REFERENCES sessions(id), code TEXT NOT NULL, "
       "conversation_created_at_ms INTEGER NOT NULL, title TEXT NOT NULL, participant_id TEXT NOT NULL, "
       "name TEXT NOT NULL, language TEXT NOT NULL, token_hash TEXT NOT NULL, typed INTEGER NOT NULL DEFAULT 0, "
       "joined_at_ms INTEGER NOT NULL DEFAULT 0, left_at_ms INTEGER NOT NULL DEFAULT 0);"
       "CREATE INDEX IF NOT EXISTS conversation_members_by_code "
       "ON conversation_members(code, conversation_created_at_ms);"},
      // The conversation a session is a participant's voice in, written with
      // the session itself: it is private from its first row.
      {"sessions", "conversation", "TEXT NOT NULL DEFAULT ''"},
  };
  int version = 0;
  {
    Stmt v(db, "PRAGMA user_version");
    if (v.step() == SQLITE_ROW) version = static_cast<int>(v.i64(0));
  }
  const int newest = 1 + static_cast<int>(std::size(kAdded));
  if (version > newest) {
    return core::failed_precondition("the database's schema (version " + std::to_string(version) +
                                     ") is newer than this parley knows (" + std::to_string(newest) + "); upgrade parley");
  }
  for (size_t k = 0; k < std::size(kAdded); ++k) {
    const auto& c = kAdded[k];
    const int target = static_cast<int>(k) + 2;
    if (target <= version) continue;
    std::string sql;
    if (c.table == nullptr) {
      sql = c.definition;
    } else {
      std::vector<std::string> have;
      {
        const std::string info = std::string("PRAGMA table_info(") + c.table + ")";
        Stmt st(db, info.c_str());
        while (st.step() == SQLITE_ROW) have.push_back(st.text(1));
      }
      if (std::find(have.begin(), have.end(), c.name) == have.end()) {
        sql = std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.name + " " + c.definition + ";";
      }
    }
    sql = "BEGIN IMMEDIATE;" + sql + "PRAGMA user_version=" + std::to_string(target) + ";COMMIT;";
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "unknown";
      sqlite3_free(err);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return core::unavailable(why);
    }
  }
  return {};
}

}  // namespace

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return core::unavailable("cannot open database '" + path + "': " + why +
                             "; check the directory exists and is writable");
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    sqlite3_close_v2(db);
    return core::unavailable("cannot initialise database '" + path + "': " + why);
  }
  sqlite3* reader = nullptr;
  if (path != ":memory:" && !path.empty()) {
    if (sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      std::string why = reader ? sqlite3_errmsg(reader) : "out of memory";
      sqlite3_close_v2(reader);
      sqlite3_close_v2(db);
      return core::unavailable("cannot open database '" + path + "' for reading: " + why);
    }
    sqlite3_busy_timeout(reader, 5000);
  }
  if (auto st = migrate(db); !st) {
    sqlite3_close_v2(reader);
    sqlite3_close_v2(db);
    return core::unavailable("cannot upgrade database '" + path + "': " + st.message());
  }
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(db, reader));
}

}  // namespace parley::store
