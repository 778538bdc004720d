// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "core/log.h"
#include "store/lists.h"

namespace parley::store {
namespace {

// Versioned migrations, applied in order at open under an advisory lock (so
// nodes starting together apply each once). Never edit a released one:
// add the next.
struct Migration {
  int version;
  const char* sql;
};
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE sessions (
  id BIGSERIAL PRIMARY KEY,
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  source_language TEXT NOT NULL,
  avatar TEXT NOT NULL,
  default_targets TEXT NOT NULL,
  state TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  started_at_ms BIGINT NOT NULL DEFAULT 0,
  ended_at_ms BIGINT NOT NULL DEFAULT 0,
  listener_key_hash TEXT NOT NULL DEFAULT '',
  transcript_public BOOLEAN NOT NULL DEFAULT FALSE,
  hide_strong_words BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_by_code ON sessions(code, id);
CREATE TABLE utterances (
  session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  utterance_id BIGINT NOT NULL,
  start_ms BIGINT NOT NULL,
  end_ms BIGINT NOT NULL,
  source_text TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  stt_ms DOUBLE PRECISION NOT NULL,
  from_script BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (session_id, seq)
);
CREATE TABLE translations (
  session_id BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  language TEXT NOT NULL,
  text TEXT NOT NULL,
  route TEXT NOT NULL,
  stt_final_ms DOUBLE PRECISION NOT NULL,
  mt_ms DOUBLE PRECISION NOT NULL,
  tts_first_audio_ms DOUBLE PRECISION NOT NULL,
  tts_ms DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (session_id, seq, language),
  FOREIGN KEY (session_id, seq) REFERENCES utterances(session_id, seq) ON DELETE CASCADE
);
CREATE TABLE utterance_timings (
  session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  language TEXT NOT NULL,
  stage TEXT NOT NULL,
  ms DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (session_id, seq, language, stage)
);
CREATE TABLE session_metrics (
  session_id BIGINT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (session_id, key)
);
)sql"},
    {2, R"sql(
CREATE TABLE conversation_members (
  session_id BIGINT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  code TEXT NOT NULL,
  conversation_created_at_ms BIGINT NOT NULL,
  title TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  language TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  typed BOOLEAN NOT NULL DEFAULT FALSE,
  joined_at_ms BIGINT NOT NULL DEFAULT 0,
  left_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX conversation_members_by_code ON conversation_members(code, conversation_created_at_ms);
ALTER TABLE sessions ADD COLUMN conversation TEXT NOT NULL DEFAULT '';
)sql"},
};
// Any constant: the lock every node takes while it migrates.
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7261636)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7261636)";


using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

// One connection and its lock. A lost connection is made again on the next
// call; the call that found it lost reports unavailable with a retry hint
// (AsyncStore tries writes again; reads answer 503).
class Connection {
 public:
  explicit Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~Connection() {
    if (conn_) PQfinish(conn_);
  }

  core::Status open() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return {};
    if (conn_) {
      PQreset(conn_);
    } else {
      // A server that does not answer fails a connection in 5 s, and one
      // that vanished is found by keepalives (or 20 s of unacknowledged
      // writes) rather than the system's minutes, while a store lock is
      // held. The operator's own settings in --db come later and win.
      const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                            "keepalives_count", "tcp_user_timeout", "dbname", nullptr};
      const char* values[] = {"5", "1", "10", "3", "3", "20000", conninfo_.c_str(), nullptr};
      conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
      // The server's notices ("relation … already exists, skipping" from
      // the migrations) go to the log at debug level, not raw to stderr.
      PQsetNoticeProcessor(
          conn_,
          [](void*, const char* message) { core::log_debug("store", first_line(message)); },
          nullptr);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      return core::unavailable(std::string("PostgreSQL: ") + first_line(PQerrorMessage(conn_)))
          .with_retry_after(1);
    }
    // Short statements only: a stuck server fails a call rather than holding it.
    ResultPtr r(PQexec(conn_, "SET statement_timeout = '10s'"), &PQclear);
    return {};
  }

  // Runs `sql` with text parameters; the result on success.
  core::Result<ResultPtr> run(const std::string& what, const char* sql, const std::vector<std::string>& params = {}) {
    if (in_transaction && (!conn_ || PQstatus(conn_) != CONNECTION_OK)) {
      // The transaction went with the connection: the rest of it must not
      // run on a new one as separate statements. The caller starts again.
      in_transaction = false;
      return core::unavailable("PostgreSQL: the connection was lost in " + what).with_retry_after(1);
    }
    if (auto st = open(); !st) return st;
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    // Without parameters, the simple protocol: a migration is several statements.
    ResultPtr r(params.empty() ? PQexec(conn_, sql)
                               : PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr, values.data(),
                                              nullptr, nullptr, 0),
                &PQclear);
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    const std::string why = first_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    auto st = core::unavailable("PostgreSQL error in " + what + ": " + why);
    // A connection that broke, or a server shutting down, may be back soon;
    // a broken constraint or statement would fail again.
    if (PQstatus(conn_) != CONNECTION_OK) return std::move(st).with_retry_after(1);
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string code = state ? state : "";
    if (code.rfind("08", 0) == 0 || code.rfind("57", 0) == 0 || code == "40001" || code == "40P01" ||
        code == "53300") {
      return std::move(st).with_retry_after(1);
    }
    return st;
  }

  std::mutex mu;
  bool in_transaction = false;  // guarded by mu: between BEGIN and COMMIT/ROLLBACK

 private:
  static std::string first_line(const char* s) {
    std::string m = s ? s : "unknown error";
    if (auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
    return m;
  }
  std::string conninfo_;
  PGconn* conn_ = nullptr;
};

std::string text(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? std::string() : std::string(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}
int64_t i64(const PGresult* r, int row, int col) { return std::stoll(text(r, row, col).empty() ? "0" : text(r, row, col)); }
double dbl(const PGresult* r, int row, int col) { return std::stod(text(r, row, col).empty() ? "0" : text(r, row, col)); }
bool boolean(const PGresult* r, int row, int col) { return text(r, row, col) == "t"; }
std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const std::string& conninfo) : write_(conninfo), read_(conninfo) {}

  core::Status open() {
    std::lock_guard lock(write_.mu);
    if (auto st = write_.open(); !st) return st;
    // One node at a time; each migration in its own transaction.
    if (auto r = write_.run("migration lock", kMigrationLock); !r) return r.status();
    auto st = migrate();
    (void)write_.run("migration unlock", kMigrationUnlock);
    return st;
  }

  core::Result<int64_t> create_session(const session::SessionInfo& info, const std::string& token_hash) override {
    std::lock_guard lock(write_.mu);
    auto r = write_.run("create_session",
                        "INSERT INTO sessions(code,name,source_language,avatar,default_targets,state,token_hash,"
                        "created_at_ms,listener_key_hash,transcript_public,hide_strong_words,conversation) "
                        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
                        {info.code, info.spec.name, info.spec.source_language, info.spec.avatar,
                         join_list(info.spec.default_targets), session::state_name(info.state), token_hash,
                         std::to_string(info.created_at_ms), info.listener_key_hash,
                         info.transcript_public ? "true" : "false", info.spec.hide_strong_words ? "true" : "false",
                         info.spec.conversation});
    if (!r) return r.status();
    return i64(r->get(), 0, 0);
  }

  core::Status set_state(int64_t id, session::State state, int64_t at_ms) override {
    std::lock_guard lock(write_.mu);
    const bool ended = state == session::State::ended;
    const bool active = state == session::State::active;
    const char* sql = ended    ? "UPDATE sessions SET state=$1, ended_at_ms=$2 WHERE id=$3"
                      : active ? "UPDATE sessions SET state=$1, started_at_ms=CASE WHEN started_at_ms=0 THEN $2 "
                                 "ELSE started_at_ms END WHERE id=$3"
                               : "UPDATE sessions SET state=$1 WHERE id=$3 AND $2::BIGINT IS NOT NULL";
    return write_.run("set_state", sql, {session::state_name(state), std::to_string(at_ms), std::to_string(id)})
        .status();
  }

  core::Status add_utterance(int64_t id, const HistoryItem& item) override {
    std::lock_guard lock(write_.mu);
    if (auto r = write_.run("begin add_utterance", "BEGIN"); !r) return r.status();
    write_.in_transaction = true;
    auto fail = [&](core::Status st) {
      if (write_.in_transaction) (void)write_.run("rollback add_utterance", "ROLLBACK");
      write_.in_transaction = false;
      return st;
    };
    const std::string sql =
        std::string("INSERT INTO utterances(session_id,seq,utterance_id,start_ms,end_ms,source_text,created_at_ms,"
                    "stt_ms,from_script) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ") +
        (item.fill_only ? "ON CONFLICT (session_id, seq) DO NOTHING"
                        : "ON CONFLICT (session_id, seq) DO UPDATE SET utterance_id=EXCLUDED.utterance_id, "
                          "start_ms=EXCLUDED.start_ms, end_ms=EXCLUDED.end_ms, source_text=EXCLUDED.source_text, "
                          "created_at_ms=EXCLUDED.created_at_ms, stt_ms=EXCLUDED.stt_ms, "
                          "from_script=EXCLUDED.from_script");
    auto r = write_.run("add_utterance", sql.c_str(),
                        {std::to_string(id), std::to_string(item.seq), std::to_string(item.utterance_id),
                         std::to_string(item.start_ms), std::to_string(item.end_ms), item.source_text,
                         std::to_string(item.created_at_ms), num(item.stt_ms), item.from_script ? "true" : "false"});
    if (!r) return fail(r.status());
    for (const auto& [lang, t] : item.translations) {
      if (auto st = insert_translation(id, item.seq, t, item.fill_only); !st) return fail(st);
    }
    if (auto c = write_.run("commit add_utterance", "COMMIT"); !c) return fail(c.status());
    write_.in_transaction = false;
    return {};
  }

  core::Status add_translation(int64_t id, int64_t seq, const TranslationRow& t) override {
    std::lock_guard lock(write_.mu);
    return insert_translation(id, seq, t);
  }

  core::Result<std::optional<StoredSession>> find_session(const std::string& code) override {
    std::lock_guard lock(read_.mu);
    auto r = read_.run("find_session",
                       "SELECT s.id,s.code,s.name,s.source_language,s.avatar,s.default_targets,s.state,"
                       "s.token_hash,s.created_at_ms,s.ended_at_ms,s.listener_key_hash,s.transcript_public,"
                       "s.started_at_ms,s.hide_strong_words,s.conversation FROM sessions s "
                       "WHERE s.code=$1 ORDER BY s.id DESC LIMIT 1",
                       {code});
    if (!r) return r.status();
    const PGresult* p = r->get();
    if (PQntuples(p) == 0) return std::optional<StoredSession>();
    StoredSession s;
    s.info.id = i64(p, 0, 0);
    s.info.code = text(p, 0, 1);
    s.info.spec.name = text(p, 0, 2);
    s.info.spec.source_language = text(p, 0, 3);
    s.info.spec.avatar = text(p, 0, 4);
    s.info.spec.default_targets = split_list(text(p, 0, 5));
    s.info.state = session::parse_state(text(p, 0, 6)).value_or(session::State::ended);
    s.token_hash = text(p, 0, 7);
    s.info.created_at_ms = i64(p, 0, 8);
    s.info.ended_at_ms = i64(p, 0, 9);
    s.info.listener_key_hash = text(p, 0, 10);
    s.info.transcript_public = boolean(p, 0, 11);
    s.info.started_at_ms = i64(p, 0, 12);
    s.info.spec.hide_strong_words = boolean(p, 0, 13);
    s.info.spec.conversation = text(p, 0, 14);
    return std::optional<StoredSession>(std::move(s));
  }

  core::Status save_conversation_member(const ConversationMember& m) override {
    std::lock_guard lock(write_.mu);
    return write_
        .run("save_conversation_member",
             "INSERT INTO conversation_members(session_id,code,conversation_created_at_ms,title,participant_id,"
             "name,language,token_hash,typed,joined_at_ms,left_at_ms) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
             "ON CONFLICT (session_id) DO UPDATE SET code=EXCLUDED.code, "
             "conversation_created_at_ms=EXCLUDED.conversation_created_at_ms, title=EXCLUDED.title, "
             "participant_id=EXCLUDED.participant_id, name=EXCLUDED.name, language=EXCLUDED.language, "
             "token_hash=EXCLUDED.token_hash, typed=EXCLUDED.typed, joined_at_ms=EXCLUDED.joined_at_ms, "
             "left_at_ms=EXCLUDED.left_at_ms",
             {std::to_string(m.session_id), m.code, std::to_string(m.conversation_created_at_ms), m.title,
              m.participant_id, m.name, m.language, m.token_hash, m.typed ? "true" : "false",
              std::to_string(m.joined_at_ms), std::to_string(m.left_at_ms)})
        .status();
  }

  core::Result<std::optional<StoredConversation>> find_conversation(const std::string& code) override {
    std::lock_guard lock(read_.mu);
    auto r = read_.run("find_conversation",
                       "SELECT m.session_id,m.conversation_created_at_ms,m.title,m.participant_id,m.name,m.language,"
                       "m.token_hash,m.typed,m.joined_at_ms,m.left_at_ms,s.state FROM conversation_members m "
                       "JOIN sessions s ON s.id=m.session_id WHERE m.code=$1 AND m.conversation_created_at_ms="
                       "(SELECT MAX(conversation_created_at_ms) FROM conversation_members WHERE code=$1) "
                       "ORDER BY m.session_id",
                       {code});
    if (!r) return r.status();
    const PGresult* p = r->get();
    if (PQntuples(p) == 0) return std::optional<StoredConversation>();
    StoredConversation c;
    c.code = code;
    for (int i = 0; i < PQntuples(p); ++i) {
      ConversationMember m;
      m.session_id = i64(p, i, 0);
      m.code = code;
      m.conversation_created_at_ms = i64(p, i, 1);
      m.title = text(p, i, 2);
      m.participant_id = text(p, i, 3);
      m.name = text(p, i, 4);
      m.language = text(p, i, 5);
      m.token_hash = text(p, i, 6);
      m.typed = boolean(p, i, 7);
      m.joined_at_ms = i64(p, i, 8);
      m.left_at_ms = i64(p, i, 9);
      m.session_ended = text(p, i, 10) == "ENDED";
      c.members.push_back(std::move(m));
    }
    c.title = c.members.front().title;
    c.created_at_ms = c.members.front().conversation_created_at_ms;
    return std::optional<StoredConversation>(std::move(c));
  }

  core::Result<std::vector<HistoryItem>> history(int64_t id, int64_t after_seq, size_t limit) override {
    std::lock_guard lock(read_.mu);
    // One snapshot for the three reads: a final and its translations agree.
    if (auto b = read_.run("begin history", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !b) return b.status();
    auto out = read_history(id, after_seq, limit);
    (void)read_.run("end history", "COMMIT");
    return out;
  }

  core::Status add_timings(int64_t id, int64_t seq, const std::vector<StageTiming>& timings) override {
    std::lock_guard lock(write_.mu);
    for (const auto& t : timings) {
      auto r = write_.run("add_timings",
                          "INSERT INTO utterance_timings(session_id,seq,language,stage,ms) VALUES($1,$2,$3,$4,$5) "
                          "ON CONFLICT (session_id,seq,language,stage) DO UPDATE SET ms=EXCLUDED.ms",
                          {std::to_string(id), std::to_string(seq), t.language, t.stage, num(t.ms)});
      if (!r) return r.status();
    }
    return {};
  }

  core::Status set_metric(int64_t id, const std::string& key, double value) override {
    std::lock_guard lock(write_.mu);
    return write_
        .run("set_metric",
             "INSERT INTO session_metrics(session_id,key,value) VALUES($1,$2,$3) "
             "ON CONFLICT (session_id,key) DO UPDATE SET value=EXCLUDED.value",
             {std::to_string(id), key, num(value)})
        .status();
  }

  core::Result<std::map<std::string, double>> metrics(int64_t id) override {
    std::lock_guard lock(read_.mu);
    auto r = read_.run("metrics", "SELECT key,value FROM session_metrics WHERE session_id=$1", {std::to_string(id)});
    if (!r) return r.status();
    std::map<std::string, double> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out[text(r->get(), i, 0)] = dbl(r->get(), i, 1);
    return out;
  }

  core::Result<int> end_interrupted_sessions(int64_t at_ms) override {
    std::lock_guard lock(write_.mu);
    auto r = write_.run("end_interrupted_sessions",
                        "UPDATE sessions SET state='ENDED', ended_at_ms=$1 WHERE state<>'ENDED'",
                        {std::to_string(at_ms)});
    if (!r) return r.status();
    return std::atoi(PQcmdTuples(r->get()));
  }

  core::Status set_transcript_public(int64_t id, bool is_public) override {
    std::lock_guard lock(write_.mu);
    return write_
        .run("set_transcript_public", "UPDATE sessions SET transcript_public=$1 WHERE id=$2",
             {is_public ? "true" : "false", std::to_string(id)})
        .status();
  }

  core::Result<int> delete_ended_before(int64_t at_ms) override {
    std::lock_guard lock(write_.mu);
    // Everything said in them goes with them (ON DELETE CASCADE).
    auto r = write_.run("retention", "DELETE FROM sessions WHERE state='ENDED' AND ended_at_ms>0 AND ended_at_ms<$1",
                        {std::to_string(at_ms)});
    if (!r) return r.status();
    return std::atoi(PQcmdTuples(r->get()));
  }

 private:
  core::Status migrate() {
    if (auto r = write_.run("migrations table",
                            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                            "applied_at_ms BIGINT NOT NULL)");
        !r) {
      return r.status();
    }
    auto have = write_.run("migrations", "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!have) return have.status();
    const int64_t current = i64(have->get(), 0, 0);
    const int64_t newest = kMigrations[std::size(kMigrations) - 1].version;
    if (current > newest) {
      return core::failed_precondition("the database's schema (version " + std::to_string(current) +
                                       ") is newer than this parley knows (" + std::to_string(newest) +
                                       "); upgrade parley on this node");
    }
    for (const auto& m : kMigrations) {
      if (m.version <= current) continue;
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      if (auto b = write_.run("begin migration", "BEGIN"); !b) return b.status();
      auto applied = write_.run("migration " + std::to_string(m.version), m.sql);
      if (applied) {
        applied = write_.run("record migration", "INSERT INTO schema_migrations(version, applied_at_ms) VALUES($1,$2)",
                             {std::to_string(m.version), std::to_string(now)});
      }
      if (applied) applied = write_.run("commit migration", "COMMIT");
      if (!applied) {
        (void)write_.run("rollback migration", "ROLLBACK");
        return applied.status();
      }
      core::log_info("store", "PostgreSQL schema migrated to version " + std::to_string(m.version));
    }
    return {};
  }

  core::Result<std::vector<HistoryItem>> read_history(int64_t id, int64_t after_seq, size_t limit) {
    std::vector<HistoryItem> items;
    auto r = read_.run("history",
                       "SELECT seq,utterance_id,start_ms,end_ms,source_text,created_at_ms,stt_ms,from_script "
                       "FROM utterances WHERE session_id=$1 AND seq>$2 ORDER BY seq LIMIT $3",
                       {std::to_string(id), std::to_string(after_seq), std::to_string(limit)});
    if (!r) return r.status();
    const PGresult* p = r->get();
    for (int i = 0; i < PQntuples(p); ++i) {
      HistoryItem h;
      h.seq = i64(p, i, 0);
      h.utterance_id = static_cast<uint64_t>(i64(p, i, 1));
      h.start_ms = i64(p, i, 2);
      h.end_ms = i64(p, i, 3);
      h.source_text = text(p, i, 4);
      h.created_at_ms = i64(p, i, 5);
      h.stt_ms = dbl(p, i, 6);
      h.from_script = boolean(p, i, 7);
      items.push_back(std::move(h));
    }
    if (items.empty()) return items;
    const std::vector<std::string> range{std::to_string(id), std::to_string(items.front().seq),
                                         std::to_string(items.back().seq)};
    auto find = [&](int64_t seq) {
      auto it = std::lower_bound(items.begin(), items.end(), seq, [](const HistoryItem& h, int64_t s) { return h.seq < s; });
      return it != items.end() && it->seq == seq ? it : items.end();
    };
    auto tr = read_.run("history translations",
                        "SELECT seq,language,text,route,stt_final_ms,mt_ms,tts_first_audio_ms,tts_ms FROM translations "
                        "WHERE session_id=$1 AND seq BETWEEN $2 AND $3",
                        range);
    if (!tr) return tr.status();
    for (int i = 0; i < PQntuples(tr->get()); ++i) {
      auto it = find(i64(tr->get(), i, 0));
      if (it == items.end()) continue;
      TranslationRow t;
      t.language = text(tr->get(), i, 1);
      t.text = text(tr->get(), i, 2);
      t.route = text(tr->get(), i, 3);
      t.latencies = {dbl(tr->get(), i, 4), dbl(tr->get(), i, 5), dbl(tr->get(), i, 6), dbl(tr->get(), i, 7)};
      it->translations[t.language] = std::move(t);
    }
    auto tt = read_.run("history timings",
                        "SELECT seq,language,stage,ms FROM utterance_timings WHERE session_id=$1 AND seq BETWEEN $2 "
                        "AND $3 ORDER BY seq, language, ms",
                        range);
    if (!tt) return tt.status();
    for (int i = 0; i < PQntuples(tt->get()); ++i) {
      auto it = find(i64(tt->get(), i, 0));
      if (it == items.end()) continue;
      it->timings.push_back({text(tt->get(), i, 1), text(tt->get(), i, 2), dbl(tt->get(), i, 3)});
    }
    return items;
  }

  core::Status insert_translation(int64_t id, int64_t seq, const TranslationRow& t, bool fill_only = false) {
    const std::string sql =
        std::string("INSERT INTO translations(session_id,seq,language,text,route,stt_final_ms,mt_ms,"
                    "tts_first_audio_ms,tts_ms) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ") +
        (fill_only ? "ON CONFLICT (session_id,seq,language) DO NOTHING"
                   : "ON CONFLICT (session_id,seq,language) DO UPDATE SET text=EXCLUDED.text, route=EXCLUDED.route, "
                     "stt_final_ms=EXCLUDED.stt_final_ms, mt_ms=EXCLUDED.mt_ms, "
                     "tts_first_audio_ms=EXCLUDED.tts_first_audio_ms, tts_ms=EXCLUDED.tts_ms");
    return write_
        .run("add_translation", sql.c_str(),
             {std::to_string(id), std::to_string(seq), t.language, t.text, t.route, num(t.latencies.stt_final_ms),
              num(t.latencies.mt_ms), num(t.latencies.tts_first_audio_ms), num(t.latencies.tts_ms)})
        .status();
  }

  Connection write_;
  Connection read_;
};

}  // namespace

bool is_postgres_address(const std::string& db) {
  return db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0;
}

core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& conninfo) {
  auto store = std::make_unique<PostgresStore>(conninfo);
  if (auto st = store->open(); !st) {
    return core::unavailable("cannot open the PostgreSQL database: " + st.message() +
                             "; check the address (postgresql://user@host:port/dbname), that the server runs, and "
                             "that the user may create tables");
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace parley::store
